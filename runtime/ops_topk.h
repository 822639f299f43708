// Tensor-level masked top-K (kernels/topk.h has the full contract): validates the arguments,
// sizes the scratch and runs the CPU or CUDA kernel chosen by the tensors' device.
#pragma once
#include "kernels/topk.h"
#include "runtime/tensor.h"

namespace gnnrec {

// Q [B, d], V [N, d] f32 on one device; excl_indptr i64 [B+1], excl_indices i32 [nnz] item ids
// sorted ascending per row (the items to mask for query b); out_ids i32 [B, K], out_scores f32
// [B, K]. Scores = dot(q, v). Descending score, ties broken by smaller item id; excluded items
// never returned; fewer than K candidates -> padded with -1 / -inf. Never materialises a B x N
// score matrix beyond a bounded tile. On the CPU the exclusion lists are checked (sorted, ids
// in range); on a GPU only their shapes are (reading them back would cost a copy).
// Safe to call from several host threads at once (scratch is per thread).
void topk_masked(const Tensor& Q, const Tensor& V, const Tensor& excl_indptr,
                 const Tensor& excl_indices, int K, Tensor& out_ids, Tensor& out_scores,
                 TopKVariant variant = TopKVariant::kAuto);

// The variant topk_masked would run for these tensors (kAuto resolved).
TopKVariant topk_masked_variant(Device device, int64_t B, int64_t N, int K,
                                TopKVariant requested = TopKVariant::kAuto);

}  // namespace gnnrec
