// CPU masked top-K (contract in kernels/topk.h).
//
// Variant 1, kCpuBlocked: queries are processed in blocks of kQueryBlock rows; for each block
// the item range is walked in chunks of kItemChunk. One sgemm (multi-threaded OpenBLAS) writes
// the block's scores for the chunk into a bounded tile, then an OpenMP loop over the block's
// rows merges each row's tile segment into that row's size-K heap, skipping the excluded ids
// by walking the row's sorted exclusion list alongside the chunk (a cursor per row carries
// across chunks). A heap's root is its worst entry, so a candidate costs one comparison unless
// it enters the heap (K log K work per row in the worst case, far less in practice). Bound by
// the GEMM (compute) for d >= 64; the selection pass reads the tile once while it is in cache.
// BLAS runs outside the OpenMP region, so the pthread OpenBLAS never nests in OpenMP threads.
//
// Variant 2, kCpuNaive: every score of a row in double precision, candidates sorted by the
// ranking order; the reference the tests compare everything with.
#include "kernels/topk.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "runtime/error.h"

namespace gnnrec {
namespace {

constexpr int64_t kQueryBlock = 128;
constexpr int64_t kItemChunk = 4096;
constexpr int32_t kEmptyId = std::numeric_limits<int32_t>::max();
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

struct Entry {
  float s;
  int32_t id;
};

// Heap order: the root is the worst entry, i.e. "a sits below b" when a is better than b.
inline bool heap_less(const Entry& a, const Entry& b) { return topk_better(a.s, a.id, b.s, b.id); }

struct Layout {
  int64_t qb = 0, nc = 0;
  size_t tile_off = 0, heap_off = 0, size_off = 0, cursor_off = 0, total = 0;
};

size_t align64(size_t x) { return (x + 63) & ~size_t{63}; }

Layout layout_for(int64_t B, int64_t N, int K) {
  Layout l;
  l.qb = std::max<int64_t>(1, std::min(B, kQueryBlock));
  l.nc = std::max<int64_t>(1, std::min(N, kItemChunk));
  l.tile_off = 0;
  l.heap_off = align64(l.tile_off + sizeof(float) * l.qb * l.nc);
  l.size_off = align64(l.heap_off + sizeof(Entry) * l.qb * K);
  l.cursor_off = align64(l.size_off + sizeof(int32_t) * l.qb);
  l.total = align64(l.cursor_off + sizeof(int64_t) * l.qb);
  return l;
}

// Merges scores s[0 .. j1-j0) of items j0..j1-1 into one row's heap, skipping excluded ids.
// `cursor` walks the row's sorted exclusion list [cursor, end).
inline void select_segment(const float* s, int64_t j0, int64_t j1, const int32_t* excl,
                           int64_t& cursor, int64_t end, Entry* heap, int32_t& size, int K) {
  int64_t j = j0;
  while (j < j1) {
    while (cursor < end && excl[cursor] < j) ++cursor;
    const int64_t stop = (cursor < end && excl[cursor] < j1) ? excl[cursor] : j1;
    for (; j < stop; ++j) {
      const float v = s[j - j0];
      const int32_t id = static_cast<int32_t>(j);
      if (size < K) {
        if (std::isnan(v)) continue;
        heap[size++] = {v, id};
        std::push_heap(heap, heap + size, heap_less);
      } else if (topk_better(v, id, heap[0].s, heap[0].id)) {
        std::pop_heap(heap, heap + size, heap_less);
        heap[size - 1] = {v, id};
        std::push_heap(heap, heap + size, heap_less);
      }
    }
    if (stop < j1) j = stop + 1;  // skip the excluded item
  }
}

// Sorts a heap best-first into the output row and pads it.
void emit_row(Entry* heap, int32_t size, int K, int32_t* ids, float* scores) {
  std::sort(heap, heap + size, heap_less);
  for (int32_t i = 0; i < size; ++i) {
    ids[i] = heap[i].id;
    scores[i] = heap[i].s;
  }
  for (int i = size; i < K; ++i) {
    ids[i] = -1;
    scores[i] = kNegInf;
  }
}

}  // namespace

const char* topk_variant_name(TopKVariant v) {
  switch (v) {
    case TopKVariant::kAuto:
      return "auto";
    case TopKVariant::kCpuBlocked:
      return "cpu_blocked";
    case TopKVariant::kCpuNaive:
      return "cpu_naive";
    case TopKVariant::kCudaFused:
      return "cuda_fused";
    case TopKVariant::kCudaGemmSelect:
      return "cuda_gemm_select";
  }
  return "?";
}

TopKVariant topk_resolve_variant(bool on_gpu, int64_t /*B*/, int64_t /*N*/, int K) {
  if (!on_gpu) return TopKVariant::kCpuBlocked;
  // The fused kernel keeps K entries per query in shared memory, so large K goes to the GEMM
  // variant. For small K the fused kernel avoids the score tile's memory traffic and, through
  // its item splits, keeps the GPU busy even for B = 1, where a GEMM would be a thin GEMV.
  return K <= kTopKFusedMaxK ? TopKVariant::kCudaFused : TopKVariant::kCudaGemmSelect;
}

size_t topk_masked_cpu_workspace_bytes(int64_t B, int64_t N, int64_t /*d*/, int K) {
  if (B == 0) return 0;
  return layout_for(B, N, K).total;
}

void topk_masked_cpu(const TopKProblem& p, void* workspace, size_t workspace_bytes) {
  const int64_t B = p.B, N = p.N, d = p.d;
  const int K = p.K;
  if (B == 0) return;
  const Layout l = layout_for(B, N, K);
  GNNREC_EXPECTS(workspace != nullptr && workspace_bytes >= l.total,
                 "topk_masked_cpu: workspace of {} bytes, needs {}", workspace_bytes, l.total);
  char* ws = static_cast<char*>(workspace);
  float* tile = reinterpret_cast<float*>(ws + l.tile_off);
  Entry* heaps = reinterpret_cast<Entry*>(ws + l.heap_off);
  int32_t* sizes = reinterpret_cast<int32_t*>(ws + l.size_off);
  int64_t* cursors = reinterpret_cast<int64_t*>(ws + l.cursor_off);

  for (int64_t q0 = 0; q0 < B; q0 += l.qb) {
    const int64_t qn = std::min(l.qb, B - q0);
    for (int64_t r = 0; r < qn; ++r) {
      sizes[r] = 0;
      cursors[r] = p.excl_indptr[q0 + r];
    }
    for (int64_t j0 = 0; j0 < N; j0 += l.nc) {
      const int64_t jn = std::min(l.nc, N - j0);
      if (d > 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(qn),
                    static_cast<int>(jn), static_cast<int>(d), 1.0f, p.Q + q0 * d,
                    static_cast<int>(d), p.V + j0 * d, static_cast<int>(d), 0.0f, tile,
                    static_cast<int>(jn));
      } else {
        std::fill(tile, tile + qn * jn, 0.0f);
      }
#pragma omp parallel for schedule(dynamic, 4) if (qn * jn > 16384)
      for (int64_t r = 0; r < qn; ++r) {
        select_segment(tile + r * jn, j0, j0 + jn, p.excl_indices, cursors[r],
                       p.excl_indptr[q0 + r + 1], heaps + r * K, sizes[r], K);
      }
    }
#pragma omp parallel for schedule(static) if (qn * K > 4096)
    for (int64_t r = 0; r < qn; ++r) {
      emit_row(heaps + r * K, sizes[r], K, p.out_ids + (q0 + r) * K, p.out_scores + (q0 + r) * K);
    }
  }
}

