// CUDA row gathers and the deterministic scatter-add, contract in kernels/embedding.h.
//
// Variants:
//  1. embedding_gather / csr_gather_rows: a row group of G lanes per output row (nn_utils.cuh),
//     float4 when every row start is 16-byte aligned, scalar otherwise. Each lane sums its
//     columns over the row's slots in CSR order with __fadd_rn/__fmul_rn, the CPU's exact
//     sequence. Memory bound: one random row read per slot.
//  2. group_by_row: iota + CUB's stable radix sort of (key, slot) pairs over only the bits the keys
//     use, then one thread per row binary-searches its offset in the sorted keys. Stability makes
//     the order inside a row ascending by slot, identical to the CPU counting sort.
#include <cub/device/device_radix_sort.cuh>

#include "kernels/cuda/nn_utils.cuh"
#include "kernels/embedding.h"

namespace gnnrec {
namespace {

using cuda::Vec;

template <typename V>
__global__ void embedding_gather_kernel(int64_t r, int n_vec, int group,
                                        const V* __restrict__ table,
                                        const int32_t* __restrict__ ids, V* __restrict__ out,
                                        bool accumulate) {
  const cuda::RowLane rl = cuda::row_lane(group);
  if (rl.row >= r) return;
  const V* s = table + static_cast<int64_t>(__ldg(ids + rl.row)) * n_vec;
  V* o = out + rl.row * n_vec;
  for (int c = rl.lane; c < n_vec; c += group) {
    const V v = Vec<V>::load(s + c);
    o[c] = accumulate ? Vec<V>::add(o[c], v) : v;
  }
}

template <typename V>
__global__ void csr_gather_rows_kernel(int64_t n_rows, int n_vec, int group,
                                       const int32_t* __restrict__ row_ptr,
                                       const int32_t* __restrict__ order,
                                       const int32_t* __restrict__ col, const float* __restrict__ w,
                                       const V* __restrict__ X, int64_t ld_x, V* __restrict__ out,
                                       int64_t ld_out, bool accumulate) {
  const cuda::RowLane rl = cuda::row_lane(group);
  if (rl.row >= n_rows) return;
  const int64_t begin = __ldg(row_ptr + rl.row), end = __ldg(row_ptr + rl.row + 1);
  V* o = out + rl.row * ld_out;
  for (int c = rl.lane; c < n_vec; c += group) {
    V acc = Vec<V>::zero();
    for (int64_t q = begin; q < end; ++q) {
      const int64_t s = __ldg(order + q);
      const int64_t x_row = col != nullptr ? __ldg(col + s) : s;
      const V x = Vec<V>::load(X + x_row * ld_x + c);
      acc = w != nullptr ? Vec<V>::add(acc, Vec<V>::mul(x, __ldg(w + s))) : Vec<V>::add(acc, x);
    }
    o[c] = accumulate ? Vec<V>::add(o[c], acc) : acc;
  }
}

__global__ void iota_kernel(int64_t n, int32_t* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = static_cast<int32_t>(i);
  }
}

// row_ptr[k] = number of sorted keys < k, for k in [0, n_rows].
__global__ void row_offsets_kernel(const uint32_t* __restrict__ sorted, int64_t count,
                                   int64_t n_rows, int32_t* __restrict__ row_ptr) {
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k <= n_rows;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t lo = 0, hi = count;
    while (lo < hi) {
      const int64_t mid = (lo + hi) / 2;
      if (static_cast<int64_t>(sorted[mid]) < k) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    row_ptr[k] = static_cast<int32_t>(lo);
  }
}

constexpr size_t kAlign = 256;
size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

int key_bits(int64_t n_rows) {
  int bits = 1;
  while ((int64_t{1} << bits) < n_rows) ++bits;
  return bits;
}

size_t cub_sort_bytes(int64_t count, int64_t n_rows) {
  size_t bytes = 0;
  GNNREC_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      nullptr, bytes, static_cast<const uint32_t*>(nullptr), static_cast<uint32_t*>(nullptr),
      static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr), static_cast<int>(count),
      0, key_bits(n_rows)));
  return bytes;
}

}  // namespace

