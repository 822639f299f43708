// CUDA index plumbing. Id ops: one thread per element. Row ops: one thread per (row, column)
// in a grid-stride loop, so consecutive threads touch consecutive columns (coalesced); memory
// bound.
#include "kernels/cuda/cuda_utils.cuh"
#include "kernels/index.h"

namespace gnnrec {
namespace {

#define GRID_STRIDE(i, n)                                                                \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

__global__ void add_offset_kernel(int64_t n, const int32_t* src, int32_t offset, int32_t* out) {
  GRID_STRIDE(i, n) out[i] = src[i] + offset;
}
__global__ void gather_i32_kernel(int64_t n, const int32_t* table, const int64_t* idx, int32_t* out) {
  GRID_STRIDE(i, n) out[i] = table[idx[i]];
}
__global__ void gather_node_features_kernel(int64_t n, const int32_t* nodes, int32_t num_users,
                                            const float* xu, int64_t fu, const float* xi,
                                            int64_t fi, float* out) {
  const int64_t w = fu + fi;
  GRID_STRIDE(t, n * w) {
    const int64_t r = t / w, c = t % w;
    const int32_t v = nodes[r];
    float val = 0.0f;
    if (v < num_users) {
      if (c < fu) val = xu[static_cast<int64_t>(v) * fu + c];
    } else if (c >= fu) {
      val = xi[static_cast<int64_t>(v - num_users) * fi + (c - fu)];
    }
    out[t] = val;
  }
}
__global__ void scatter_rows_kernel(int64_t m, int64_t d, const float* src, const int32_t* ids,
                                    float* dst) {
  GRID_STRIDE(t, m * d) {
    const int64_t r = t / d, c = t % d;
    dst[static_cast<int64_t>(ids[r]) * d + c] = src[t];
  }
}
__global__ void zero_rows_kernel(int64_t m, int64_t d, const int32_t* ids, float* x) {
  GRID_STRIDE(t, m * d) {
    const int64_t r = t / d, c = t % d;
    x[static_cast<int64_t>(ids[r]) * d + c] = 0.0f;
  }
}

constexpr int kBlock = 256;

}  // namespace

void add_offset_i32_cuda(int64_t n, const int32_t* src, int32_t offset, int32_t* out, Stream s) {
  if (n == 0) return;
  add_offset_kernel<<<cuda::grid_for(n, kBlock), kBlock, 0, cuda::as_cuda(s)>>>(n, src, offset, out);
  GNNREC_CUDA_LAUNCH_CHECK();
}
void gather_i32_cuda(int64_t n, const int32_t* table, const int64_t* idx, int32_t* out, Stream s) {
  if (n == 0) return;
  gather_i32_kernel<<<cuda::grid_for(n, kBlock), kBlock, 0, cuda::as_cuda(s)>>>(n, table, idx, out);
  GNNREC_CUDA_LAUNCH_CHECK();
}
void gather_node_features_cuda(int64_t n, const int32_t* nodes, int32_t num_users, const float* xu,
                               int64_t fu, const float* xi, int64_t fi, float* out, Stream s) {
  if (n == 0 || fu + fi == 0) return;
  gather_node_features_kernel<<<cuda::grid_for(n * (fu + fi), kBlock), kBlock, 0,
                                cuda::as_cuda(s)>>>(n, nodes, num_users, xu, fu, xi, fi, out);
  GNNREC_CUDA_LAUNCH_CHECK();
}
void scatter_rows_cuda(int64_t m, int64_t d, const float* src, const int32_t* ids, float* dst,
                       Stream s) {
  if (m * d == 0) return;
  scatter_rows_kernel<<<cuda::grid_for(m * d, kBlock), kBlock, 0, cuda::as_cuda(s)>>>(m, d, src, ids,
                                                                                   dst);
  GNNREC_CUDA_LAUNCH_CHECK();
}
void zero_rows_cuda(int64_t m, int64_t d, const int32_t* ids, float* x, Stream s) {
  if (m * d == 0) return;
  zero_rows_kernel<<<cuda::grid_for(m * d, kBlock), kBlock, 0, cuda::as_cuda(s)>>>(m, d, ids, x);
  GNNREC_CUDA_LAUNCH_CHECK();
}

}  // namespace gnnrec
