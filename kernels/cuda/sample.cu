// CUDA neighbour sampling; bit-identical to kernels/cpu/sample.cpp (algorithm: kernels/sample.h).
// Variant 1 (only):
//   exclusions  one thread per excluded edge gathers its two positions; CUB radix sort.
//   count       one thread per dst row (binary search of the row's excluded range); CUB scan.
//   draw        one thread per dst row runs sample_row() on its own output slice (fanouts are
//               small; a row with fanout <= 0 and a huge degree is one slow thread).
//   build       the node map is a dense int32 [N] array: dst rows claim their node with
//               atomicMin (first occurrence wins, as on the CPU); each sampled node that is not
//               a dst sets a bit in an N-bit bitmap (atomicOr); a popcount scan over the
//               bitmap words (N / 32, tiny next to a sort) gives every new node its rank in
//               ascending id order, with no sort and no hash table; one thread per entry then
//               relabels through the map and finds its row by binary search in indptr.
//   transpose   CUB radix sort (stable) of (src local id, dst row) pairs over the capacity,
//               padding entries keyed past every real id, then t_indptr by binary search.
// All steps run on `stream` with no host synchronisation; the runtime reads `sizes` back once.
// Bound by latency of the random reads (g.indices, node map); the sort is the largest pass.
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

#include "kernels/cuda/cuda_utils.cuh"
#include "kernels/cuda/workspace.cuh"
#include "kernels/sample.h"

