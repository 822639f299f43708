// CUDA random permutation and unique-with-inverse (see kernels/permute.h). One thread per
// element for the key / flag / scatter passes; CUB radix sort (stable) and scans in between.
// Bound by the radix sort (memory bandwidth: 64-bit keys take 8 passes, 32-bit keys 4).
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

#include "kernels/cuda/cuda_utils.cuh"
#include "kernels/cuda/workspace.cuh"
#include "kernels/permute.h"

namespace gnnrec {
namespace {

#define GNNREC_FOR_EACH(i, n)                                                            \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

__global__ void permutation_keys_kernel(int64_t n, RngKey key, uint64_t* keys, int64_t* idx) {
  GNNREC_FOR_EACH(i, n) {
    keys[i] = permutation_sort_key(key, static_cast<uint64_t>(i));
    idx[i] = i;
  }
}

__global__ void user_uniform_edges_kernel(int64_t n, RngKey key, const int32_t* active,
                                          int64_t num_active, const int64_t* indptr,
                                          const int64_t* edge_ids, int64_t* out) {
  GNNREC_FOR_EACH(i, n) {
    out[i] = user_uniform_edge(key, static_cast<uint64_t>(i), active, num_active, indptr, edge_ids);
  }
}

__global__ void iota_kernel(int64_t n, int32_t* idx) {
  GNNREC_FOR_EACH(i, n) idx[i] = static_cast<int32_t>(i);
}

__global__ void head_flags_kernel(int64_t n, const int32_t* sorted, int32_t* heads) {
  GNNREC_FOR_EACH(i, n) heads[i] = (i == 0 || sorted[i] != sorted[i - 1]) ? 1 : 0;
}

__global__ void unique_scatter_kernel(int64_t n, const int32_t* sorted, const int32_t* order,
                                      const int32_t* heads, const int32_t* ranks, int32_t* unique,
                                      int32_t* inverse, int32_t* num_unique) {
  GNNREC_FOR_EACH(i, n) {
    const int32_t r = ranks[i] - 1;
    inverse[order[i]] = r;
    if (heads[i]) unique[r] = sorted[i];
    if (i == n - 1) *num_unique = ranks[i];
  }
}

struct PermLayout {
  uint64_t* keys_in;
  uint64_t* keys_out;
  int64_t* idx_in;
  void* temp;
  size_t temp_bytes = 0;
};

PermLayout perm_layout(cuda::WorkspaceCarver& c, int64_t n) {
  PermLayout l{};
  l.keys_in = c.take<uint64_t>(n);
  l.keys_out = c.take<uint64_t>(n);
  l.idx_in = c.take<int64_t>(n);
  GNNREC_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      nullptr, l.temp_bytes, static_cast<const uint64_t*>(nullptr), static_cast<uint64_t*>(nullptr),
      static_cast<const int64_t*>(nullptr), static_cast<int64_t*>(nullptr), n));
  l.temp = c.take_bytes(l.temp_bytes);
  return l;
}

struct UniqueLayout {
  int32_t* idx_in;
  int32_t* keys_out;
  int32_t* order;
  int32_t* heads;
  int32_t* ranks;
  void* temp;
  size_t sort_bytes = 0, scan_bytes = 0;
};

UniqueLayout unique_layout(cuda::WorkspaceCarver& c, int64_t n) {
  UniqueLayout l{};
  l.idx_in = c.take<int32_t>(n);
  l.keys_out = c.take<int32_t>(n);
  l.order = c.take<int32_t>(n);
  l.heads = c.take<int32_t>(n);
  l.ranks = c.take<int32_t>(n);
  GNNREC_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      nullptr, l.sort_bytes, static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr),
      static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr), n));
  GNNREC_CUDA_CHECK(cub::DeviceScan::InclusiveSum(nullptr, l.scan_bytes,
                                                  static_cast<const int32_t*>(nullptr),
                                                  static_cast<int32_t*>(nullptr), n));
  l.temp = c.take_bytes(l.sort_bytes > l.scan_bytes ? l.sort_bytes : l.scan_bytes);
  return l;
}

}  // namespace

size_t random_permutation_workspace_bytes_cuda(int64_t n) {
  cuda::WorkspaceCarver c;
  if (n > 0) perm_layout(c, n);
  return c.used();
}

void random_permutation_cuda(int64_t n, const RngKey& key, int64_t* out, void* workspace,
                             size_t workspace_bytes, Stream s) {
  if (n == 0) return;
  const cudaStream_t st = cuda::as_cuda(s);
  cuda::WorkspaceCarver c(workspace, workspace_bytes);
  PermLayout l = perm_layout(c, n);
  permutation_keys_kernel<<<cuda::grid_for(n, 256), 256, 0, st>>>(n, key, l.keys_in, l.idx_in);
  GNNREC_CUDA_LAUNCH_CHECK();
  GNNREC_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(l.temp, l.temp_bytes, l.keys_in, l.keys_out,
                                                    l.idx_in, out, n, 0, 64, st));
}

void user_uniform_edges_cuda(int64_t n, const RngKey& key, const int32_t* active,
                             int64_t num_active, const int64_t* indptr, const int64_t* edge_ids,
                             int64_t* out, Stream s) {
  if (n == 0) return;
  user_uniform_edges_kernel<<<cuda::grid_for(n, 256), 256, 0, cuda::as_cuda(s)>>>(
      n, key, active, num_active, indptr, edge_ids, out);
  GNNREC_CUDA_LAUNCH_CHECK();
}

size_t unique_workspace_bytes_cuda(int64_t n) {
  cuda::WorkspaceCarver c;
  if (n > 0) unique_layout(c, n);
  return c.used();
}

void unique_with_inverse_cuda(int64_t n, const int32_t* ids, int32_t* unique, int32_t* inverse,
                              int32_t* num_unique, void* workspace, size_t workspace_bytes,
                              Stream s) {
  const cudaStream_t st = cuda::as_cuda(s);
  if (n == 0) {
    GNNREC_CUDA_CHECK(cudaMemsetAsync(num_unique, 0, sizeof(int32_t), st));
    return;
  }
  cuda::WorkspaceCarver c(workspace, workspace_bytes);
  UniqueLayout l = unique_layout(c, n);
  const int grid = cuda::grid_for(n, 256);
  iota_kernel<<<grid, 256, 0, st>>>(n, l.idx_in);
  GNNREC_CUDA_LAUNCH_CHECK();
  GNNREC_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(l.temp, l.sort_bytes, ids, l.keys_out, l.idx_in,
                                                    l.order, n, 0, 32, st));
  head_flags_kernel<<<grid, 256, 0, st>>>(n, l.keys_out, l.heads);
  GNNREC_CUDA_LAUNCH_CHECK();
  GNNREC_CUDA_CHECK(cub::DeviceScan::InclusiveSum(l.temp, l.scan_bytes, l.heads, l.ranks, n, st));
  unique_scatter_kernel<<<grid, 256, 0, st>>>(n, l.keys_out, l.order, l.heads, l.ranks, unique,
                                              inverse, num_unique);
  GNNREC_CUDA_LAUNCH_CHECK();
}

}  // namespace gnnrec
