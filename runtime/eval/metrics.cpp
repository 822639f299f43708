#include "runtime/eval/metrics.h"

#include <algorithm>
#include <cmath>

#include "runtime/ops_topk.h"

namespace gnnrec {
namespace {

enum Metric { kPrecision, kRecall, kNdcg, kHit, kMrr, kMap, kNumMetrics };

// 1 / log2(rank + 2) for rank = 0, 1, ...: the DCG discount of a 0-based rank.
double discount(int64_t rank) { return 1.0 / std::log2(static_cast<double>(rank) + 2.0); }

bool in_truth(int32_t item, const int32_t* truth, int64_t n) {
  return item >= 0 && std::binary_search(truth, truth + n, item);
}

}  // namespace

const std::vector<std::string>& ranking_metric_names() {
  static const std::vector<std::string> names{"precision", "recall", "ndcg",     "hit",
                                              "mrr",       "map",    "coverage", "popularity"};
  return names;
}

RankingAccumulator::RankingAccumulator(std::vector<int> ks, int64_t num_items,
                                       std::vector<int64_t> item_degree)
    : ks_(std::move(ks)), num_items_(num_items), degree_(std::move(item_degree)) {
  GNNREC_EXPECTS(!ks_.empty(), "ranking metrics: no K given");
  for (int k : ks_) GNNREC_EXPECTS(k >= 1, "ranking metrics: K must be >= 1, got {}", k);
  GNNREC_EXPECTS(degree_.empty() || static_cast<int64_t>(degree_.size()) == num_items,
                 "ranking metrics: {} item degrees for {} items", degree_.size(), num_items);
  max_k_ = *std::max_element(ks_.begin(), ks_.end());
  sums_.assign(ks_.size(), std::vector<double>(kNumMetrics, 0.0));
  pop_sum_.assign(ks_.size(), 0.0);
  pop_count_.assign(ks_.size(), 0);
  covered_.assign(ks_.size(), std::vector<uint8_t>(static_cast<size_t>(num_items), 0));
  covered_count_.assign(ks_.size(), 0);
}

void RankingAccumulator::add(const int32_t* ranked, int64_t len, const int32_t* truth,
                             int64_t n_truth) {
  if (n_truth <= 0) {
    ++skipped_;
    return;
  }
  ++users_;
  for (size_t ki = 0; ki < ks_.size(); ++ki) {
    const int K = ks_[ki];
    int64_t hits = 0, first_hit = -1;
    double dcg = 0.0, ap = 0.0;
    for (int64_t r = 0; r < K && r < len; ++r) {
      const int32_t item = ranked[r];
      if (item >= 0 && item < num_items_) {
        if (!covered_[ki][item]) {
          covered_[ki][item] = 1;
          ++covered_count_[ki];
        }
        if (!degree_.empty()) {
          pop_sum_[ki] += static_cast<double>(degree_[item]);
          ++pop_count_[ki];
        }
      }
      if (!in_truth(item, truth, n_truth)) continue;
      ++hits;
      if (first_hit < 0) first_hit = r;
      dcg += discount(r);
      ap += static_cast<double>(hits) / static_cast<double>(r + 1);
    }
    double idcg = 0.0;
    const int64_t ideal = std::min<int64_t>(n_truth, K);
    for (int64_t r = 0; r < ideal; ++r) idcg += discount(r);
    std::vector<double>& s = sums_[ki];
    s[kPrecision] += static_cast<double>(hits) / K;
    s[kRecall] += static_cast<double>(hits) / static_cast<double>(n_truth);
    s[kNdcg] += dcg / idcg;
    s[kHit] += hits > 0 ? 1.0 : 0.0;
    s[kMrr] += first_hit >= 0 ? 1.0 / static_cast<double>(first_hit + 1) : 0.0;
    s[kMap] += ap / static_cast<double>(ideal);
  }
}

RankingMetrics RankingAccumulator::result() const {
  RankingMetrics m;
  m.users = users_;
  m.skipped = skipped_;
  const double n = users_ > 0 ? static_cast<double>(users_) : 1.0;
  static const char* kNames[kNumMetrics] = {"precision", "recall", "ndcg", "hit", "mrr", "map"};
  for (size_t ki = 0; ki < ks_.size(); ++ki) {
    const std::string at = "@" + std::to_string(ks_[ki]);
    for (int j = 0; j < kNumMetrics; ++j) m.values[kNames[j] + at] = sums_[ki][j] / n;
    m.values["coverage" + at] =
        num_items_ > 0 ? static_cast<double>(covered_count_[ki]) / num_items_ : 0.0;
    if (!degree_.empty()) {
      m.values["popularity" + at] =
          pop_count_[ki] > 0 ? pop_sum_[ki] / static_cast<double>(pop_count_[ki]) : 0.0;
    }
  }
  return m;
}

RankingCurve::RankingCurve(int max_k)
    : max_k_(max_k), recall_sum_(std::max(max_k, 0), 0.0), ndcg_sum_(std::max(max_k, 0), 0.0) {}

void RankingCurve::add(const int32_t* ranked, int64_t len, const int32_t* truth, int64_t n_truth) {
  if (n_truth <= 0) return;
  ++users_;
  int64_t hits = 0;
  double dcg = 0.0, idcg = 0.0;
  for (int64_t r = 0; r < max_k_; ++r) {
    if (r < len && in_truth(ranked[r], truth, n_truth)) {
      ++hits;
      dcg += discount(r);
    }
    if (r < n_truth) idcg += discount(r);
    recall_sum_[r] += static_cast<double>(hits) / static_cast<double>(n_truth);
    ndcg_sum_[r] += dcg / idcg;
  }
}

std::vector<double> RankingCurve::recall() const {
  std::vector<double> v(recall_sum_);
  for (double& x : v) x /= users_ > 0 ? static_cast<double>(users_) : 1.0;
  return v;
}

std::vector<double> RankingCurve::ndcg() const {
  std::vector<double> v(ndcg_sum_);
  for (double& x : v) x /= users_ > 0 ? static_cast<double>(users_) : 1.0;
  return v;
}

Csr csr_from_pairs(int64_t rows, const std::vector<int32_t>& row, const std::vector<int32_t>& col) {
  Csr c = build_csr(rows, row, col);
  Csr out;
  out.indptr.assign(rows + 1, 0);
  out.indices.reserve(c.indices.size());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = c.indptr[r]; k < c.indptr[r + 1]; ++k) {
      if (k > c.indptr[r] && c.indices[k] == c.indices[k - 1]) continue;
      out.indices.push_back(c.indices[k]);
    }
    out.indptr[r + 1] = static_cast<int64_t>(out.indices.size());
  }
  return out;
}