namespace gnnrec {
namespace {

constexpr int kBlock = 256;
constexpr int32_t kUnmapped = 0x7F7F7F7F;  // what a 0x7F byte memset writes; above any local id

// Grid-stride loop: grid_for() caps the grid, so every kernel must cover any n.
#define GNNREC_FOR_EACH(i, n)                                                            \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

__global__ void exclusions_gather_kernel(int64_t m, const int64_t* excluded,
                                         const int64_t* user_pos, const int64_t* item_pos,
                                         int64_t num_edges, int64_t* out) {
  GNNREC_FOR_EACH(i, m) {
    const int64_t e = excluded[i];
    const bool ok = e >= 0 && e < num_edges;
    out[2 * i] = ok ? user_pos[e] : kNoPosition;
    out[2 * i + 1] = ok ? item_pos[e] : kNoPosition;
  }
}

// counts[i] for i < num_dst, counts[num_dst] = 0 (so an exclusive scan ends with the total).
__global__ void count_kernel(GraphView g, Exclusions ex, const int32_t* dst, int64_t num_dst,
                             int fanout, int32_t* counts) {
  GNNREC_FOR_EACH(i, num_dst + 1) {
    if (i == num_dst) {
      counts[i] = 0;
      continue;
    }
    const int32_t v = dst[i];
    const int64_t lo = g.indptr[v], hi = g.indptr[v + 1];
    const RowExclusions rx = sample_row_exclusions(ex, lo, hi);
    counts[i] = static_cast<int32_t>(sample_row_count(hi - lo - rx.distinct, fanout));
  }
}

__global__ void draw_kernel(GraphView g, Exclusions ex, const int32_t* dst, int64_t num_dst,
                            int hop, RngKey key, const int32_t* indptr, int32_t* indices) {
  GNNREC_FOR_EACH(i, num_dst) {
    const int32_t v = dst[i];
    const int64_t k = indptr[i + 1] - indptr[i];
    if (k == 0) continue;
    const int64_t lo = g.indptr[v], hi = g.indptr[v + 1];
    const RowExclusions rx = sample_row_exclusions(ex, lo, hi);
    sample_row(g, rx, v, lo, hi, k, hop, key, indices + indptr[i]);
  }
}

__global__ void claim_dst_kernel(const int32_t* dst, int64_t num_dst, int32_t* src,
                                 int32_t* node_map) {
  GNNREC_FOR_EACH(i, num_dst) {
    src[i] = dst[i];
    atomicMin(node_map + dst[i], static_cast<int32_t>(i));
  }
}

__global__ void mark_new_kernel(const int32_t* indptr, int64_t num_dst, const int32_t* indices,
                                int64_t cap, const int32_t* node_map, uint32_t* bits) {
  const int64_t nnz = indptr[num_dst] < cap ? indptr[num_dst] : cap;
  GNNREC_FOR_EACH(j, nnz) {
    const int32_t u = indices[j];
    if (node_map[u] == kUnmapped) atomicOr(bits + (u >> 5), 1u << (u & 31));
  }
}

__global__ void popcount_kernel(const uint32_t* bits, int64_t words, int32_t* counts) {
  GNNREC_FOR_EACH(w, words + 1) counts[w] = w < words ? __popc(bits[w]) : 0;
}

__global__ void emit_new_kernel(const uint32_t* bits, int64_t words, const int32_t* offsets,
                                int64_t num_dst, int32_t* src, int32_t* node_map) {
  GNNREC_FOR_EACH(w, words) {
    uint32_t b = bits[w];
    int64_t r = num_dst + offsets[w];
    while (b != 0) {
      const int32_t u = static_cast<int32_t>(w * 32 + (__ffs(b) - 1));
      b &= b - 1;
      node_map[u] = static_cast<int32_t>(r);
      src[r++] = u;
    }
  }
}

// indices[j] <- local id (padding past nnz gets `pad`), rows[j] <- dst row of entry j.
__global__ void relabel_kernel(const int32_t* indptr, int64_t num_dst, int32_t* indices,
                               int64_t cap, const int32_t* node_map, int32_t pad, int32_t* rows) {
  const int64_t nnz = indptr[num_dst];
  GNNREC_FOR_EACH(j, cap) {
    if (j >= nnz) {
      indices[j] = pad;
      rows[j] = 0;
      continue;
    }
    indices[j] = node_map[indices[j]];
    // The row r with indptr[r] <= j < indptr[r + 1]: the first r whose end exceeds j.
    int64_t a = 0, b = num_dst;
    while (a < b) {
      const int64_t m = (a + b) >> 1;
      if (indptr[m + 1] <= j) {
        a = m + 1;
      } else {
        b = m;
      }
    }
    rows[j] = static_cast<int32_t>(a);
  }
}

// t_indptr[s] = first sorted entry with key >= s, for s in [0, num_src]; also writes sizes.
__global__ void t_indptr_kernel(const int32_t* sorted_keys, const int32_t* indptr, int64_t num_dst,
                                const int32_t* new_offsets, int64_t words, int32_t* t_indptr,
                                int32_t* sizes) {
  const int64_t nnz = indptr[num_dst];
  const int64_t num_src = num_dst + new_offsets[words];
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    sizes[0] = static_cast<int32_t>(nnz);
    sizes[1] = static_cast<int32_t>(num_src);
  }
  GNNREC_FOR_EACH(s, num_src + 1) {
    int64_t a = 0, b = nnz;
    while (a < b) {
      const int64_t m = (a + b) >> 1;
      if (sorted_keys[m] < s) {
        a = m + 1;
      } else {
        b = m;
      }
    }
    t_indptr[s] = static_cast<int32_t>(a);
  }
}

struct BuildLayout {
  int32_t* node_map;
  uint32_t* bits;
  int32_t* word_counts;
  int32_t* word_offsets;
  int32_t* rows;
  int32_t* sorted_keys;
  void* temp;
  size_t scan_bytes = 0, sort_bytes = 0, temp_bytes = 0;
};

BuildLayout build_layout(cuda::WorkspaceCarver& c, int64_t num_nodes, int64_t num_dst,
                         int64_t cap) {
  BuildLayout l{};
  const int64_t words = (num_nodes + 31) / 32;
  l.node_map = c.take<int32_t>(num_nodes);
  l.bits = c.take<uint32_t>(words);
  l.word_counts = c.take<int32_t>(words + 1);
  l.word_offsets = c.take<int32_t>(words + 1);
  l.rows = c.take<int32_t>(cap);
  l.sorted_keys = c.take<int32_t>(cap);
  GNNREC_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, l.scan_bytes,
                                                  static_cast<const int32_t*>(nullptr),
                                                  static_cast<int32_t*>(nullptr), words + 1));
  const int end_bit = cuda::bit_width_of(static_cast<uint64_t>(num_dst + cap));
  if (cap > 0) {
    GNNREC_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
        nullptr, l.sort_bytes, static_cast<const uint32_t*>(nullptr),
        static_cast<uint32_t*>(nullptr), static_cast<const int32_t*>(nullptr),
        static_cast<int32_t*>(nullptr), cap, 0, end_bit));
  }
  l.temp_bytes = l.scan_bytes > l.sort_bytes ? l.scan_bytes : l.sort_bytes;
  l.temp = c.take_bytes(l.temp_bytes);
  return l;
}

}  // namespace

