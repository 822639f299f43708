// Masked top-K by dot product: for each query row q of Q[B, d], the K items v of V[N, d] with
// the largest score <q, v>, skipping the items listed for q in a CSR exclusion list (the items
// the user has already seen). Used by `gnnrec recommend`, the evaluator and the server.
//
// Contract (all backends and variants):
//   - Q [B, d] and V [N, d] f32 row-major; excl_indptr i64 [B + 1] (excl_indptr[0] may be
//     non-zero: rows index into excl_indices as given), excl_indices i32, each row's ids sorted
//     ascending (duplicates allowed). Ids outside [0, N) are ignored.
//   - out_ids i32 [B, K], out_scores f32 [B, K] are overwritten. Row b lists its best items in
//     order of descending score, ties broken by the smaller item id: the order is the key
//     (score desc, id asc), so the result is deterministic. Excluded items are never returned,
//     no item is returned twice, and items whose score is NaN are skipped. A row with fewer
//     than K candidates is padded with id -1 and score -inf.
//   - Scores are fp32 dot products (no TF32, no reduced precision); the summation order
//     differs between backends, so scores agree to rounding and ids agree except where scores
//     tie to within rounding.
//   - Never materialises a B x N score matrix: the CPU and the CUDA GEMM variant work on a
//     bounded tile, the fused CUDA variant keeps scores in registers.
//   - K >= 1. B, N or d may be 0.
#pragma once
#include <cstdint>

#include "kernels/common.h"

namespace gnnrec {

// Kernel variants (how each parallelises is described in kernels/cpu/topk.cpp and
// kernels/cuda/topk.cu):
//   1 kCpuBlocked      CPU: sgemm of a query block against an item chunk into a bounded tile,
//                      exclusions merged in, one size-K heap per query; OpenMP over queries.
//   2 kCpuNaive        CPU: all N scores per query in double, full sort. Reference for tests.
//   3 kCudaFused       CUDA: one kernel; item tiles staged in shared memory, scores kept in
//                      registers, warp-level candidate filtering and bitonic merges into a
//                      per-query top-K list in shared memory; K <= kTopKFusedMaxK.
//   4 kCudaGemmSelect  CUDA: cuBLAS GEMM (fp32) into a bounded score tile, exclusions written
//                      as NaN, then a block-per-row selection kernel; any K.
// kAuto picks kCpuBlocked on the CPU and, on the GPU, by K and B (topk_resolve_variant).
enum class TopKVariant : uint8_t {
  kAuto = 0,
  kCpuBlocked = 1,
  kCpuNaive = 2,
  kCudaFused = 3,
  kCudaGemmSelect = 4,
};

const char* topk_variant_name(TopKVariant v);

// Largest K the fused CUDA variant accepts (its per-query lists live in shared memory).
constexpr int kTopKFusedMaxK = 128;
// kAuto uses the fused variant only up to this many queries (see topk_resolve_variant).
constexpr int64_t kTopKFusedMaxBatch = 16;
// The CUDA GEMM variant's score tile holds at most this many floats (32 MiB: fits in L2 of
// an H100/H200, so the selection pass reads the tile from cache).
constexpr int64_t kTopKGemmTileElems = int64_t{8} << 20;

// The variant kAuto runs for these sizes (on_gpu: the tensors are on a GPU).
TopKVariant topk_resolve_variant(bool on_gpu, int64_t B, int64_t N, int K);

struct TopKProblem {
  int64_t B = 0, N = 0, d = 0;
  int K = 1;
  const float* Q = nullptr;              // [B, d]
  const float* V = nullptr;              // [N, d]
  const int64_t* excl_indptr = nullptr;  // [B + 1]
  const int32_t* excl_indices = nullptr;
  int32_t* out_ids = nullptr;   // [B, K]
  float* out_scores = nullptr;  // [B, K]
};

// ---- CPU ----------------------------------------------------------------------------------
// Scratch for kCpuBlocked (tile, per-query heaps, exclusion cursors); 0 for kCpuNaive.
size_t topk_masked_cpu_workspace_bytes(int64_t B, int64_t N, int64_t d, int K);
// kCpuBlocked. `workspace` must hold topk_masked_cpu_workspace_bytes(...) bytes.
void topk_masked_cpu(const TopKProblem& p, void* workspace, size_t workspace_bytes);
// kCpuNaive: the reference (allocates its own scratch; tests and benchmarks only).
void topk_masked_naive_cpu(const TopKProblem& p);

// ---- CUDA ---------------------------------------------------------------------------------
// `variant` is kCudaFused or kCudaGemmSelect (resolve kAuto first). `num_sms` is the
// device's multiprocessor count (it decides how the fused variant splits the item range when
// B is small). Global scratch; 0 is possible.
size_t topk_masked_cuda_workspace_bytes(int64_t B, int64_t N, int64_t d, int K, TopKVariant variant,
                                        int num_sms);
// Runs on `stream`; all pointers are device pointers. `lt_handle`, `gemm_workspace` and
// `gemm_workspace_bytes` are the cuBLASLt handle and its workspace (used by kCudaGemmSelect).
void topk_masked_cuda(const TopKProblem& p, TopKVariant variant, int num_sms, void* workspace,
                      size_t workspace_bytes, void* lt_handle, void* gemm_workspace,
                      size_t gemm_workspace_bytes, Stream stream);

// ---- shared helpers (host and device) ----------------------------------------------------
// The ranking order: a is better than b when its score is higher, or equal with a smaller id.
// NaN is never better than anything, so a NaN score is never selected.
GNNREC_HD bool topk_better(float as, int32_t ai, float bs, int32_t bi) {
  return as > bs || (as == bs && ai < bi);
}

}  // namespace gnnrec
