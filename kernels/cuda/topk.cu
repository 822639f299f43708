// CUDA masked top-K (contract in kernels/topk.h). Two variants:
//
// Variant 3, kCudaFused (K <= kTopKFusedMaxK): one kernel computes scores and selects.
//   A block of 256 threads owns kFQ = 32 queries and walks an item range in tiles of kFI = 128
//   items. Per tile the 32 query rows and 128 item rows are staged through shared memory in
//   slices of kFD = 32 dimensions (transposed, padded against bank conflicts); warp w computes
//   the 4 x 128 scores of its queries 4w..4w+3, lane l holding items l, l+32, l+64, l+96, in
//   registers (4 x 4 FMAs per pair of shared loads; bound by shared-memory bandwidth and FMA
//   issue). Scores never leave registers: each warp builds a 128-bit exclusion mask per query
//   by reading the query's sorted exclusion list from a cursor that advances with the tiles,
//   then appends the candidates that beat the query's current K-th best (ballot + prefix
//   count) to a per-query buffer of kFCand entries in shared memory. When a buffer could
//   overflow, the warp sorts it (bitonic) and merges it into the query's sorted top-K list by
//   rank (each element's final position = its index + the number of better elements in the
//   other list, found by binary search), which also raises the threshold. Only B x K results
//   are written. When B is small, the item range is split across gridDim.y blocks so that
//   every SM has work; each split writes a sorted partial list and the selection kernel of
//   variant 4 merges the splits.
// Variant 4, kCudaGemmSelect (any K): the queries are processed in chunks of Bc rows and the
//   items in chunks of Nc columns with Bc x Nc <= kTopKGemmTileElems. cuBLASLt (fp32 compute,
//   no TF32) writes the chunk's scores into the tile; a warp-per-row kernel overwrites the
//   excluded entries with NaN (binary search for the chunk's first excluded id, then a strided
//   walk); a block-per-row kernel merges the row's tile segment into the row's running top-K
//   list, kept in the output arrays between chunks (same candidate buffer, bitonic sort and
//   rank merge as variant 3, at block scope). Bound by the GEMM for large d, otherwise by
//   reading the tile (which sits in L2).
//
// Both are deterministic: candidate order inside a buffer may vary, but keys (score, id) are
// distinct, so the sorted result does not. Internally an empty slot is (-inf, INT32_MAX), which
// every real candidate beats; in global memory it is (-inf, -1), as the contract says.
#include <algorithm>
#include <climits>
#include <cmath>

#include "kernels/cuda/cuda_utils.cuh"
#include "kernels/gemm.h"
#include "kernels/topk.h"

