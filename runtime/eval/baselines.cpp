#include "runtime/eval/baselines.h"

#include <algorithm>
#include <numeric>

#include "kernels/philox.h"
#include "runtime/error.h"

namespace gnnrec {
namespace {

bool excluded(const Csr& c, int32_t u, int32_t item) {
  return std::binary_search(c.indices.begin() + c.indptr[u], c.indices.begin() + c.indptr[u + 1],
                            item);
}

// Distinct in-range ids of a sorted row.
int64_t distinct_in_range(const Csr& c, int32_t u, int64_t n) {
  int64_t count = 0;
  for (int64_t k = c.indptr[u]; k < c.indptr[u + 1]; ++k) {
    const int32_t x = c.indices[k];
    if (x >= 0 && x < n && (k == c.indptr[u] || c.indices[k - 1] != x)) ++count;
  }
  return count;
}

}  // namespace

void most_popular_topk(const std::vector<int64_t>& item_degree, const Csr& exclude,
                       const std::vector<int32_t>& users, int K, std::vector<int32_t>& out) {
  GNNREC_EXPECTS(K >= 1, "most_popular_topk: K must be >= 1");
  const int64_t I = static_cast<int64_t>(item_degree.size());
  std::vector<int32_t> order(I);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return item_degree[a] > item_degree[b]; });
  out.assign(users.size() * K, -1);
#pragma omp parallel for schedule(dynamic, 64)
  for (int64_t i = 0; i < static_cast<int64_t>(users.size()); ++i) {
    int filled = 0;
    for (int64_t r = 0; r < I && filled < K; ++r) {
      if (!excluded(exclude, users[i], order[r])) out[i * K + filled++] = order[r];
    }
  }
}

void random_topk(int64_t num_items, const Csr& exclude, const std::vector<int32_t>& users, int K,
                 uint64_t seed, std::vector<int32_t>& out) {
  GNNREC_EXPECTS(K >= 1, "random_topk: K must be >= 1");
  GNNREC_EXPECTS(num_items <= UINT32_MAX, "random_topk: {} items", num_items);
  out.assign(users.size() * K, -1);
#pragma omp parallel for schedule(dynamic, 64)
  for (int64_t i = 0; i < static_cast<int64_t>(users.size()); ++i) {
    const int32_t u = users[i];
    const RngKey key{seed, kRngPurposeEvalRandom, 0, static_cast<uint32_t>(u)};
    const int64_t cand = num_items - distinct_in_range(exclude, u, num_items);
    const int take = static_cast<int>(std::min<int64_t>(K, cand));
    int32_t* row = out.data() + i * K;
    uint64_t draw = 0;
    if (cand <= 4 * static_cast<int64_t>(K)) {
      // Few candidates: list them and run a partial Fisher-Yates shuffle.
      std::vector<int32_t> pool;
      pool.reserve(cand);
      for (int64_t j = 0; j < num_items; ++j) {
        if (!excluded(exclude, u, static_cast<int32_t>(j))) pool.push_back(static_cast<int32_t>(j));
      }
      for (int t = 0; t < take; ++t) {
        const uint32_t span = static_cast<uint32_t>(pool.size() - t);
        const uint32_t pick = t + rng_below(rng_draw(key, draw++).v[0], span);
        std::swap(pool[t], pool[pick]);
        row[t] = pool[t];
      }
    } else {
      // Many candidates: rejection sampling (at most 1/0.75 draws per item on average).
      std::vector<int32_t> chosen;  // sorted, for the duplicate check
      int t = 0;
      while (t < take) {
        const int32_t j = static_cast<int32_t>(
            rng_below(rng_draw(key, draw++).v[0], static_cast<uint32_t>(num_items)));
        if (excluded(exclude, u, j)) continue;
        auto it = std::lower_bound(chosen.begin(), chosen.end(), j);
        if (it != chosen.end() && *it == j) continue;
        chosen.insert(it, j);
        row[t++] = j;
      }
    }
  }
}

}  // namespace gnnrec
