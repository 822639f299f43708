// CUDA optimisers, contract in kernels/optim.h.
//
// Variants:
//  1. adam_multi_tensor_kernel: ONE launch for all dense parameters. The host flattens the tensors
//     into kAdamChunk-element chunks (tensor id, offset); block b takes chunks b, b + grid, ...
//     and its threads stride through the chunk. Tables live in device scratch. Memory bound:
//     16 bytes in (p, g, m, v) and 12 out per element.
//  2. sparse_adam_kernel: grid-stride over r * d elements of the touched rows only.
//  3. sgd_kernel: grid-stride over elements.
//  4. sum of squares: per tensor a fixed grid of kSsqBlocks blocks writes double partials
//     (strided per-thread sums + shared-memory tree), then one block combines all partials in a
//     fixed order. No atomics: the same value on every run.
#include <vector>

#include "kernels/cuda/cuda_utils.cuh"
#include "kernels/optim.h"

namespace gnnrec {
namespace {

#define GNNREC_GRID_STRIDE(i, n)                                                         \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

constexpr int kBlock = 256;
constexpr int kSsqBlocks = 128;

__global__ void adam_multi_tensor_kernel(const AdamTensor* __restrict__ tensors,
                                         const AdamChunk* __restrict__ chunks, int64_t n_chunks,
                                         AdamStepScalars s) {
  for (int64_t c = blockIdx.x; c < n_chunks; c += gridDim.x) {
    const AdamChunk ch = chunks[c];
    const AdamTensor t = tensors[ch.tensor];
    const int64_t end = min(ch.begin + kAdamChunk, t.n);
    for (int64_t i = ch.begin + threadIdx.x; i < end; i += blockDim.x) {
      float p = t.param[i], m = t.m[i], v = t.v[i];
      adam_update(p, t.grad[i], m, v, s);
      t.param[i] = p;
      t.m[i] = m;
      t.v[i] = v;
    }
  }
}

__global__ void sparse_adam_kernel(int64_t r, int64_t d, const int32_t* __restrict__ ids,
                                   const float* __restrict__ grad_rows, float* __restrict__ table,
                                   float* __restrict__ m, float* __restrict__ v, AdamStepScalars s,
                                   float l2) {
  GNNREC_GRID_STRIDE(e, r * d) {
    const int64_t i = e / d, c = e % d;
    const int64_t off = static_cast<int64_t>(__ldg(ids + i)) * d + c;
    float p = table[off], mm = m[off], vv = v[off];
    const float g = nn_add(grad_rows[e], nn_mul(l2, p));
    adam_update(p, g, mm, vv, s);
    table[off] = p;
    m[off] = mm;
    v[off] = vv;
  }
}

__global__ void sgd_kernel(int64_t n, float* __restrict__ param, const float* __restrict__ grad,
                           float lr, float wd) {
  GNNREC_GRID_STRIDE(i, n) {
    param[i] = nn_add(param[i], -nn_mul(lr, nn_add(grad[i], nn_mul(wd, param[i]))));
  }
}

__device__ double block_sum(double v) {
  __shared__ double part[kBlock];
  part[threadIdx.x] = v;
  __syncthreads();
  for (int h = kBlock / 2; h > 0; h >>= 1) {
    if (threadIdx.x < h) part[threadIdx.x] += part[threadIdx.x + h];
    __syncthreads();
  }
  return part[0];
}

__global__ void ssq_partial_kernel(const float* __restrict__ x, int64_t n,
                                   double* __restrict__ partials) {
  double acc = 0.0;
  GNNREC_GRID_STRIDE(i, n) {
    const double xi = x[i];
    acc += xi * xi;
  }
  const double total = block_sum(acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

__global__ void ssq_final_kernel(const double* __restrict__ partials, int64_t count,
                                 double* __restrict__ result) {
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += kBlock) acc += partials[i];
  const double total = block_sum(acc);
  if (threadIdx.x == 0) result[0] = total;
}

int64_t chunk_count(const AdamTensor* tensors, int n_tensors) {
  int64_t c = 0;
  for (int t = 0; t < n_tensors; ++t) c += (tensors[t].n + kAdamChunk - 1) / kAdamChunk;
  return c;
}

}  // namespace

size_t adam_step_workspace_bytes_cuda(const AdamTensor* tensors, int n_tensors) {
  WorkspaceCarve c(nullptr);
  c.take<AdamTensor>(n_tensors);
  c.take<AdamChunk>(chunk_count(tensors, n_tensors));
  return c.used();
}

void adam_step_cuda(const AdamTensor* tensors, int n_tensors, const AdamStepScalars& s,
                    void* workspace, size_t workspace_bytes, Stream stream) {
  const int64_t n_chunks = chunk_count(tensors, n_tensors);
  if (n_chunks == 0) return;
  GNNREC_EXPECTS(workspace_bytes >= adam_step_workspace_bytes_cuda(tensors, n_tensors),
                 "adam_step_cuda: workspace of {} bytes, need {}", workspace_bytes,
                 adam_step_workspace_bytes_cuda(tensors, n_tensors));
  std::vector<AdamChunk> chunks;
  chunks.reserve(static_cast<size_t>(n_chunks));
  for (int t = 0; t < n_tensors; ++t) {
    for (int64_t b = 0; b < tensors[t].n; b += kAdamChunk) chunks.push_back({t, b});
  }
  WorkspaceCarve c(workspace);
  auto* d_tensors = c.take<AdamTensor>(n_tensors);
  auto* d_chunks = c.take<AdamChunk>(n_chunks);
  cudaStream_t st = cuda::as_cuda(stream);
  // Pageable sources: the copy is staged before cudaMemcpyAsync returns, so the host vectors
  // may die at the end of this function.
  GNNREC_CUDA_CHECK(cudaMemcpyAsync(d_tensors, tensors, n_tensors * sizeof(AdamTensor),
                                    cudaMemcpyHostToDevice, st));
  GNNREC_CUDA_CHECK(cudaMemcpyAsync(d_chunks, chunks.data(), n_chunks * sizeof(AdamChunk),
                                    cudaMemcpyHostToDevice, st));
  const int grid = static_cast<int>(std::min<int64_t>(n_chunks, 65535));
  adam_multi_tensor_kernel<<<grid, kBlock, 0, st>>>(d_tensors, d_chunks, n_chunks, s);
  GNNREC_CUDA_LAUNCH_CHECK();
}

void sparse_adam_step_cuda(int64_t r, int64_t d, const int32_t* ids, const float* grad_rows,
                           float* table, float* m, float* v, const AdamStepScalars& s, float l2,
                           Stream stream) {
  if (r * d == 0) return;
  sparse_adam_kernel<<<cuda::grid_for(r * d, kBlock), kBlock, 0, cuda::as_cuda(stream)>>>(
      r, d, ids, grad_rows, table, m, v, s, l2);
  GNNREC_CUDA_LAUNCH_CHECK();
}

void sgd_step_cuda(int64_t n, float* param, const float* grad, float lr, float weight_decay,
                   Stream stream) {
  if (n == 0) return;
  sgd_kernel<<<cuda::grid_for(n, kBlock), kBlock, 0, cuda::as_cuda(stream)>>>(n, param, grad, lr,
                                                                              weight_decay);
  GNNREC_CUDA_LAUNCH_CHECK();
}

size_t sum_of_squares_workspace_bytes_cuda(int n_tensors) {
  WorkspaceCarve c(nullptr);
  c.take<double>(static_cast<int64_t>(n_tensors) * kSsqBlocks);
  return c.used();
}

void sum_of_squares_cuda(const float* const* ptrs, const int64_t* sizes, int n_tensors,
                         double* result, void* workspace, size_t workspace_bytes, Stream stream) {
  cudaStream_t st = cuda::as_cuda(stream);
  GNNREC_EXPECTS(workspace_bytes >= sum_of_squares_workspace_bytes_cuda(n_tensors),
                 "sum_of_squares_cuda: workspace of {} bytes, need {}", workspace_bytes,
                 sum_of_squares_workspace_bytes_cuda(n_tensors));
  auto* partials = static_cast<double*>(workspace);
  for (int t = 0; t < n_tensors; ++t) {
    // Empty tensors still write their (zero) partials: the final sum reads them all.
    ssq_partial_kernel<<<kSsqBlocks, kBlock, 0, st>>>(ptrs[t], sizes[t], partials + t * kSsqBlocks);
    GNNREC_CUDA_LAUNCH_CHECK();
  }
  ssq_final_kernel<<<1, kBlock, 0, st>>>(partials, static_cast<int64_t>(n_tensors) * kSsqBlocks,
                                         result);
  GNNREC_CUDA_LAUNCH_CHECK();
}

}  // namespace gnnrec