size_t sample_exclusions_workspace_bytes_cuda(int64_t m) {
  cuda::WorkspaceCarver c;
  c.take<int64_t>(2 * m);
  size_t sort_bytes = 0;
  if (m > 0) {
    GNNREC_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(nullptr, sort_bytes,
                                                     static_cast<const uint64_t*>(nullptr),
                                                     static_cast<uint64_t*>(nullptr), 2 * m));
  }
  c.take_bytes(sort_bytes);
  return c.used();
}

void sample_exclusions_cuda(int64_t m, const int64_t* excluded_edges, const int64_t* user_pos,
                            const int64_t* item_pos, int64_t num_edges, int64_t* out,
                            void* workspace, size_t workspace_bytes, Stream s) {
  if (m == 0) return;
  const cudaStream_t st = cuda::as_cuda(s);
  cuda::WorkspaceCarver c(workspace, workspace_bytes);
  int64_t* gathered = c.take<int64_t>(2 * m);
  size_t sort_bytes = 0;
  GNNREC_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(nullptr, sort_bytes,
                                                   reinterpret_cast<const uint64_t*>(gathered),
                                                   reinterpret_cast<uint64_t*>(out), 2 * m));
  void* temp = c.take_bytes(sort_bytes);
  exclusions_gather_kernel<<<cuda::grid_for(m, kBlock), kBlock, 0, st>>>(
      m, excluded_edges, user_pos, item_pos, num_edges, gathered);
  GNNREC_CUDA_LAUNCH_CHECK();
  // Non-negative int64 values order like their uint64 bit patterns.
  GNNREC_CUDA_CHECK(
      cub::DeviceRadixSort::SortKeys(temp, sort_bytes, reinterpret_cast<const uint64_t*>(gathered),
                                     reinterpret_cast<uint64_t*>(out), 2 * m, 0, 64, st));
}

size_t sample_count_workspace_bytes_cuda(int64_t num_dst) {
  cuda::WorkspaceCarver c;
  c.take<int32_t>(num_dst + 1);
  size_t scan_bytes = 0;
  GNNREC_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, scan_bytes,
                                                  static_cast<const int32_t*>(nullptr),
                                                  static_cast<int32_t*>(nullptr), num_dst + 1));
  c.take_bytes(scan_bytes);
  return c.used();
}

void sample_count_cuda(const GraphView& g, const Exclusions& ex, const int32_t* dst,
                       int64_t num_dst, int fanout, int32_t* indptr, void* workspace,
                       size_t workspace_bytes, Stream s) {
  const cudaStream_t st = cuda::as_cuda(s);
  cuda::WorkspaceCarver c(workspace, workspace_bytes);
  int32_t* counts = c.take<int32_t>(num_dst + 1);
  size_t scan_bytes = 0;
  GNNREC_CUDA_CHECK(
      cub::DeviceScan::ExclusiveSum(nullptr, scan_bytes, counts, indptr, num_dst + 1));
  void* temp = c.take_bytes(scan_bytes);
  count_kernel<<<cuda::grid_for(num_dst + 1, kBlock), kBlock, 0, st>>>(g, ex, dst, num_dst, fanout,
                                                                       counts);
  GNNREC_CUDA_LAUNCH_CHECK();
  GNNREC_CUDA_CHECK(
      cub::DeviceScan::ExclusiveSum(temp, scan_bytes, counts, indptr, num_dst + 1, st));
}