void embedding_gather_cuda(int64_t r, int64_t d, const float* table, const int32_t* ids, float* out,
                           bool accumulate, Stream stream) {
  if (r == 0 || d == 0) return;
  cudaStream_t st = cuda::as_cuda(stream);
  if (cuda::rows_vec4(table, d, d) && cuda::rows_vec4(out, d, d)) {
    const int n_vec = static_cast<int>(d / 4), group = cuda::group_size_for(n_vec);
    embedding_gather_kernel<float4><<<cuda::grid1d(r, group), cuda::kRowBlock, 0, st>>>(
        r, n_vec, group, reinterpret_cast<const float4*>(table), ids,
        reinterpret_cast<float4*>(out), accumulate);
  } else {
    const int group = cuda::group_size_for(d);
    embedding_gather_kernel<float><<<cuda::grid1d(r, group), cuda::kRowBlock, 0, st>>>(
        r, static_cast<int>(d), group, table, ids, out, accumulate);
  }
  GNNREC_CUDA_LAUNCH_CHECK();
}

size_t group_by_row_workspace_bytes_cuda(int64_t count, int64_t n_rows) {
  if (count == 0) return 0;
  return 2 * align_up(static_cast<size_t>(count) * sizeof(int32_t)) +
         align_up(cub_sort_bytes(count, n_rows));
}

void group_by_row_cuda(const int32_t* keys, int64_t count, int64_t n_rows, int32_t* row_ptr,
                       int32_t* order, void* workspace, size_t workspace_bytes, Stream stream) {
  cudaStream_t st = cuda::as_cuda(stream);
  if (count == 0) {
    GNNREC_CUDA_CHECK(cudaMemsetAsync(row_ptr, 0, (n_rows + 1) * sizeof(int32_t), st));
    return;
  }
  GNNREC_EXPECTS(workspace_bytes >= group_by_row_workspace_bytes_cuda(count, n_rows),
                 "group_by_row_cuda: workspace of {} bytes, need {}", workspace_bytes,
                 group_by_row_workspace_bytes_cuda(count, n_rows));
  char* ws = static_cast<char*>(workspace);
  const size_t slab = align_up(static_cast<size_t>(count) * sizeof(int32_t));
  auto* slots = reinterpret_cast<int32_t*>(ws);
  auto* sorted = reinterpret_cast<uint32_t*>(ws + slab);
  void* temp = ws + 2 * slab;
  size_t temp_bytes = workspace_bytes - 2 * slab;
  iota_kernel<<<cuda::grid_for(count, 256), 256, 0, st>>>(count, slots);
  GNNREC_CUDA_LAUNCH_CHECK();
  GNNREC_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      temp, temp_bytes, reinterpret_cast<const uint32_t*>(keys), sorted, slots, order,
      static_cast<int>(count), 0, key_bits(n_rows), st));
  row_offsets_kernel<<<cuda::grid_for(n_rows + 1, 256), 256, 0, st>>>(sorted, count, n_rows,
                                                                      row_ptr);
  GNNREC_CUDA_LAUNCH_CHECK();
}

void csr_gather_rows_cuda(int64_t n_rows, int64_t d, const int32_t* row_ptr, const int32_t* order,
                          const int32_t* col, const float* w, const float* X, int64_t ld_x,
                          float* out, int64_t ld_out, bool accumulate, Stream stream) {
  if (n_rows == 0 || d == 0) return;
  cudaStream_t st = cuda::as_cuda(stream);
  if (cuda::rows_vec4(X, d, ld_x) && cuda::rows_vec4(out, d, ld_out)) {
    const int n_vec = static_cast<int>(d / 4), group = cuda::group_size_for(n_vec);
    csr_gather_rows_kernel<float4><<<cuda::grid1d(n_rows, group), cuda::kRowBlock, 0, st>>>(
        n_rows, n_vec, group, row_ptr, order, col, w, reinterpret_cast<const float4*>(X), ld_x / 4,
        reinterpret_cast<float4*>(out), ld_out / 4, accumulate);
  } else {
    const int group = cuda::group_size_for(d);
    csr_gather_rows_kernel<float><<<cuda::grid1d(n_rows, group), cuda::kRowBlock, 0, st>>>(
        n_rows, static_cast<int>(d), group, row_ptr, order, col, w, X, ld_x, out, ld_out,
        accumulate);
  }
  GNNREC_CUDA_LAUNCH_CHECK();
}

}  // namespace gnnrec