void topk_masked_naive_cpu(const TopKProblem& p) {
  const int K = p.K;
  std::vector<Entry> cand;
  for (int64_t b = 0; b < p.B; ++b) {
    cand.clear();
    const int32_t* ex = p.excl_indices + p.excl_indptr[b];
    const int64_t nex = p.excl_indptr[b + 1] - p.excl_indptr[b];
    for (int64_t j = 0; j < p.N; ++j) {
      if (std::binary_search(ex, ex + nex, static_cast<int32_t>(j))) continue;
      double acc = 0.0;
      for (int64_t k = 0; k < p.d; ++k) {
        acc += static_cast<double>(p.Q[b * p.d + k]) * static_cast<double>(p.V[j * p.d + k]);
      }
      const float s = static_cast<float>(acc);
      if (std::isnan(s)) continue;
      cand.push_back({s, static_cast<int32_t>(j)});
    }
    std::sort(cand.begin(), cand.end(), heap_less);
    const int64_t n = std::min<int64_t>(K, static_cast<int64_t>(cand.size()));
    for (int64_t i = 0; i < K; ++i) {
      p.out_ids[b * K + i] = i < n ? cand[i].id : -1;
      p.out_scores[b * K + i] = i < n ? cand[i].s : kNegInf;
    }
  }
}

}  // namespace gnnrec