namespace gnnrec {
namespace {

constexpr int32_t kEmptyId = INT_MAX;

// ---- group-generic candidate merge ---------------------------------------------------------

struct WarpGroup {
  __device__ int rank() const { return threadIdx.x & 31; }
  __device__ int size() const { return 32; }
  __device__ void sync() const { __syncwarp(); }
};

struct BlockGroup {
  __device__ int rank() const { return threadIdx.x; }
  __device__ int size() const { return blockDim.x; }
  __device__ void sync() const { __syncthreads(); }
};

__device__ __forceinline__ bool better(float as, int32_t ai, float bs, int32_t bi) {
  return topk_better(as, ai, bs, bi);
}

// Number of entries of the best-first sorted list (s, id)[0, n) that are better than (x, xi).
__device__ __forceinline__ int count_better(const float* s, const int32_t* id, int n, float x,
                                            int32_t xi) {
  int lo = 0, hi = n;
  while (lo < hi) {
    const int mid = (lo + hi) >> 1;
    if (better(s[mid], id[mid], x, xi)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// Merges the n unsorted candidates (cs, ci) (capacity cap, a power of two) into the sorted
// best-first list (ls, li)[0, K), using (ts, ti)[0, K) as scratch. Every thread of the group
// calls it with the same arguments. On return the list holds the K best of both.
// Not inlined: the fused kernel calls it from eight unrolled sites.
template <class G>
__device__ __noinline__ void merge_candidates(G g, float* ls, int32_t* li, float* cs, int32_t* ci,
                                              int n, float* ts, int32_t* ti, int K) {
  int p = 1;
  while (p < n) p <<= 1;
  for (int i = n + g.rank(); i < p; i += g.size()) {
    cs[i] = -INFINITY;
    ci[i] = kEmptyId;
  }
  g.sync();
  // Bitonic sort of cs[0, p), best first.
  for (int size = 2; size <= p; size <<= 1) {
    for (int stride = size >> 1; stride > 0; stride >>= 1) {
      for (int t = g.rank(); t < (p >> 1); t += g.size()) {
        const int lo = 2 * stride * (t / stride) + (t % stride);
        const int hi = lo + stride;
        const bool best_first = (lo & size) == 0;
        const float a = cs[lo], b = cs[hi];
        const int32_t ai = ci[lo], bi = ci[hi];
        const bool swap = best_first ? better(b, bi, a, ai) : better(a, ai, b, bi);
        if (swap) {
          cs[lo] = b;
          ci[lo] = bi;
          cs[hi] = a;
          ci[hi] = ai;
        }
      }
      g.sync();
    }
  }
  // Rank merge: keys are distinct except the list's empty slots, whose ranks stay distinct
  // because no candidate is empty.
  for (int e = g.rank(); e < K; e += g.size()) {
    const int r = e + count_better(cs, ci, n, ls[e], li[e]);
    if (r < K) {
      ts[r] = ls[e];
      ti[r] = li[e];
    }
  }
  for (int e = g.rank(); e < n; e += g.size()) {
    const int r = e + count_better(ls, li, K, cs[e], ci[e]);
    if (r < K) {
      ts[r] = cs[e];
      ti[r] = ci[e];
    }
  }
  g.sync();
  for (int e = g.rank(); e < K; e += g.size()) {
    ls[e] = ts[e];
    li[e] = ti[e];
  }
  g.sync();
}

// ---- variant 4 pieces (also variant 3's split merge) ---------------------------------------

constexpr int kSelThreads = 256;
constexpr int kSelCand = 1024;  // candidate buffer; a multiple of kSelThreads, a power of two

size_t select_smem_bytes(int K) {
  return (2 * static_cast<size_t>(K) + kSelCand) * (sizeof(float) + sizeof(int32_t));
}

// One block per row (grid-stride over rows). Merges row r's candidates
//   scores s[r * lds + c], ids (ids ? ids[r * ldi + c] : col0 + c), c in [0, ncols)
// into the running list (out_s, out_i)[r * K, +K) (read unless `init`; global format, empty
// = (-inf, -1)). Candidates with a NaN score or a negative id are skipped.
__global__ void __launch_bounds__(kSelThreads)
    topk_select_rows_kernel(int64_t rows, int64_t ncols, const float* __restrict__ s, int64_t lds,
                            const int32_t* __restrict__ ids, int64_t ldi, int64_t col0, int K,
                            bool init, float* __restrict__ out_s, int32_t* __restrict__ out_i) {
  extern __shared__ float4 smem_raw[];
  float* ls = reinterpret_cast<float*>(smem_raw);
  float* ts = ls + K;
  float* cs = ts + K;
  int32_t* li = reinterpret_cast<int32_t*>(cs + kSelCand);
  int32_t* ti = li + K;
  int32_t* ci = ti + K;
  __shared__ int count;
  BlockGroup g;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    float* row_s = out_s + r * K;
    int32_t* row_i = out_i + r * K;
    for (int e = threadIdx.x; e < K; e += blockDim.x) {
      const int32_t id = init ? -1 : row_i[e];
      ls[e] = init ? -INFINITY : row_s[e];
      li[e] = id < 0 ? kEmptyId : id;
    }
    if (threadIdx.x == 0) count = 0;
    __syncthreads();
    // `n` mirrors `count` in a register: updated from the barrier's own count, so it is
    // uniform without reading the shared counter that other threads may already be bumping.
    int n = 0;
    for (int64_t base = 0; base < ncols; base += blockDim.x) {
      if (n + static_cast<int>(blockDim.x) > kSelCand) {
        merge_candidates(g, ls, li, cs, ci, n, ts, ti, K);
        n = 0;
        if (threadIdx.x == 0) count = 0;
        __syncthreads();
      }
      const float thr_s = ls[K - 1];
      const int32_t thr_i = li[K - 1];
      const int64_t c = base + threadIdx.x;
      bool ok = false;
      if (c < ncols) {
        const float v = s[r * lds + c];
        const int32_t id = ids ? ids[r * ldi + c] : static_cast<int32_t>(col0 + c);
        ok = id >= 0 && better(v, id, thr_s, thr_i);
        if (ok) {
          const int pos = atomicAdd(&count, 1);
          cs[pos] = v;
          ci[pos] = id;
        }
      }
      n += __syncthreads_count(ok);
    }
    if (n > 0) merge_candidates(g, ls, li, cs, ci, n, ts, ti, K);
    for (int e = threadIdx.x; e < K; e += blockDim.x) {
      row_s[e] = ls[e];
      row_i[e] = li[e] == kEmptyId ? -1 : li[e];
    }
    __syncthreads();  // before the next row overwrites the lists and the count
  }
}

// One warp per row of the tile: writes NaN over the excluded columns of rows row0 + r,
// r in [0, rows), whose items lie in [col0, col0 + ncols).
__global__ void topk_mask_tile_kernel(int64_t rows, int64_t row0,
                                      const int64_t* __restrict__ indptr,
                                      const int32_t* __restrict__ excl, int64_t col0, int64_t ncols,
                                      float* __restrict__ tile, int64_t ld) {
  const int64_t r = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / cuda::kWarp;
  const int lane = threadIdx.x % cuda::kWarp;
  if (r >= rows) return;  // whole warps leave together
  const int64_t begin = indptr[row0 + r], end = indptr[row0 + r + 1];
  // First entry >= col0 (every lane searches; the answer is uniform).
  int64_t lo = begin, hi = end;
  while (lo < hi) {
    const int64_t mid = (lo + hi) >> 1;
    if (excl[mid] < col0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  for (int64_t p = lo + lane;; p += cuda::kWarp) {
    const int64_t c = p < end ? static_cast<int64_t>(excl[p]) : INT64_MAX;
    const bool in = c < col0 + ncols;
    if (in && c >= col0) tile[r * ld + (c - col0)] = NAN;
    if (!__any_sync(0xffffffffu, in)) break;
  }
}

// ---- variant 3 -----------------------------------------------------------------------------

constexpr int kFQ = 32;                   // queries per block
constexpr int kFI = 128;                  // items per tile
constexpr int kFD = 32;                   // dimensions per shared-memory slice
constexpr int kFWarps = 8;                // 256 threads
constexpr int kFQPW = kFQ / kFWarps;      // 4 queries per warp
constexpr int kFIPL = kFI / cuda::kWarp;  // 4 items per lane
constexpr int kFCand = 256;               // candidate buffer per query (power of two, >= 2 * kFI)
static_assert(kFCand >= kFI && (kFCand & (kFCand - 1)) == 0, "candidate buffer size");

struct FusedSmem {
  size_t qs, vs, ls, li, cs, ci, ts, ti, mask, total;
};

FusedSmem fused_smem(int K) {
  FusedSmem m{};
  size_t off = 0;
  auto take = [&](size_t bytes) {
    const size_t at = off;
    off += (bytes + 15) & ~size_t{15};
    return at;
  };
  m.qs = take(sizeof(float) * kFD * (kFQ + 1));
  m.vs = take(sizeof(float) * kFD * (kFI + 1));
  m.ls = take(sizeof(float) * kFQ * K);
  m.li = take(sizeof(int32_t) * kFQ * K);
  m.cs = take(sizeof(float) * kFQ * kFCand);
  m.ci = take(sizeof(int32_t) * kFQ * kFCand);
  m.ts = take(sizeof(float) * kFWarps * K);
  m.ti = take(sizeof(int32_t) * kFWarps * K);
  m.mask = take(sizeof(uint32_t) * kFWarps * kFQPW * kFIPL);
  m.total = off;
  return m;
}

// Output row of (query q, split) is q * nsplit + split, each of K entries.
__global__ void __launch_bounds__(kFWarps* cuda::kWarp)
    topk_fused_kernel(int64_t B, int64_t N, int d, const float* __restrict__ Q,
                      const float* __restrict__ V, const int64_t* __restrict__ indptr,
                      const int32_t* __restrict__ excl, int K, int64_t items_per_split, int nsplit,
                      FusedSmem m, int32_t* __restrict__ out_i, float* __restrict__ out_s) {
  extern __shared__ float4 smem_raw[];
  char* base = reinterpret_cast<char*>(smem_raw);
  float* qs = reinterpret_cast<float*>(base + m.qs);  // [kFD][kFQ + 1]
  float* vs = reinterpret_cast<float*>(base + m.vs);  // [kFD][kFI + 1]
  float* ls = reinterpret_cast<float*>(base + m.ls);  // [kFQ][K]
  int32_t* li = reinterpret_cast<int32_t*>(base + m.li);
  float* cs = reinterpret_cast<float*>(base + m.cs);  // [kFQ][kFCand]
  int32_t* ci = reinterpret_cast<int32_t*>(base + m.ci);
  float* ts = reinterpret_cast<float*>(base + m.ts);  // [kFWarps][K]
  int32_t* ti = reinterpret_cast<int32_t*>(base + m.ti);
  uint32_t* mask = reinterpret_cast<uint32_t*>(base + m.mask);  // [kFWarps][kFQPW][kFIPL]

  const int tid = threadIdx.x;
  const int warp = tid / cuda::kWarp, lane = tid % cuda::kWarp;
  const int64_t q0 = static_cast<int64_t>(blockIdx.x) * kFQ;
  const int split = blockIdx.y;
  const int64_t j_begin = static_cast<int64_t>(split) * items_per_split;
  const int64_t j_end = j_begin + items_per_split < N ? j_begin + items_per_split : N;
  WarpGroup g;

  for (int e = tid; e < kFQ * K; e += blockDim.x) {
    ls[e] = -INFINITY;
    li[e] = kEmptyId;
  }

  // Per-warp query state, uniform across the warp (arrays indexed only in unrolled loops).
  bool valid[kFQPW];
  int count[kFQPW];
  float thr_s[kFQPW];
  int32_t thr_i[kFQPW];
  int64_t cursor[kFQPW], cend[kFQPW];
#pragma unroll
  for (int i = 0; i < kFQPW; ++i) {
    const int64_t q = q0 + warp * kFQPW + i;
    valid[i] = q < B;
    count[i] = 0;
    thr_s[i] = -INFINITY;
    thr_i[i] = kEmptyId;
    cursor[i] = cend[i] = 0;
    if (valid[i]) {
      int64_t lo = indptr[q], hi = indptr[q + 1];
      cend[i] = hi;
      while (lo < hi) {  // first exclusion >= j_begin
        const int64_t mid = (lo + hi) >> 1;
        if (excl[mid] < j_begin) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      cursor[i] = lo;
    }
  }
  __syncthreads();

  for (int64_t jt = j_begin; jt < j_end; jt += kFI) {
    float acc[kFQPW][kFIPL];
#pragma unroll
    for (int i = 0; i < kFQPW; ++i)
#pragma unroll
      for (int c = 0; c < kFIPL; ++c) acc[i][c] = 0.0f;

    for (int k0 = 0; k0 < d; k0 += kFD) {
      for (int e = tid; e < kFQ * kFD; e += blockDim.x) {
        const int q = e / kFD, k = e % kFD;
        const int64_t gq = q0 + q;
        qs[k * (kFQ + 1) + q] = (gq < B && k0 + k < d) ? Q[gq * d + k0 + k] : 0.0f;
      }
      for (int e = tid; e < kFI * kFD; e += blockDim.x) {
        const int it = e / kFD, k = e % kFD;
        const int64_t gj = jt + it;
        vs[k * (kFI + 1) + it] = (gj < j_end && k0 + k < d) ? V[gj * d + k0 + k] : 0.0f;
      }
      __syncthreads();
      const int kn = min(kFD, d - k0);
      for (int k = 0; k < kn; ++k) {
        float qv[kFQPW], vv[kFIPL];
#pragma unroll
        for (int i = 0; i < kFQPW; ++i) qv[i] = qs[k * (kFQ + 1) + warp * kFQPW + i];
#pragma unroll
        for (int c = 0; c < kFIPL; ++c) vv[c] = vs[k * (kFI + 1) + lane + c * cuda::kWarp];
#pragma unroll
        for (int i = 0; i < kFQPW; ++i)
#pragma unroll
          for (int c = 0; c < kFIPL; ++c) acc[i][c] = fmaf(qv[i], vv[c], acc[i][c]);
      }
      __syncthreads();
    }

    // Exclusion masks of this tile, one 128-bit mask per query of the warp.
    uint32_t* wmask = mask + warp * kFQPW * kFIPL;
    if (lane < kFQPW * kFIPL) wmask[lane] = 0u;
    __syncwarp();
#pragma unroll
    for (int i = 0; i < kFQPW; ++i) {
      if (!valid[i]) continue;
      int64_t p = cursor[i];
      while (p < cend[i]) {
        const int64_t idx = p + lane;
        const int64_t c = idx < cend[i] ? static_cast<int64_t>(excl[idx]) : INT64_MAX;
        const bool in = c < jt + kFI;
        if (in && c >= jt) {
          const int off = static_cast<int>(c - jt);
          atomicOr(&wmask[i * kFIPL + (off >> 5)], 1u << (off & 31));
        }
        const int n_in = __popc(__ballot_sync(0xffffffffu, in));
        p += n_in;
        if (n_in < cuda::kWarp) break;
      }
      cursor[i] = p;
    }
    __syncwarp();

    // Candidates that beat the current K-th best go to the query's buffer.
#pragma unroll
    for (int i = 0; i < kFQPW; ++i) {
      if (!valid[i]) continue;
      const int ql = warp * kFQPW + i;
      float* qls = ls + ql * K;
      int32_t* qli = li + ql * K;
      float* qcs = cs + ql * kFCand;
      int32_t* qci = ci + ql * kFCand;
      if (count[i] + kFI > kFCand) {
        merge_candidates(g, qls, qli, qcs, qci, count[i], ts + warp * K, ti + warp * K, K);
        count[i] = 0;
        thr_s[i] = qls[K - 1];
        thr_i[i] = qli[K - 1];
      }
#pragma unroll
      for (int c = 0; c < kFIPL; ++c) {
        const int64_t j = jt + lane + c * cuda::kWarp;
        const bool masked = (wmask[i * kFIPL + c] >> lane) & 1u;
        const bool ok =
            j < j_end && !masked && better(acc[i][c], static_cast<int32_t>(j), thr_s[i], thr_i[i]);
        const uint32_t bal = __ballot_sync(0xffffffffu, ok);
        if (ok) {
          const int pos = count[i] + __popc(bal & ((1u << lane) - 1u));
          qcs[pos] = acc[i][c];
          qci[pos] = static_cast<int32_t>(j);
        }
        count[i] += __popc(bal);
      }
    }
    __syncwarp();
  }

  // Final merges and the write-out of each query's list.
#pragma unroll
  for (int i = 0; i < kFQPW; ++i) {
    if (!valid[i]) continue;
    const int ql = warp * kFQPW + i;
    float* qls = ls + ql * K;
    int32_t* qli = li + ql * K;
    if (count[i] > 0) {
      merge_candidates(g, qls, qli, cs + ql * kFCand, ci + ql * kFCand, count[i], ts + warp * K,
                       ti + warp * K, K);
    }
    const int64_t row = (q0 + ql) * nsplit + split;
    for (int e = lane; e < K; e += cuda::kWarp) {
      out_s[row * K + e] = qls[e];
      out_i[row * K + e] = qli[e] == kEmptyId ? -1 : qli[e];
    }
  }
}

struct FusedPlan {
  int nsplit = 1;
  int64_t items_per_split = 0;
};

FusedPlan fused_plan(int64_t B, int64_t N, int num_sms) {
  FusedPlan p;
  const int64_t qblocks = (B + kFQ - 1) / kFQ;
  const int64_t target = 2 * static_cast<int64_t>(num_sms > 0 ? num_sms : 1);
  int64_t nsplit = 1;
  if (qblocks < target) {
    // Each split keeps at least 4 tiles, so the merge stays small next to the scan.
    const int64_t max_split = std::max<int64_t>(1, N / (4 * kFI));
    nsplit = std::min((target + qblocks - 1) / qblocks, max_split);
  }
  int64_t per = (N + nsplit - 1) / nsplit;
  per = std::max<int64_t>(kFI, (per + kFI - 1) / kFI * kFI);
  p.items_per_split = per;
  p.nsplit = static_cast<int>(std::max<int64_t>(1, (N + per - 1) / per));
  return p;
}

struct GemmPlan {
  int64_t bc = 0, nc = 0;
};

GemmPlan gemm_plan(int64_t B, int64_t N) {
  GemmPlan p;
  const int64_t base_nc = std::max<int64_t>(1, std::min<int64_t>(N, 8192));
  p.bc = std::max<int64_t>(1, std::min(B, kTopKGemmTileElems / base_nc));
  p.nc = std::max<int64_t>(1, std::min(N, kTopKGemmTileElems / p.bc));
  return p;
}

void launch_select(int64_t rows, int64_t ncols, const float* s, int64_t lds, const int32_t* ids,
                   int64_t ldi, int64_t col0, int K, bool init, float* out_s, int32_t* out_i,
                   cudaStream_t st) {
  const size_t smem = select_smem_bytes(K);
  // The row's running list lives in shared memory: past the opt-in limit (227 KiB on sm_90,
  // K of about 14,000) the launch would fail with a bare "invalid argument".
  int dev = 0, smem_max = 0;
  GNNREC_CUDA_CHECK(cudaGetDevice(&dev));
  GNNREC_CUDA_CHECK(
      cudaDeviceGetAttribute(&smem_max, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
  GNNREC_EXPECTS(smem + sizeof(int) <= static_cast<size_t>(smem_max),
                 "topk_masked_cuda: K = {} needs {} bytes of shared memory per block, the GPU "
                 "allows {}",
                 K, smem + sizeof(int), smem_max);
  GNNREC_CUDA_CHECK(cudaFuncSetAttribute(topk_select_rows_kernel,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         static_cast<int>(smem)));
  const int grid = static_cast<int>(std::min<int64_t>(rows, 65535 * 4));
  topk_select_rows_kernel<<<grid, kSelThreads, smem, st>>>(rows, ncols, s, lds, ids, ldi, col0, K,
                                                           init, out_s, out_i);
  GNNREC_CUDA_LAUNCH_CHECK();
}

}  // namespace

size_t topk_masked_cuda_workspace_bytes(int64_t B, int64_t N, int64_t /*d*/, int K,
                                        TopKVariant variant, int num_sms) {
  if (B == 0) return 0;
  if (variant == TopKVariant::kCudaFused) {
    const FusedPlan fp = fused_plan(B, N, num_sms);
    if (fp.nsplit <= 1) return 0;
    return static_cast<size_t>(B) * fp.nsplit * K * (sizeof(float) + sizeof(int32_t)) + 64;
  }
  const GemmPlan gp = gemm_plan(B, N);
  return static_cast<size_t>(gp.bc * gp.nc) * sizeof(float);
}

void topk_masked_cuda(const TopKProblem& p, TopKVariant variant, int num_sms, void* workspace,
                      size_t workspace_bytes, void* lt_handle, void* gemm_workspace,
                      size_t gemm_workspace_bytes, Stream stream) {
  const int64_t B = p.B, N = p.N, d = p.d;
  const int K = p.K;
  if (B == 0) return;
  cudaStream_t st = cuda::as_cuda(stream);
  GNNREC_EXPECTS(variant == TopKVariant::kCudaFused || variant == TopKVariant::kCudaGemmSelect,
                 "topk_masked_cuda: variant {} is not a CUDA variant", topk_variant_name(variant));
  const size_t need = topk_masked_cuda_workspace_bytes(B, N, d, K, variant, num_sms);
  GNNREC_EXPECTS(workspace_bytes >= need && (need == 0 || workspace != nullptr),
                 "topk_masked_cuda: workspace of {} bytes, needs {}", workspace_bytes, need);

  if (variant == TopKVariant::kCudaFused) {
    GNNREC_EXPECTS(K <= kTopKFusedMaxK, "topk_masked_cuda: the fused variant takes K <= {}, got {}",
                   kTopKFusedMaxK, K);
    GNNREC_EXPECTS(d <= INT_MAX, "topk_masked_cuda: d = {} too large", d);
    const FusedPlan fp = fused_plan(B, N, num_sms);
    const FusedSmem m = fused_smem(K);
    GNNREC_CUDA_CHECK(cudaFuncSetAttribute(
        topk_fused_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(m.total)));
    const int64_t qblocks = (B + kFQ - 1) / kFQ;
    GNNREC_EXPECTS(qblocks <= INT_MAX && fp.nsplit <= 65535, "topk_masked_cuda: B = {} too large",
                   B);
    const dim3 grid(static_cast<unsigned>(qblocks), static_cast<unsigned>(fp.nsplit));
    if (fp.nsplit == 1) {
      topk_fused_kernel<<<grid, kFWarps * cuda::kWarp, m.total, st>>>(
          B, N, static_cast<int>(d), p.Q, p.V, p.excl_indptr, p.excl_indices, K, fp.items_per_split,
          1, m, p.out_ids, p.out_scores);
      GNNREC_CUDA_LAUNCH_CHECK();
      return;
    }
    // Partial lists [B][nsplit][K], then one selection pass over each row's nsplit * K entries.
    float* part_s = static_cast<float*>(workspace);
    int32_t* part_i = reinterpret_cast<int32_t*>(part_s + B * fp.nsplit * K);
    topk_fused_kernel<<<grid, kFWarps * cuda::kWarp, m.total, st>>>(
        B, N, static_cast<int>(d), p.Q, p.V, p.excl_indptr, p.excl_indices, K, fp.items_per_split,
        fp.nsplit, m, part_i, part_s);
    GNNREC_CUDA_LAUNCH_CHECK();
    const int64_t width = static_cast<int64_t>(fp.nsplit) * K;
    launch_select(B, width, part_s, width, part_i, width, 0, K, true, p.out_scores, p.out_ids, st);
    return;
  }

  // kCudaGemmSelect
  const GemmPlan gp = gemm_plan(B, N);
  float* tile = static_cast<float*>(workspace);
  if (N == 0) {
    launch_select(B, 0, tile, 0, nullptr, 0, 0, K, true, p.out_scores, p.out_ids, st);
    return;
  }
  for (int64_t r0 = 0; r0 < B; r0 += gp.bc) {
    const int64_t rn = std::min(gp.bc, B - r0);
    for (int64_t c0 = 0; c0 < N; c0 += gp.nc) {
      const int64_t cn = std::min(gp.nc, N - c0);
      GemmShape s;
      s.trans_a = false;
      s.trans_b = true;
      s.m = rn;
      s.n = cn;
      s.k = d;
      s.lda = d > 0 ? d : 1;
      s.ldb = d > 0 ? d : 1;
      s.ldc = cn;
      gemm_cuda(s, 1.0f, p.Q + r0 * d, p.V + c0 * d, 0.0f, tile, nullptr, Epilogue::kNone,
                lt_handle, gemm_workspace, gemm_workspace_bytes, /*allow_tf32=*/false, stream);
      const int threads = 256;
      const int64_t warps_per_block = threads / cuda::kWarp;
      const int blocks = static_cast<int>((rn + warps_per_block - 1) / warps_per_block);
      topk_mask_tile_kernel<<<blocks, threads, 0, st>>>(rn, r0, p.excl_indptr, p.excl_indices, c0,
                                                        cn, tile, cn);
      GNNREC_CUDA_LAUNCH_CHECK();
      launch_select(rn, cn, tile, cn, nullptr, 0, c0, K, c0 == 0, p.out_scores + r0 * K,
                    p.out_ids + r0 * K, st);
    }
  }
}

}  // namespace gnnrec