Csr csr_union(const Csr& a, const Csr& b) {
  GNNREC_EXPECTS(a.rows() == b.rows(), "csr_union: {} rows vs {}", a.rows(), b.rows());
  Csr out;
  const int64_t rows = a.rows();
  out.indptr.assign(rows + 1, 0);
  out.indices.reserve(a.indices.size() + b.indices.size());
  std::vector<int32_t> tmp;
  for (int64_t r = 0; r < rows; ++r) {
    tmp.clear();
    std::set_union(a.indices.begin() + a.indptr[r], a.indices.begin() + a.indptr[r + 1],
                   b.indices.begin() + b.indptr[r], b.indices.begin() + b.indptr[r + 1],
                   std::back_inserter(tmp));
    tmp.erase(std::unique(tmp.begin(), tmp.end()), tmp.end());
    out.indices.insert(out.indices.end(), tmp.begin(), tmp.end());
    out.indptr[r + 1] = static_cast<int64_t>(out.indices.size());
  }
  return out;
}

void gather_csr_rows(const Csr& c, const std::vector<int32_t>& users, Tensor& indptr,
                     Tensor& indices) {
  const int64_t n = static_cast<int64_t>(users.size());
  int64_t nnz = 0;
  for (int32_t u : users) {
    GNNREC_EXPECTS(u >= 0 && u < c.rows(), "gather_csr_rows: row {} outside [0, {})", u, c.rows());
    nnz += c.degree(u);
  }
  indptr = Tensor::empty({n + 1}, DType::kI64);
  indices = Tensor::empty({nnz}, DType::kI32);
  int64_t* p = indptr.data<int64_t>();
  int32_t* x = indices.data<int32_t>();
  p[0] = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t u = users[i];
    const int64_t deg = c.degree(u);
    std::copy(c.indices.begin() + c.indptr[u], c.indices.begin() + c.indptr[u] + deg, x + p[i]);
    p[i + 1] = p[i] + deg;
  }
}

