// Ranking metrics for top-K recommendation (definitions and formulas in docs/metrics.md).
// For each K: precision, recall (denominator = the user's number of truth items, as in
// LightGCN's evaluation code), NDCG (binary relevance, ideal DCG over min(|truth|, K)), hit
// rate, MRR, MAP, item coverage and, when item degrees are given, the average training degree
// ("popularity") of the recommended items. Users without truth items are skipped and counted.
// Per-user values are summed in double in the order users are added, so the result does not
// depend on how users were batched.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/data/dataset.h"
#include "runtime/tensor.h"

namespace gnnrec {

struct RankingMetrics {
  std::map<std::string, double> values;  // keys like "recall@20", "ndcg@20"
  int64_t users = 0;                     // users evaluated (with at least one truth item)
  int64_t skipped = 0;                   // users offered but skipped (no truth items)
};

// Metric names in report order (each appears as "<name>@K").
const std::vector<std::string>& ranking_metric_names();

class RankingAccumulator {
 public:
  // `ks` positive; `num_items` sizes coverage; `item_degree` (optional, [num_items]) enables
  // popularity@K.
  RankingAccumulator(std::vector<int> ks, int64_t num_items, std::vector<int64_t> item_degree = {});

  // One user's ranking, best first: `ranked[0, len)` item ids, -1 = padding (positions beyond
  // len count as padding). `truth[0, n_truth)` sorted ascending, unique. n_truth == 0: skipped.
  void add(const int32_t* ranked, int64_t len, const int32_t* truth, int64_t n_truth);

  RankingMetrics result() const;
  int max_k() const { return max_k_; }

 private:
  std::vector<int> ks_;
  int max_k_ = 0;
  int64_t num_items_ = 0;
  std::vector<int64_t> degree_;
  int64_t users_ = 0, skipped_ = 0;
  // [k index][metric]: precision, recall, ndcg, hit, mrr, map sums; popularity sum and count.
  std::vector<std::vector<double>> sums_;
  std::vector<double> pop_sum_;
  std::vector<int64_t> pop_count_;
  std::vector<std::vector<uint8_t>> covered_;  // [k index][item]
  std::vector<int64_t> covered_count_;
};

// Per-rank curves: recall@k and ndcg@k for every k in [1, max_k], averaged over users with
// truth (same definitions as above).
class RankingCurve {
 public:
  explicit RankingCurve(int max_k);
  void add(const int32_t* ranked, int64_t len, const int32_t* truth, int64_t n_truth);
  std::vector<double> recall() const;
  std::vector<double> ndcg() const;
  int64_t users() const { return users_; }

 private:
  int max_k_;
  int64_t users_ = 0;
  std::vector<double> recall_sum_, ndcg_sum_;
};

// Full ranking over all items with the given exclusion (CSR per user) and ground truth (CSR per
// user), streaming users in batches through topk_masked on the embeddings' device. Only users
// with truth items are ranked (the others are counted as skipped), so a truth CSR with empty
// rows selects a subset of users. user_emb [U, d] and item_emb [I, d] f32 (any device, both
// the same); exclude and truth have U rows of item ids in [0, I), sorted within rows.
RankingMetrics evaluate_ranking(const Tensor& user_emb, const Tensor& item_emb, const Csr& exclude,
                                const Csr& truth, const std::vector<int>& ks,
                                int64_t batch_users = 4096);

// Helpers shared by the evaluator, `gnnrec recommend` and `gnnrec eval`.
// A CSR of `rows` rows from (row, col) pairs with each row sorted and de-duplicated.
Csr csr_from_pairs(int64_t rows, const std::vector<int32_t>& row, const std::vector<int32_t>& col);
// Row-wise union of two CSRs with the same number of rows (sorted, de-duplicated).
Csr csr_union(const Csr& a, const Csr& b);
// The exclusion lists of `users` (in order), as tensors for topk_masked: indptr i64
// [n + 1] starting at 0, indices i32.
void gather_csr_rows(const Csr& c, const std::vector<int32_t>& users, Tensor& indptr,
                     Tensor& indices);

}  // namespace gnnrec
