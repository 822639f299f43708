// CPU random permutation and unique-with-inverse (reference; see kernels/permute.h).
// Both are one sort of (key, index) pairs: O(n log n), bound by the sort.
#include "kernels/permute.h"

#include <algorithm>
#include <utility>

namespace gnnrec {

size_t random_permutation_workspace_bytes_cpu(int64_t n) {
  return static_cast<size_t>(n) * sizeof(std::pair<uint64_t, int64_t>);
}

void random_permutation_cpu(int64_t n, const RngKey& key, int64_t* out, void* workspace) {
  auto* pairs = static_cast<std::pair<uint64_t, int64_t>*>(workspace);
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) pairs[i] = {permutation_sort_key(key, i), i};
  std::sort(pairs, pairs + n);
  for (int64_t i = 0; i < n; ++i) out[i] = pairs[i].second;
}

void user_uniform_edges_cpu(int64_t n, const RngKey& key, const int32_t* active,
                            int64_t num_active, const int64_t* indptr, const int64_t* edge_ids,
                            int64_t* out) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i)
    out[i] = user_uniform_edge(key, static_cast<uint64_t>(i), active, num_active, indptr, edge_ids);
}

size_t unique_workspace_bytes_cpu(int64_t n) {
  return static_cast<size_t>(n) * sizeof(std::pair<int32_t, int32_t>);
}

void unique_with_inverse_cpu(int64_t n, const int32_t* ids, int32_t* unique, int32_t* inverse,
                             int32_t* num_unique, void* workspace) {
  auto* pairs = static_cast<std::pair<int32_t, int32_t>*>(workspace);
  for (int64_t i = 0; i < n; ++i) pairs[i] = {ids[i], static_cast<int32_t>(i)};
  std::sort(pairs, pairs + n);
  int32_t u = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (i == 0 || pairs[i].first != pairs[i - 1].first) unique[++u] = pairs[i].first;
    inverse[pairs[i].second] = u;
  }
  *num_unique = u + 1;
}

}  // namespace gnnrec
