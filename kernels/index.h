// Index plumbing for mini-batch assembly: small gathers and scatters over id arrays and rows.
// All overwrite their outputs and are deterministic (scatter_rows requires unique ids).
#pragma once
#include "kernels/common.h"

namespace gnnrec {

// out[i] = src[i] + offset
void add_offset_i32_cpu(int64_t n, const int32_t* src, int32_t offset, int32_t* out);
void add_offset_i32_cuda(int64_t n, const int32_t* src, int32_t offset, int32_t* out, Stream s);
// out[r] = table[idx[r]]  (idx i64)
void gather_i32_cpu(int64_t n, const int32_t* table, const int64_t* idx, int32_t* out);
void gather_i32_cuda(int64_t n, const int32_t* table, const int64_t* idx, int32_t* out, Stream s);
// Feature rows of unified node ids (users < num_users, items after): out[r, 0:fu] = xu[node] for a
// user, out[r, fu:fu+fi] = xi[node - num_users] for an item, zeros elsewhere. This block-diagonal
// layout lets one GEMM with [P_user; P_item] apply per-type projections.
void gather_node_features_cpu(int64_t n, const int32_t* nodes, int32_t num_users, const float* xu,
                              int64_t fu, const float* xi, int64_t fi, float* out);
void gather_node_features_cuda(int64_t n, const int32_t* nodes, int32_t num_users, const float* xu,
                               int64_t fu, const float* xi, int64_t fi, float* out, Stream s);
// dst[ids[r], :] = src[r, :] for r < m (ids unique; other rows of dst untouched).
void scatter_rows_cpu(int64_t m, int64_t d, const float* src, const int32_t* ids, float* dst);
void scatter_rows_cuda(int64_t m, int64_t d, const float* src, const int32_t* ids, float* dst,
                       Stream s);
// Zeroes rows ids[r] of x[., d] (ids need not be unique).
void zero_rows_cpu(int64_t m, int64_t d, const int32_t* ids, float* x);
void zero_rows_cuda(int64_t m, int64_t d, const int32_t* ids, float* x, Stream s);

}  // namespace gnnrec
