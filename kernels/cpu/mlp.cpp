// CPU pieces of the MLP scoring head (kernels/mlp.h): OpenMP over pairs, memory bound.
#include "kernels/mlp.h"

#include "kernels/nn_math.h"

namespace gnnrec {

void mlp_head_input_cpu(int64_t P, int64_t d, const float* Z, const int32_t* a_idx,
                        const int32_t* b_idx, float* x) {
#pragma omp parallel for schedule(static) if (P * d > 65536)
  for (int64_t p = 0; p < P; ++p) {
    const float* za = Z + static_cast<int64_t>(a_idx[p]) * d;
    const float* zb = Z + static_cast<int64_t>(b_idx[p]) * d;
    float* xp = x + p * 3 * d;
    for (int64_t c = 0; c < d; ++c) {
      xp[c] = za[c];
      xp[d + c] = zb[c];
      xp[2 * d + c] = nn_mul(za[c], zb[c]);
    }
  }
}

void mlp_head_input_backward_cpu(int64_t P, int64_t d, const float* Z, const int32_t* a_idx,
                                 const int32_t* b_idx, const float* dx, float* slot_grad,
                                 int32_t* keys) {
#pragma omp parallel for schedule(static) if (P * d > 65536)
  for (int64_t p = 0; p < P; ++p) {
    const float* za = Z + static_cast<int64_t>(a_idx[p]) * d;
    const float* zb = Z + static_cast<int64_t>(b_idx[p]) * d;
    const float* g = dx + p * 3 * d;
    float* ga = slot_grad + 2 * p * d;
    float* gb = ga + d;
    for (int64_t c = 0; c < d; ++c) {
      ga[c] = nn_add(g[c], nn_mul(g[2 * d + c], zb[c]));
      gb[c] = nn_add(g[d + c], nn_mul(g[2 * d + c], za[c]));
    }
    keys[2 * p] = a_idx[p];
    keys[2 * p + 1] = b_idx[p];
  }
}

}  // namespace gnnrec
