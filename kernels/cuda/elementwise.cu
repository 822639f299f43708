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

// Column sums in two passes with a fixed order (deterministic): pass 1 gives each (column, chunk
// of kColumnSumChunk rows) to one thread, which sums the chunk's rows in order (a warp covers 32
// consecutive columns, so each row's read is coalesced); pass 2 sums a column's chunk partials
// in chunk order. Replaces one thread per column over all rows, which ran at 0.07% of the
// H200's bandwidth (bench/results/2026-11-30-h200).
constexpr int kColumnSumChunk = 256;
constexpr int kColumnSumChunksPerBlock = 8;

__global__ void column_sum_partial_kernel(int64_t rows, int64_t d, int64_t chunks, const float* x,
                                          float* partial) {
  const int64_t j = blockIdx.x * static_cast<int64_t>(cuda::kWarp) + threadIdx.x;
  const int64_t c = blockIdx.y * static_cast<int64_t>(kColumnSumChunksPerBlock) + threadIdx.y;
  if (j >= d || c >= chunks) return;
  const int64_t r0 = c * kColumnSumChunk;
  const int64_t r1 = r0 + kColumnSumChunk < rows ? r0 + kColumnSumChunk : rows;
  float acc = 0.0f;
#pragma unroll 8
  for (int64_t r = r0; r < r1; ++r) acc += x[r * d + j];
  partial[c * d + j] = acc;
}

__global__ void column_sum_final_kernel(int64_t d, int64_t chunks, const float* partial,
                                        float* out) {
  GNNREC_GRID_STRIDE(j, d) {
    float acc = 0.0f;
#pragma unroll 8
    for (int64_t c = 0; c < chunks; ++c) acc += partial[c * d + j];
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
size_t column_sum_cuda_workspace_bytes(int64_t rows, int64_t d) {
  const int64_t chunks = (rows + kColumnSumChunk - 1) / kColumnSumChunk;
  return static_cast<size_t>(chunks * d) * sizeof(float);
}

void column_sum_cuda(int64_t rows, int64_t d, const float* x, float* out, void* workspace,
                     Stream s) {
  if (d == 0) return;
  const cudaStream_t st = cuda::as_cuda(s);
  const int64_t chunks = (rows + kColumnSumChunk - 1) / kColumnSumChunk;
  if (chunks == 0) {
    GNNREC_CUDA_CHECK(cudaMemsetAsync(out, 0, static_cast<size_t>(d) * sizeof(float), st));
    return;
  }
  float* partial = static_cast<float*>(workspace);
  const dim3 block(cuda::kWarp, kColumnSumChunksPerBlock);
  const dim3 grid(static_cast<unsigned>((d + cuda::kWarp - 1) / cuda::kWarp),
                  static_cast<unsigned>((chunks + kColumnSumChunksPerBlock - 1) /
                                        kColumnSumChunksPerBlock));
  column_sum_partial_kernel<<<grid, block, 0, st>>>(rows, d, chunks, x, partial);
  GNNREC_CUDA_LAUNCH_CHECK();
  column_sum_final_kernel<<<cuda::grid_for(d, kBlock), kBlock, 0, st>>>(d, chunks, partial, out);
  GNNREC_CUDA_LAUNCH_CHECK();
}

}  // namespace gnnrec
