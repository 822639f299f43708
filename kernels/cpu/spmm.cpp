// CPU SpMM (see kernels/spmm.h). One OpenMP task per row block (dynamic: power-law rows); the
// inner loop is an axpy of a gathered x row into the output row, which the compiler vectorises.
// Memory bound (the x gathers); summation order = CSR order, as on the GPU.
#include "kernels/spmm.h"

#include <cmath>
#include <vector>

namespace gnnrec {
namespace {

// Rows of x are gathered at random: prefetching the row kPrefetch entries ahead hides part of
// the memory latency that otherwise bounds this loop.
constexpr int kPrefetch = 8;

template <typename I>
void spmm_rows(int64_t rows, int64_t d, const I* indptr, const int32_t* indices,
               const float* values, const float* __restrict__ x, float* __restrict__ y) {
  const I total = indptr[rows];  // entries are contiguous across rows: prefetch past row ends
#pragma omp parallel for schedule(dynamic, 64) if (rows * d > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    float* __restrict__ yr = y + r * d;
    for (int64_t c = 0; c < d; ++c) yr[c] = 0.0f;
    const I end = indptr[r + 1];
    for (I j = indptr[r]; j < end; ++j) {
      if (j + kPrefetch < total) {
        const char* p =
            reinterpret_cast<const char*>(x + static_cast<int64_t>(indices[j + kPrefetch]) * d);
        for (int64_t b = 0; b < d * 4; b += 64) __builtin_prefetch(p + b);
      }
      const float v = values ? values[j] : 1.0f;
      const float* __restrict__ xr = x + static_cast<int64_t>(indices[j]) * d;
      for (int64_t c = 0; c < d; ++c) yr[c] += v * xr[c];
    }
  }
}

}  // namespace

void spmm_csr_cpu(int64_t rows, int64_t d, const int64_t* indptr, const int32_t* indices,
                  const float* values, const float* x, float* y) {
  spmm_rows(rows, d, indptr, indices, values, x, y);
}

void spmm_csr_cpu(int64_t rows, int64_t d, const int32_t* indptr, const int32_t* indices,
                  const float* values, const float* x, float* y) {
  spmm_rows(rows, d, indptr, indices, values, x, y);
}

void spmm_csr_naive_cpu(int64_t rows, int64_t d, const int64_t* indptr, const int32_t* indices,
                        const float* values, const float* x, float* y) {
  std::vector<double> acc(d);
  for (int64_t r = 0; r < rows; ++r) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t j = indptr[r]; j < indptr[r + 1]; ++j)
      for (int64_t c = 0; c < d; ++c)
        acc[c] += static_cast<double>(values ? values[j] : 1.0f) * x[indices[j] * d + c];
    for (int64_t c = 0; c < d; ++c) y[r * d + c] = static_cast<float>(acc[c]);
  }
}

void symmetric_norm_cpu(int64_t num_nodes, const int64_t* indptr, const int32_t* indices,
                        float* values) {
#pragma omp parallel for schedule(dynamic, 256) if (num_nodes > 16384)
  for (int64_t r = 0; r < num_nodes; ++r) {
    const double dr = static_cast<double>(indptr[r + 1] - indptr[r]);
    for (int64_t j = indptr[r]; j < indptr[r + 1]; ++j) {
      const int64_t c = indices[j];
      const double dc = static_cast<double>(indptr[c + 1] - indptr[c]);
      values[j] = static_cast<float>(1.0 / std::sqrt(dr * dc));
    }
  }
}

}  // namespace gnnrec
