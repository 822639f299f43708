// CUDA elementwise ops. Grid-stride loops over elements (memory bound); row ops map one warp
// to a row and reduce with shuffles, so any d works (not only multiples of 32).
#include "kernels/cuda/cuda_utils.cuh"
#include "kernels/elementwise.h"

namespace gnnrec {
namespace {

#define GNNREC_GRID_STRIDE(i, n)                                                         \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

__global__ void axpy_kernel(int64_t n, float a, const float* x, float* y) {
  GNNREC_GRID_STRIDE(i, n) y[i] += a * x[i];
}
__global__ void scale_kernel(int64_t n, float a, float* x) {
  GNNREC_GRID_STRIDE(i, n) x[i] *= a;
}
__global__ void relu_forward_kernel(int64_t n, const float* x, float* y) {
  GNNREC_GRID_STRIDE(i, n) y[i] = fmaxf(x[i], 0.0f);
}
__global__ void relu_backward_kernel(int64_t n, const float* y, const float* dy, float* dx) {
  GNNREC_GRID_STRIDE(i, n) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

// One warp per row.
__global__ void l2_forward_kernel(int64_t rows, int64_t d, const float* x, float* y, float* norms,
                                  float eps) {
  const int64_t row = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / cuda::kWarp;
  const int lane = threadIdx.x % cuda::kWarp;
  if (row >= rows) return;
  const float* xr = x + row * d;
  float ss = 0.0f;
  for (int64_t j = lane; j < d; j += cuda::kWarp) ss += xr[j] * xr[j];
  ss = cuda::warp_sum(ss);
  const float nrm = fmaxf(sqrtf(ss), eps);
  if (lane == 0) norms[row] = nrm;
  const float inv = 1.0f / nrm;
  float* yr = y + row * d;
  for (int64_t j = lane; j < d; j += cuda::kWarp) yr[j] = xr[j] * inv;
}

__global__ void l2_backward_kernel(int64_t rows, int64_t d, const float* y, const float* norms,
                                   const float* dy, float* dx, float eps) {
  const int64_t row = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / cuda::kWarp;
  const int lane = threadIdx.x % cuda::kWarp;
  if (row >= rows) return;
  const float* yr = y + row * d;
  const float* gr = dy + row * d;
  float* dr = dx + row * d;
  const float inv = 1.0f / norms[row];
  float dot = 0.0f;
  if (norms[row] > eps) {
    for (int64_t j = lane; j < d; j += cuda::kWarp) dot += yr[j] * gr[j];
    dot = cuda::warp_sum(dot);
  }
  for (int64_t j = lane; j < d; j += cuda::kWarp) dr[j] = (gr[j] - yr[j] * dot) * inv;
}

// One thread per column, rows in order: the same summation order as the CPU.
__global__ void column_sum_kernel(int64_t rows, int64_t d, const float* x, float* out) {
  GNNREC_GRID_STRIDE(j, d) {
    float acc = 0.0f;
    for (int64_t r = 0; r < rows; ++r) acc += x[r * d + j];
    out[j] = acc;
  }
}

constexpr int kBlock = 256;

}  // namespace

void axpy_cuda(int64_t n, float a, const float* x, float* y, Stream s) {
  if (n == 0) return;
  axpy_kernel<<<cuda::grid_for(n, kBlock), kBlock, 0, cuda::as_cuda(s)>>>(n, a, x, y);
  GNNREC_CUDA_LAUNCH_CHECK();
}
void scale_cuda(int64_t n, float a, float* x, Stream s) {
  if (n == 0) return;
  scale_kernel<<<cuda::grid_for(n, kBlock), kBlock, 0, cuda::as_cuda(s)>>>(n, a, x);
  GNNREC_CUDA_LAUNCH_CHECK();
}
void relu_forward_cuda(int64_t n, const float* x, float* y, Stream s) {
  if (n == 0) return;
  relu_forward_kernel<<<cuda::grid_for(n, kBlock), kBlock, 0, cuda::as_cuda(s)>>>(n, x, y);
  GNNREC_CUDA_LAUNCH_CHECK();
}
void relu_backward_cuda(int64_t n, const float* y, const float* dy, float* dx, Stream s) {
  if (n == 0) return;
  relu_backward_kernel<<<cuda::grid_for(n, kBlock), kBlock, 0, cuda::as_cuda(s)>>>(n, y, dy, dx);
  GNNREC_CUDA_LAUNCH_CHECK();
}
void l2_normalize_forward_cuda(int64_t rows, int64_t d, const float* x, float* y, float* norms,
                               float eps, Stream s) {
  if (rows == 0) return;
  const int64_t threads = rows * cuda::kWarp;
  l2_forward_kernel<<<static_cast<int>((threads + kBlock - 1) / kBlock), kBlock, 0,
                      cuda::as_cuda(s)>>>(rows, d, x, y, norms, eps);
  GNNREC_CUDA_LAUNCH_CHECK();
}
void l2_normalize_backward_cuda(int64_t rows, int64_t d, const float* y, const float* norms,
                                const float* dy, float* dx, float eps, Stream s) {
  if (rows == 0) return;
  const int64_t threads = rows * cuda::kWarp;
  l2_backward_kernel<<<static_cast<int>((threads + kBlock - 1) / kBlock), kBlock, 0,
                       cuda::as_cuda(s)>>>(rows, d, y, norms, dy, dx, eps);
  GNNREC_CUDA_LAUNCH_CHECK();
}
void column_sum_cuda(int64_t rows, int64_t d, const float* x, float* out, Stream s) {
  if (d == 0) return;
  column_sum_kernel<<<cuda::grid_for(d, kBlock), kBlock, 0, cuda::as_cuda(s)>>>(rows, d, x, out);
  GNNREC_CUDA_LAUNCH_CHECK();
}

}  // namespace gnnrec
