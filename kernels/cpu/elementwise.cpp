// CPU elementwise ops: OpenMP over elements or rows; memory bound.
#include "kernels/elementwise.h"

#include <algorithm>
#include <cmath>

namespace gnnrec {

constexpr int64_t kParallelMin = 1 << 15;  // below this, threads cost more than they save

void axpy_cpu(int64_t n, float a, const float* x, float* y) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void scale_cpu(int64_t n, float a, float* x) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) x[i] *= a;
}

void relu_forward_cpu(int64_t n, const float* x, float* y) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = std::max(x[i], 0.0f);
}

void relu_backward_cpu(int64_t n, const float* y, const float* dy, float* dx) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

void l2_normalize_forward_cpu(int64_t rows, int64_t d, const float* x, float* y, float* norms,
                              float eps) {
#pragma omp parallel for schedule(static) if (rows * d > kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * d;
    float ss = 0.0f;
    for (int64_t j = 0; j < d; ++j) ss += xr[j] * xr[j];
    const float nrm = std::max(std::sqrt(ss), eps);
    norms[r] = nrm;
    const float inv = 1.0f / nrm;
    float* yr = y + r * d;
    for (int64_t j = 0; j < d; ++j) yr[j] = xr[j] * inv;
  }
}

void l2_normalize_backward_cpu(int64_t rows, int64_t d, const float* y, const float* norms,
                               const float* dy, float* dx, float eps) {
#pragma omp parallel for schedule(static) if (rows * d > kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const float* yr = y + r * d;
    const float* gr = dy + r * d;
    float* dr = dx + r * d;
    const float inv = 1.0f / norms[r];
    if (norms[r] <= eps) {
      // Clamped norm: y = x / eps is linear in x.
      for (int64_t j = 0; j < d; ++j) dr[j] = gr[j] * inv;
      continue;
    }
    float dot = 0.0f;
    for (int64_t j = 0; j < d; ++j) dot += yr[j] * gr[j];
    for (int64_t j = 0; j < d; ++j) dr[j] = (gr[j] - yr[j] * dot) * inv;
  }
}

void column_sum_cpu(int64_t rows, int64_t d, const float* x, float* out) {
  // Threads own column chunks and walk the rows in order, so every output is summed in row
  // order (deterministic for any thread count) while rows are read contiguously per chunk.
  constexpr int64_t kChunk = 64;
  const int64_t chunks = (d + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (rows * d > kParallelMin && chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t j0 = c * kChunk, j1 = std::min(d, j0 + kChunk);
    float acc[kChunk] = {};
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * d;
      for (int64_t j = j0; j < j1; ++j) acc[j - j0] += xr[j];
    }
    for (int64_t j = j0; j < j1; ++j) out[j] = acc[j - j0];
  }
}

}  // namespace gnnrec
