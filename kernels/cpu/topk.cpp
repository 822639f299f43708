// CPU masked top-K (contract in kernels/topk.h).
//
// Variant 1, kCpuBlocked: the work is split into tasks of (a group of kRows = 64 queries, a
// range of items); OpenMP runs the tasks in parallel. A task walks its item range in chunks
// of `cols` items: one small sgemm writes the 64 x cols scores into the thread's tile (1 MiB /
// d, stays in L2), then each row's segment is merged into that row's size-K heap, skipping the
// excluded ids by walking the row's sorted exclusion list alongside the chunk (a cursor per
// row carries across chunks). A heap's root is its worst entry; while it is full, blocks of 16
// scores are first compared with the root in one vectorised pass and skipped when none reaches
// it, so most scores cost a compare. The item range is split only when there are fewer query
// groups than threads (small B, e.g. one user from the server); split heaps are merged at the
// end. Each sgemm stays below OpenBLAS's multi-threading threshold (M*N*K <= 2^18), so it runs
// in the calling OpenMP thread: no BLAS thread pool competes with the OpenMP threads. Bound by
// the GEMM (compute) for d >= 64.
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

constexpr int64_t kRows = 64;                   // queries per task
constexpr int64_t kGemmSingleThread = 1 << 18;  // OpenBLAS runs M*N*K at or below this serially
constexpr int32_t kEmptyId = std::numeric_limits<int32_t>::max();
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

struct Entry {
  float s;
  int32_t id;
};

// Heap order: the root is the worst entry, i.e. "a sits below b" when a is better than b.
inline bool heap_less(const Entry& a, const Entry& b) { return topk_better(a.s, a.id, b.s, b.id); }

size_t align64(size_t x) { return (x + 63) & ~size_t{63}; }

// How the problem is cut into tasks and where each piece of scratch lives.
struct Plan {
  int64_t cols = 0;       // items per sgemm of a full group
  int64_t groups = 0;     // query groups of kRows
  int64_t nsplit = 1;     // item ranges per group
  int64_t per_split = 0;  // items per range (a multiple of cols)
  int threads = 1;
  size_t thread_bytes = 0;  // per thread: tile, heaps, sizes, cursors
  size_t tile_off = 0, heap_off = 0, size_off = 0, cursor_off = 0;
  size_t partial_off = 0;  // nsplit > 1: per task heaps [tasks][kRows][K] and sizes
  size_t partial_size_off = 0;
  size_t total = 0;
};

// Items per sgemm for qn query rows: M*N*K stays at OpenBLAS's serial threshold (square-ish
// blocks for large qn keep the packing cost small next to the multiply-adds).
int64_t cols_for(int64_t qn, int64_t N, int64_t d) {
  const int64_t c = kGemmSingleThread / (std::max<int64_t>(qn, 1) * std::max<int64_t>(d, 1));
  return std::max<int64_t>(1, std::min(N, std::max<int64_t>(16, c / 16 * 16)));
}

Plan plan_for(int64_t B, int64_t N, int64_t d, int K) {
  Plan p;
  p.threads = std::max(1, omp_get_max_threads());
  p.groups = (B + kRows - 1) / kRows;
  const int64_t qn = std::min(B, kRows);
  p.cols = cols_for(qn, N, d);
  const int64_t chunks = (N + p.cols - 1) / p.cols;
  if (p.groups < p.threads && chunks > 1) {
    // Enough ranges to occupy every thread, each at least 4 chunks long.
    p.nsplit =
        std::max<int64_t>(1, std::min((p.threads + p.groups - 1) / p.groups, (chunks + 3) / 4));
  }
  p.per_split = (N + p.nsplit - 1) / p.nsplit;
  p.nsplit = std::max<int64_t>(1, (N + p.per_split - 1) / std::max<int64_t>(p.per_split, 1));
  // The largest tile any task uses: a short last group has fewer rows and more columns.
  int64_t tile = 0;
  for (int64_t rows : {qn, B % kRows}) {
    if (rows > 0) tile = std::max(tile, rows * cols_for(rows, N, d));
  }
  p.tile_off = 0;
  p.heap_off = align64(sizeof(float) * tile);
  p.size_off = align64(p.heap_off + sizeof(Entry) * kRows * K);
  p.cursor_off = align64(p.size_off + sizeof(int32_t) * kRows);
  p.thread_bytes = align64(p.cursor_off + sizeof(int64_t) * kRows);
  p.partial_off = p.thread_bytes * p.threads;
  const int64_t tasks = p.nsplit > 1 ? p.groups * p.nsplit : 0;
  p.partial_size_off = align64(p.partial_off + sizeof(Entry) * tasks * kRows * K);
  p.total = align64(p.partial_size_off + sizeof(int32_t) * tasks * kRows);
  return p;
}

