// CPU optimisers (kernels/optim.h): OpenMP over elements, memory bound (Adam streams 4 arrays in
// and 3 out). The element update is the shared adam_update, so results equal the CUDA kernel's.
#include "kernels/optim.h"

#include <algorithm>

namespace gnnrec {

constexpr int64_t kParallelMin = 1 << 15;

void adam_step_cpu(const AdamTensor* tensors, int n_tensors, const AdamStepScalars& s) {
  for (int t = 0; t < n_tensors; ++t) {
    const AdamTensor& a = tensors[t];
#pragma omp parallel for schedule(static) if (a.n > kParallelMin)
    for (int64_t i = 0; i < a.n; ++i) adam_update(a.param[i], a.grad[i], a.m[i], a.v[i], s);
  }
}

void sparse_adam_step_cpu(int64_t r, int64_t d, const int32_t* ids, const float* grad_rows,
                          float* table, float* m, float* v, const AdamStepScalars& s, float l2) {
#pragma omp parallel for schedule(static) if (r * d > kParallelMin)
  for (int64_t i = 0; i < r; ++i) {
    const int64_t off = static_cast<int64_t>(ids[i]) * d;
    for (int64_t c = 0; c < d; ++c) {
      const float g = nn_add(grad_rows[i * d + c], nn_mul(l2, table[off + c]));
      adam_update(table[off + c], g, m[off + c], v[off + c], s);
    }
  }
}

void sgd_step_cpu(int64_t n, float* param, const float* grad, float lr, float weight_decay) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    param[i] = nn_add(param[i], -nn_mul(lr, nn_add(grad[i], nn_mul(weight_decay, param[i]))));
  }
}

double sum_of_squares_cpu(const float* x, int64_t n) {
  constexpr int kStripes = 64;  // fixed, so the combine order does not depend on the threads
  double part[kStripes];
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int s = 0; s < kStripes; ++s) {
    const int64_t begin = n * s / kStripes, end = n * (s + 1) / kStripes;
    double acc = 0.0;
    for (int64_t i = begin; i < end; ++i) acc += static_cast<double>(x[i]) * x[i];
    part[s] = acc;
  }
  double total = 0.0;
  for (double p : part) total += p;
  return total;
}

}  // namespace gnnrec
