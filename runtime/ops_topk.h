// Masked top-K over dot products: for each query row, the K items with the largest q . v that
// are not excluded. (Declaration shared with branch h/topk, which owns the real implementation.)
#pragma once
#include <cstdint>

#include "runtime/tensor.h"

namespace gnnrec {

enum class TopKVariant : uint8_t { kAuto, kNaive, kBlocked, kFused, kGemmSelect };
// Q [B, d], V [N, d] f32 on one device; excl_indptr i64 [B+1], excl_indices i32 item ids sorted ascending per
// row; out_ids i32 [B, K], out_scores f32 [B, K]; descending score, ties -> smaller item id; excluded items never
// returned; fewer than K candidates -> -1 / -inf padding.
void topk_masked(const Tensor& Q, const Tensor& V, const Tensor& excl_indptr, const Tensor& excl_indices,
                 int K, Tensor& out_ids, Tensor& out_scores, TopKVariant variant = TopKVariant::kAuto);

}  // namespace gnnrec