// Merges scores s[0 .. j1-j0) of items j0..j1-1 into one row's heap, skipping excluded ids.
// `cursor` walks the row's sorted exclusion list [cursor, end).
inline void select_segment(const float* s, int64_t j0, int64_t j1, const int32_t* excl,
                           int64_t& cursor, int64_t end, Entry* heap, int32_t& size, int K) {
  int64_t j = j0;
  while (j < j1) {
    while (cursor < end && excl[cursor] < j) ++cursor;
    const int64_t stop = (cursor < end && excl[cursor] < j1) ? excl[cursor] : j1;
    // Full heap: most blocks of 16 scores hold nothing reaching the threshold; one vectorised
    // comparison pass skips them (ties with the threshold go to the exact path below).
    if (size == K) {
      for (; j + 16 <= stop; j += 16) {
        const float* p = s + (j - j0);
        const float thr = heap[0].s;
        bool any = false;
        for (int t = 0; t < 16; ++t) any |= p[t] >= thr;
        if (!any) continue;
        for (int t = 0; t < 16; ++t) {
          const int32_t id = static_cast<int32_t>(j + t);
          if (topk_better(p[t], id, heap[0].s, heap[0].id)) {
            std::pop_heap(heap, heap + size, heap_less);
            heap[size - 1] = {p[t], id};
            std::push_heap(heap, heap + size, heap_less);
          }
        }
      }
    }
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

TopKVariant topk_resolve_variant(bool on_gpu, int64_t B, int64_t /*N*/, int K) {
  if (!on_gpu) return TopKVariant::kCpuBlocked;
  // The fused kernel keeps K entries per query in shared memory, so large K goes to the GEMM
  // variant. Measured on an H200 (bench/results/2026-11-30-h200, K = 20, d = 64): for B = 1 the
  // fused kernel's item splits win (0.30 against 0.66 ms at N = 400k), for B >= 1024 the
  // cuBLAS GEMM + select wins 1.5-3.4x (3.66 against 12.4 ms at B = 1024, N = 400k; 14.9
  // against 21.0 ms for all Gowalla users). Between 1 and 1024 nothing was measured: the
  // switch at 16 keeps single requests (serving) on the fused kernel.
  return K <= kTopKFusedMaxK && B <= kTopKFusedMaxBatch ? TopKVariant::kCudaFused
                                                          : TopKVariant::kCudaGemmSelect;
}

size_t topk_masked_cpu_workspace_bytes(int64_t B, int64_t N, int64_t d, int K) {
  if (B == 0) return 0;
  return plan_for(B, N, d, K).total;
}

void topk_masked_cpu(const TopKProblem& p, void* workspace, size_t workspace_bytes) {
  const int64_t B = p.B, N = p.N, d = p.d;
  const int K = p.K;
  if (B == 0) return;
  const Plan pl = plan_for(B, N, d, K);
  GNNREC_EXPECTS(workspace != nullptr && workspace_bytes >= pl.total,
                 "topk_masked_cpu: workspace of {} bytes, needs {}", workspace_bytes, pl.total);
  char* ws = static_cast<char*>(workspace);
  Entry* partial = reinterpret_cast<Entry*>(ws + pl.partial_off);
  int32_t* partial_sizes = reinterpret_cast<int32_t*>(ws + pl.partial_size_off);
  const int64_t tasks = pl.groups * pl.nsplit;
  // Below ~4M multiply-adds (about a millisecond on one core) waking the team costs more
  // than it saves.
  const bool parallel = static_cast<double>(B) * N * std::max<int64_t>(d, 1) > 4e6;

#pragma omp parallel for schedule(dynamic, 1) num_threads(pl.threads) if (parallel)
  for (int64_t task = 0; task < tasks; ++task) {
    char* mine = ws + pl.thread_bytes * omp_get_thread_num();
    float* tile = reinterpret_cast<float*>(mine + pl.tile_off);
    const int64_t g = task / pl.nsplit, split = task % pl.nsplit;
    const int64_t q0 = g * kRows, qn = std::min(kRows, B - q0);
    const int64_t j_begin = split * pl.per_split;
    const int64_t j_end = std::min(N, j_begin + pl.per_split);
    Entry* heaps =
        pl.nsplit > 1 ? partial + task * kRows * K : reinterpret_cast<Entry*>(mine + pl.heap_off);
    int32_t* sizes = pl.nsplit > 1 ? partial_sizes + task * kRows
                                   : reinterpret_cast<int32_t*>(mine + pl.size_off);
    int64_t* cursors = reinterpret_cast<int64_t*>(mine + pl.cursor_off);
    for (int64_t r = 0; r < qn; ++r) {
      sizes[r] = 0;
      const int32_t* ex = p.excl_indices;
      cursors[r] = std::lower_bound(ex + p.excl_indptr[q0 + r], ex + p.excl_indptr[q0 + r + 1],
                                    static_cast<int32_t>(std::min<int64_t>(j_begin, INT32_MAX))) -
                   ex;
    }
    const int64_t cols = cols_for(qn, N, d);
    for (int64_t j0 = j_begin; j0 < j_end; j0 += cols) {
      const int64_t jn = std::min(cols, j_end - j0);
      if (d > 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(qn),
                    static_cast<int>(jn), static_cast<int>(d), 1.0f, p.Q + q0 * d,
                    static_cast<int>(d), p.V + j0 * d, static_cast<int>(d), 0.0f, tile,
                    static_cast<int>(jn));
      } else {
        std::fill(tile, tile + qn * jn, 0.0f);
      }
      for (int64_t r = 0; r < qn; ++r) {
        select_segment(tile + r * jn, j0, j0 + jn, p.excl_indices, cursors[r],
                       p.excl_indptr[q0 + r + 1], heaps + r * K, sizes[r], K);
      }
    }
    if (pl.nsplit == 1) {
      for (int64_t r = 0; r < qn; ++r) {
        emit_row(heaps + r * K, sizes[r], K, p.out_ids + (q0 + r) * K, p.out_scores + (q0 + r) * K);
      }
    }
  }
  if (pl.nsplit == 1) return;
    // Merge each query's split heaps into the first one (its entries are distinct items).
#pragma omp parallel for schedule(dynamic, 4) num_threads(pl.threads) if (parallel)
  for (int64_t q = 0; q < B; ++q) {
    const int64_t g = q / kRows, r = q % kRows;
    Entry* dst = partial + (g * pl.nsplit * kRows + r) * K;
    int32_t& size = partial_sizes[g * pl.nsplit * kRows + r];
    for (int64_t s = 1; s < pl.nsplit; ++s) {
      const int64_t t = g * pl.nsplit + s;
      const Entry* src = partial + (t * kRows + r) * K;
      for (int32_t i = 0; i < partial_sizes[t * kRows + r]; ++i) {
        if (size < K) {
          dst[size++] = src[i];
          std::push_heap(dst, dst + size, heap_less);
        } else if (heap_less(src[i], dst[0])) {
          std::pop_heap(dst, dst + size, heap_less);
          dst[size - 1] = src[i];
          std::push_heap(dst, dst + size, heap_less);
        }
      }
    }
    emit_row(dst, size, K, p.out_ids + q * K, p.out_scores + q * K);
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
