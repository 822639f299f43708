// Neighbour aggregation over a sampled block, forward and backward (GraphSAGE's "a_v = agg h_w").
//
// A block is a CSR from dst rows to src rows: indptr i32 [n_dst+1], indices i32 [nnz] with
// 0 <= indices[j] < n_src. Its transpose (t_indptr i32 [n_src+1], t_indices i32 [nnz]) lists, for
// each src row, the dst rows that contain it, ASCENDING within a src row (a dst row that lists the
// same src twice appears twice, adjacently). Matrices are row-major f32 with explicit row strides
// (ld_*, in elements) so the forward can write straight into a column slice of a wider matrix.
//
// Forward (overwrites out[r, 0:d] for every r < n_dst):
//   kSum:  out[r] = sum_{j in row r} src[indices[j]]     (summed in row order, from +0.0f)
//   kMean: out[r] = kSum(r) * (1.0f / deg(r))
//   kMax:  out[r, c] = max_j src[indices[j], c]; argmax[r, c] = the src row that won. Ties go to
//          the FIRST neighbour in row order (strict '>' while scanning), so a duplicated
//          neighbour and equal values pick a well-defined row. NaN inputs are not propagated
//          reliably (comparisons with NaN are false): the sampler never produces them.
//   Empty rows (deg 0) give zeros, and argmax = -1.
// Backward (gathers through the transpose; no atomics):
//   d_src[j, c] (= or +=) sum over p in t-row j, in t_indices order, of
//     kSum:  d_out[r_p, c]
//     kMean: d_out[r_p, c] * (1.0f / deg(r_p))
//     kMax:  d_out[r_p, c] if argmax[r_p, c] == j, each dst row counted once even when it lists j
//            several times (the forward used one copy).
//   The sum over p starts from +0.0f; accumulate=true then adds it to the old d_src in one step.
//   Every row j < n_src is written (rows with no out-edges get 0 or stay as they were).
//
// Determinism: every output element is a fixed-order float sum, so results repeat bit for bit,
// and the CPU and CUDA kernels give the same bits for kSum / kMean / kMax (see kernels/nn_math.h).
#pragma once
#include "kernels/common.h"

namespace gnnrec {

enum class AggKind : uint8_t { kMean, kMax, kSum };

inline const char* agg_kind_name(AggKind k) {
  switch (k) {
    case AggKind::kMean:
      return "mean";
    case AggKind::kMax:
      return "max";
    case AggKind::kSum:
      return "sum";
  }
  return "?";
}

// argmax: i32 [n_dst, d] (row stride d); required for kMax, ignored (may be null) otherwise.
void aggregate_forward_cpu(AggKind kind, int64_t n_dst, int64_t d, const int32_t* indptr,
                           const int32_t* indices, const float* src, int64_t ld_src, float* out,
                           int64_t ld_out, int32_t* argmax);
// Plain loops accumulating in double: the reference for tests.
void aggregate_forward_naive_cpu(AggKind kind, int64_t n_dst, int64_t d, const int32_t* indptr,
                                 const int32_t* indices, const float* src, int64_t ld_src,
                                 float* out, int64_t ld_out, int32_t* argmax);
void aggregate_forward_cuda(AggKind kind, int64_t n_dst, int64_t d, const int32_t* indptr,
                            const int32_t* indices, const float* src, int64_t ld_src, float* out,
                            int64_t ld_out, int32_t* argmax, Stream stream);

// indptr (the forward CSR) gives deg(r) for kMean; argmax as written by the forward (kMax only).
void aggregate_backward_cpu(AggKind kind, int64_t n_src, int64_t d, const int32_t* indptr,
                            const int32_t* t_indptr, const int32_t* t_indices, const float* d_out,
                            int64_t ld_dout, const int32_t* argmax, float* d_src, int64_t ld_dsrc,
                            bool accumulate);
// Reference: scatters over the FORWARD CSR in double (an independent formulation of the same sum).
// n_dst rows of the forward block; d_src has n_src rows.
void aggregate_backward_naive_cpu(AggKind kind, int64_t n_dst, int64_t n_src, int64_t d,
                                  const int32_t* indptr, const int32_t* indices, const float* d_out,
                                  int64_t ld_dout, const int32_t* argmax, float* d_src,
                                  int64_t ld_dsrc, bool accumulate);
void aggregate_backward_cuda(AggKind kind, int64_t n_src, int64_t d, const int32_t* indptr,
                             const int32_t* t_indptr, const int32_t* t_indices, const float* d_out,
                             int64_t ld_dout, const int32_t* argmax, float* d_src, int64_t ld_dsrc,
                             bool accumulate, Stream stream);

// dst[r, 0:d] = src[r, 0:d] (accumulate=false) or dst[r] + src[r] (accumulate=true), strided
// rows: builds the self half of [h_self || agg] and adds the self half of its gradient back.
void copy_rows_2d_cpu(int64_t rows, int64_t d, const float* src, int64_t ld_src, float* dst,
                      int64_t ld_dst, bool accumulate);
void copy_rows_2d_cuda(int64_t rows, int64_t d, const float* src, int64_t ld_src, float* dst,
                       int64_t ld_dst, bool accumulate, Stream stream);

}  // namespace gnnrec