RankingMetrics evaluate_ranking(const Tensor& user_emb, const Tensor& item_emb, const Csr& exclude,
                                const Csr& truth, const std::vector<int>& ks, int64_t batch_users) {
  GNNREC_EXPECTS(user_emb.ndim() == 2 && item_emb.ndim() == 2 && user_emb.dim(1) == item_emb.dim(1),
                 "evaluate_ranking: embeddings {} and {} must be [U, d] and [I, d]",
                 shape_str(user_emb.shape()), shape_str(item_emb.shape()));
  GNNREC_EXPECTS(user_emb.device() == item_emb.device(),
                 "evaluate_ranking: user embeddings on {}, item embeddings on {}",
                 user_emb.device().str(), item_emb.device().str());
  const int64_t U = user_emb.dim(0), I = item_emb.dim(0), d = user_emb.dim(1);
  GNNREC_EXPECTS(exclude.rows() == U && truth.rows() == U,
                 "evaluate_ranking: {} users, but the exclusion CSR has {} rows and the truth {}",
                 U, exclude.rows(), truth.rows());
  GNNREC_EXPECTS(batch_users >= 1, "evaluate_ranking: batch_users must be >= 1");
  RankingAccumulator acc(ks, I);
  const int K = acc.max_k();
  const Device dev = item_emb.device();
  // Users are gathered on the host (U x d is small next to the ranking work) and each batch is
  // uploaded; only users with truth items are ranked.
  const Tensor users_host = user_emb.device().is_cpu() ? user_emb : user_emb.to(Device::cpu());
  std::vector<int32_t> eval_users;
  for (int64_t u = 0; u < U; ++u) {
    if (truth.degree(u) > 0) eval_users.push_back(static_cast<int32_t>(u));
  }
  const int64_t n_eval = static_cast<int64_t>(eval_users.size());
  for (int64_t b0 = 0; b0 < n_eval; b0 += batch_users) {
    const int64_t bn = std::min(batch_users, n_eval - b0);
    std::vector<int32_t> batch(eval_users.begin() + b0, eval_users.begin() + b0 + bn);
    Tensor q = Tensor::empty({bn, d}, DType::kF32);
    for (int64_t i = 0; i < bn; ++i) {
      std::copy(users_host.data<float>() + batch[i] * d,
                users_host.data<float>() + (batch[i] + 1) * d, q.data<float>() + i * d);
    }
    Tensor indptr, indices;
    gather_csr_rows(exclude, batch, indptr, indices);
    Tensor ids = Tensor::empty({bn, K}, DType::kI32, dev);
    Tensor scores = Tensor::empty({bn, K}, DType::kF32, dev);
    topk_masked(q.to(dev), item_emb, indptr.to(dev), indices.to(dev), K, ids, scores);
    const std::vector<int32_t> h = ids.to_vector<int32_t>();
    for (int64_t i = 0; i < bn; ++i) {
      const int32_t u = batch[i];
      acc.add(h.data() + i * K, K, truth.indices.data() + truth.indptr[u], truth.degree(u));
    }
  }
  RankingMetrics m = acc.result();
  m.skipped = U - n_eval;
  return m;
}

}  // namespace gnnrec
