// CPU index plumbing: OpenMP over rows; memory bound.
#include <cstring>

#include "kernels/index.h"

namespace gnnrec {

void add_offset_i32_cpu(int64_t n, const int32_t* src, int32_t offset, int32_t* out) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) out[i] = src[i] + offset;
}

void gather_i32_cpu(int64_t n, const int32_t* table, const int64_t* idx, int32_t* out) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) out[i] = table[idx[i]];
}

void gather_node_features_cpu(int64_t n, const int32_t* nodes, int32_t num_users, const float* xu,
                              int64_t fu, const float* xi, int64_t fi, float* out) {
  const int64_t w = fu + fi;
#pragma omp parallel for schedule(static) if (n * w > 65536)
  for (int64_t r = 0; r < n; ++r) {
    float* o = out + r * w;
    std::memset(o, 0, sizeof(float) * w);
    const int32_t v = nodes[r];
    if (v < num_users) {
      if (fu) std::memcpy(o, xu + static_cast<int64_t>(v) * fu, sizeof(float) * fu);
    } else if (fi) {
      std::memcpy(o + fu, xi + static_cast<int64_t>(v - num_users) * fi, sizeof(float) * fi);
    }
  }
}

void scatter_rows_cpu(int64_t m, int64_t d, const float* src, const int32_t* ids, float* dst) {
#pragma omp parallel for schedule(static) if (m * d > 65536)
  for (int64_t r = 0; r < m; ++r)
    std::memcpy(dst + static_cast<int64_t>(ids[r]) * d, src + r * d, sizeof(float) * d);
}

void zero_rows_cpu(int64_t m, int64_t d, const int32_t* ids, float* x) {
  // Serial: ids may repeat, and writing zeros twice is harmless but racy under OpenMP tools.
  for (int64_t r = 0; r < m; ++r) std::memset(x + static_cast<int64_t>(ids[r]) * d, 0, sizeof(float) * d);
}

}  // namespace gnnrec
