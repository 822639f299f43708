// CUDA pieces of the MLP scoring head (kernels/mlp.h). One thread per (pair, column), grid-stride:
// consecutive threads touch consecutive columns of the same rows, so loads and stores coalesce.
// Memory bound; explicit rounding gives the CPU's bits.
#include "kernels/cuda/cuda_utils.cuh"
#include "kernels/mlp.h"
#include "kernels/nn_math.h"

namespace gnnrec {
namespace {

#define GNNREC_GRID_STRIDE(i, n)                                                         \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

__global__ void mlp_input_kernel(int64_t P, int64_t d, const float* __restrict__ Z,
                                 const int32_t* __restrict__ a_idx,
                                 const int32_t* __restrict__ b_idx, float* __restrict__ x) {
  GNNREC_GRID_STRIDE(t, P * d) {
    const int64_t p = t / d, c = t % d;
    const float za = __ldg(Z + static_cast<int64_t>(__ldg(a_idx + p)) * d + c);
    const float zb = __ldg(Z + static_cast<int64_t>(__ldg(b_idx + p)) * d + c);
    float* xp = x + p * 3 * d;
    xp[c] = za;
    xp[d + c] = zb;
    xp[2 * d + c] = __fmul_rn(za, zb);
  }
}

__global__ void mlp_input_backward_kernel(int64_t P, int64_t d, const float* __restrict__ Z,
                                          const int32_t* __restrict__ a_idx,
                                          const int32_t* __restrict__ b_idx,
                                          const float* __restrict__ dx,
                                          float* __restrict__ slot_grad,
                                          int32_t* __restrict__ keys) {
  GNNREC_GRID_STRIDE(t, P * d) {
    const int64_t p = t / d, c = t % d;
    const int32_t a = __ldg(a_idx + p), b = __ldg(b_idx + p);
    const float za = __ldg(Z + static_cast<int64_t>(a) * d + c);
    const float zb = __ldg(Z + static_cast<int64_t>(b) * d + c);
    const float* g = dx + p * 3 * d;
    slot_grad[2 * p * d + c] = nn_add(g[c], nn_mul(g[2 * d + c], zb));
    slot_grad[(2 * p + 1) * d + c] = nn_add(g[d + c], nn_mul(g[2 * d + c], za));
    if (c == 0) {
      keys[2 * p] = a;
      keys[2 * p + 1] = b;
    }
  }
}

}  // namespace

void mlp_head_input_cuda(int64_t P, int64_t d, const float* Z, const int32_t* a_idx,
                         const int32_t* b_idx, float* x, Stream stream) {
  if (P * d == 0) return;
  mlp_input_kernel<<<cuda::grid_for(P * d, 256), 256, 0, cuda::as_cuda(stream)>>>(P, d, Z, a_idx,
                                                                                  b_idx, x);
  GNNREC_CUDA_LAUNCH_CHECK();
}

void mlp_head_input_backward_cuda(int64_t P, int64_t d, const float* Z, const int32_t* a_idx,
                                  const int32_t* b_idx, const float* dx, float* slot_grad,
                                  int32_t* keys, Stream stream) {
  if (P * d == 0) return;  // the op requires d >= 1 (keys are written with column 0)
  mlp_input_backward_kernel<<<cuda::grid_for(P * d, 256), 256, 0, cuda::as_cuda(stream)>>>(
      P, d, Z, a_idx, b_idx, dx, slot_grad, keys);
  GNNREC_CUDA_LAUNCH_CHECK();
}

}  // namespace gnnrec
