// CUDA random fills: one thread per element computing its own Philox block (compute bound,
// 10 rounds of 2 multiplies); grid-stride so any n works.
#include "kernels/cuda/cuda_utils.cuh"
#include "kernels/nn_math.h"
#include "kernels/random.h"

namespace gnnrec {
namespace {

__global__ void rng_bits_kernel(RngKey key, uint64_t first, int64_t n, uint32_t* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = rng_draw(key, first + i).v[0];
}

__global__ void rng_uniform_kernel(RngKey key, uint64_t first, int64_t n, float lo, float hi,
                                   float* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    // nn_add/nn_mul: nvcc would contract lo + (hi - lo) * u into one FMA (one rounding), the
    // host does not (two), and the contract promises the CPU's bits.
    out[i] = nn_add(lo, nn_mul(hi - lo, rng_uniform01(rng_draw(key, first + i).v[0])));
}

__global__ void dropout_kernel(RngKey key, uint64_t first, int64_t n, float p, float scale,
                               const float* x, float* y) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = dropout_keep(key, first + i, p) ? x[i] * scale : 0.0f;
}

}  // namespace

void dropout_cuda(const RngKey& key, uint64_t first, int64_t n, float p, float scale,
                  const float* x, float* y, Stream s) {
  if (n == 0) return;
  dropout_kernel<<<cuda::grid_for(n, 256), 256, 0, cuda::as_cuda(s)>>>(key, first, n, p, scale, x,
                                                                      y);
  GNNREC_CUDA_LAUNCH_CHECK();
}

void rng_bits_cuda(const RngKey& key, uint64_t first, int64_t n, uint32_t* out, Stream s) {
  if (n == 0) return;
  rng_bits_kernel<<<cuda::grid_for(n, 256), 256, 0, cuda::as_cuda(s)>>>(key, first, n, out);
  GNNREC_CUDA_LAUNCH_CHECK();
}

void rng_uniform_cuda(const RngKey& key, uint64_t first, int64_t n, float lo, float hi, float* out,
                      Stream s) {
  if (n == 0) return;
  rng_uniform_kernel<<<cuda::grid_for(n, 256), 256, 0, cuda::as_cuda(s)>>>(key, first, n, lo, hi,
                                                                          out);
  GNNREC_CUDA_LAUNCH_CHECK();
}

}  // namespace gnnrec