size_t sample_build_workspace_bytes_cuda(int64_t num_nodes, int64_t num_dst, int64_t cap) {
  cuda::WorkspaceCarver c;
  build_layout(c, num_nodes, num_dst, cap);
  return c.used();
}

void sample_build_cuda(const GraphView& g, const Exclusions& ex, const int32_t* dst,
                       int64_t num_dst, int fanout, int hop, const RngKey& key, int64_t cap,
                       const BlockOut& out, void* workspace, size_t workspace_bytes, Stream s) {
  (void)fanout;  // the counts in out.indptr already encode it
  const cudaStream_t st = cuda::as_cuda(s);
  cuda::WorkspaceCarver c(workspace, workspace_bytes);
  BuildLayout l = build_layout(c, g.num_nodes, num_dst, cap);
  const int64_t words = (g.num_nodes + 31) / 32;

  GNNREC_CUDA_CHECK(cudaMemsetAsync(l.node_map, 0x7F, g.num_nodes * sizeof(int32_t), st));
  GNNREC_CUDA_CHECK(cudaMemsetAsync(l.bits, 0, words * sizeof(uint32_t), st));
  if (num_dst > 0) {
    draw_kernel<<<cuda::grid_for(num_dst, kBlock), kBlock, 0, st>>>(g, ex, dst, num_dst, hop, key,
                                                                    out.indptr, out.indices);
    GNNREC_CUDA_LAUNCH_CHECK();
    claim_dst_kernel<<<cuda::grid_for(num_dst, kBlock), kBlock, 0, st>>>(dst, num_dst,
                                                                         out.src_nodes, l.node_map);
    GNNREC_CUDA_LAUNCH_CHECK();
  }
  if (cap > 0) {
    mark_new_kernel<<<cuda::grid_for(cap, kBlock), kBlock, 0, st>>>(
        out.indptr, num_dst, out.indices, cap, l.node_map, l.bits);
    GNNREC_CUDA_LAUNCH_CHECK();
  }
  popcount_kernel<<<cuda::grid_for(words + 1, kBlock), kBlock, 0, st>>>(l.bits, words,
                                                                        l.word_counts);
  GNNREC_CUDA_LAUNCH_CHECK();
  GNNREC_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(l.temp, l.scan_bytes, l.word_counts,
                                                  l.word_offsets, words + 1, st));
  emit_new_kernel<<<cuda::grid_for(words, kBlock), kBlock, 0, st>>>(
      l.bits, words, l.word_offsets, num_dst, out.src_nodes, l.node_map);
  GNNREC_CUDA_LAUNCH_CHECK();
  const int32_t pad = static_cast<int32_t>(num_dst + cap);
  if (cap > 0) {
    relabel_kernel<<<cuda::grid_for(cap, kBlock), kBlock, 0, st>>>(out.indptr, num_dst, out.indices,
                                                                   cap, l.node_map, pad, l.rows);
    GNNREC_CUDA_LAUNCH_CHECK();
    // Stable: entries of one src keep their (ascending) dst row order.
    const int end_bit = cuda::bit_width_of(static_cast<uint64_t>(pad));
    GNNREC_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
        l.temp, l.sort_bytes, reinterpret_cast<const uint32_t*>(out.indices),
        reinterpret_cast<uint32_t*>(l.sorted_keys), l.rows, out.t_indices, cap, 0, end_bit, st));
  }
  t_indptr_kernel<<<cuda::grid_for(num_dst + cap + 1, kBlock), kBlock, 0, st>>>(
      l.sorted_keys, out.indptr, num_dst, l.word_offsets, words, out.t_indptr, out.sizes);
  GNNREC_CUDA_LAUNCH_CHECK();
}

}  // namespace gnnrec
