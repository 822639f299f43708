// Tensor-level index plumbing (kernels/index.h), dispatched by device.
#pragma once
#include "runtime/tensor.h"

namespace gnnrec {

// out = src + offset (i32)
void add_offset(const Tensor& src, int32_t offset, Tensor& out);
// out[r] = table[idx[r]]  (table i32, idx i64)
void gather_ids(const Tensor& table, const Tensor& idx, Tensor& out);
// Block-diagonal feature rows of unified node ids: out [n, fu + fi] (see kernels/index.h).
// xu [U, fu] and xi [I, fi] may have zero columns.
void gather_node_features(const Tensor& nodes, int32_t num_users, const Tensor& xu,
                          const Tensor& xi, Tensor& out);
// dst[ids[r]] = src[r] (unique ids)
void scatter_rows(const Tensor& src, const Tensor& ids, Tensor& dst);
// x[ids[r]] = 0
void zero_rows(const Tensor& ids, Tensor& x);

}  // namespace gnnrec
