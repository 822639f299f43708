// Tensor-level neural-network ops for GraphSAGE training: aggregation, the fused SAGE layer,
// link losses and scores, embedding gathers/scatters, the MLP scoring head and the optimisers.
// Each op validates its arguments once (dtypes, shapes, one device for all operands; on the CPU
// also index ranges and CSR structure) and runs the CPU or CUDA kernel chosen by the tensors'
// device, on that device's context stream. Scratch comes from a per-thread, per-device workspace
// owned here (kernels never allocate). f32 data, i32 indices unless stated.
//
// Determinism: every op gives bit-identical results when repeated on the same device (no float
// atomics; reductions in a fixed order). See docs/kernels.md for which ops also match bit for bit
// across CPU and CUDA.
#pragma once
#include <vector>

#include "kernels/aggregate.h"
#include "kernels/loss.h"
#include "kernels/optim.h"
#include "runtime/tensor.h"

namespace gnnrec {

// ---- Aggregation (kernels/aggregate.h has the exact contract) --------------------------------
// A block: indptr i32 [n_dst+1], indices i32 [nnz] (src rows), and its transpose t_indptr i32
// [n_src+1], t_indices i32 [nnz] (dst rows, ascending within a src row).
// out[r, col_off : col_off+d] = agg over j in row r of src[indices[j], :], d = src.dim(1);
// out is [n_dst, >= col_off + d] (its row stride is out.dim(1)); other columns untouched. Empty
// rows give zeros. kMax also writes *argmax (i32 [n_dst, d]): the src row that won, -1 for empty
// rows, ties -> the first neighbour in row order. argmax may be null for kMean / kSum.
void aggregate_forward(AggKind kind, const Tensor& indptr, const Tensor& indices, const Tensor& src,
                       Tensor& out, int64_t col_off, Tensor* argmax);
// d_src [n_src, d] (= or +=) sum over dst rows r containing j of w * d_out[r, col_off:col_off+d],
// w = 1/deg(r) (mean), 1 (sum); for max only where argmax[r, f] == j (once per dst row even if
// it lists j twice). Gathers through the transpose. accumulate=false overwrites every row.
void aggregate_backward(AggKind kind, const Tensor& indptr, const Tensor& t_indptr,
                        const Tensor& t_indices, const Tensor& d_out, int64_t col_off,
                        const Tensor* argmax, Tensor& d_src, bool accumulate);

// ---- Fused SAGE layer ---------------------------------------------------------------------------
// X = [h_src[0:n_dst] || agg(h_src)] (n_dst x 2*d_in: one row copy + one aggregation writing the
// right half), out = act(X · W + b), W [2*d_in, d_out] (rows 0..d_in-1 = W_self, d_in.. =
// W_neigh), b [d_out], act = ReLU or identity, via one GEMM with the bias(+ReLU) epilogue.
// The dst nodes are the first n_dst src rows (the sampler's convention). out [n_dst, d_out] is
// preallocated by the caller.
struct SageCache {
  Tensor x;       // [n_dst, 2*d_in], (re)allocated by the forward when missing or mis-shaped
  Tensor out;     // ALIASES the forward's `out` (no copy): do not overwrite it before backward
  Tensor argmax;  // i32 [n_dst, d_in], kMax only
};
void sage_layer_forward(AggKind kind, const Tensor& indptr, const Tensor& indices,
                        const Tensor& h_src, const Tensor& W, const Tensor& b, bool relu,
                        Tensor& out, SageCache& cache);
// Given d_out [n_dst, d_out], overwrites dW [2*d_in, d_out], db [d_out] and d_h_src
// [n_src, d_in] (self half into rows 0..n_dst-1, neighbour half through aggregate_backward).
// relu=true masks d_out with cache.out > 0.
void sage_layer_backward(AggKind kind, const Tensor& indptr, const Tensor& t_indptr,
                         const Tensor& t_indices, const Tensor& W, const SageCache& cache,
                         const Tensor& d_out, bool relu, Tensor& dW, Tensor& db, Tensor& d_h_src);

// ---- Link losses and scores (kernels/loss.h) ---------------------------------------------------
// Z [n, d] final embeddings; u_idx [B], pos_idx [B], neg_idx [B, k] rows of Z.
// s = inv_temp * dot(z_a, z_b).
//   kBpr: loss = mean over (b, j) of softplus(-(s_pos_b - s_neg_bj))    (needs k >= 1)
//   kBce: loss = mean over b of [softplus(-s_pos_b) + sum_j softplus(s_neg_bj)]
// dZ [n, d] is OVERWRITTEN with d(loss)/dZ (rows used several times get a deterministic sum;
// unused rows 0). loss_accum (f32 [1], same device) += the batch loss.
void link_loss(LossKind kind, const Tensor& Z, const Tensor& u_idx, const Tensor& pos_idx,
               const Tensor& neg_idx, float inv_temp, Tensor& dZ, Tensor& loss_accum);
// The same losses from precomputed scores [B, 1+k] (column 0 = positive, then the k negatives),
// e.g. from the MLP head: d_scores [B, 1+k] overwritten, loss_accum += loss.
void score_loss(LossKind kind, const Tensor& scores, Tensor& d_scores, Tensor& loss_accum);
// out[p] = inv_temp * dot(Za[a_idx[p]], Zb[b_idx[p]]); Za [na, d], Zb [nb, d], out f32 [P].
void pair_scores(const Tensor& Za, const Tensor& a_idx, const Tensor& Zb, const Tensor& b_idx,
                 float inv_temp, Tensor& out);
// The B*(1+k) pairs of a link batch in score_loss order: a_idx[b*(1+k)+j] = u[b],
// b_idx[...] = pos[b] (j = 0) or neg[b, j-1]. a_idx, b_idx i32 [B*(1+k)].
void expand_link_pairs(const Tensor& u_idx, const Tensor& pos_idx, const Tensor& neg_idx,
                       Tensor& a_idx, Tensor& b_idx);

// ---- Embedding rows (kernels/embedding.h) ------------------------------------------------------
// out[r, :] = table[ids[r], :] (accumulate=false) or += (accumulate=true). table [n, d], ids [R],
// out [R, d].
void embedding_gather(const Tensor& table, const Tensor& ids, Tensor& out, bool accumulate);
// The gather's backward, deterministic: out[i, :] (= or +=) sum over r with ids[r] == i of
// grad_rows[r, :], in r order. ids [R] (repeats allowed), grad_rows [R, d], out [n, d]; with
// accumulate=false rows never named are zeroed.
void embedding_scatter_add(const Tensor& ids, const Tensor& grad_rows, Tensor& out,
                           bool accumulate);

// ---- Optional MLP scoring head -----------------------------------------------------------------
// score(a, b) = relu([z_a || z_b || z_a*z_b] · W1 + b1) · W2 + b2 for pairs (a_idx[p], b_idx[p])
// of rows of Z [n, d]. W1 [3d, h], b1 [h], W2 [h, 1], b2 [1]; scores f32 [P] (or [P, 1]).
struct MlpHeadCache {
  Tensor x;  // [P, 3d] the head's input, (re)allocated by the forward
  Tensor h;  // [P, h] hidden activations after the ReLU
};
void mlp_head_forward(const Tensor& Z, const Tensor& a_idx, const Tensor& b_idx, const Tensor& W1,
                      const Tensor& b1, const Tensor& W2, const Tensor& b2, Tensor& scores,
                      MlpHeadCache& cache);
// From d_scores [P] (or [P, 1]): overwrites dW1, db1, dW2, db2 (shapes of the parameters) and
// writes dZ [n, d] (= or += the per-row sum over the pairs that use the row, deterministic).
void mlp_head_backward(const Tensor& Z, const Tensor& a_idx, const Tensor& b_idx, const Tensor& W1,
                       const Tensor& W2, const MlpHeadCache& cache, const Tensor& d_scores,
                       Tensor& dW1, Tensor& db1, Tensor& dW2, Tensor& db2, Tensor& dZ,
                       bool accumulate);

// ---- Optimisers (kernels/optim.h) --------------------------------------------------------------
// Adam/AdamW over all dense parameters in one fused launch (an OpenMP loop on the CPU). params,
// grads, m, v: same length, pairwise same numel, f32, one device. step is 1-based.
void adam_step(const std::vector<Tensor*>& params, const std::vector<const Tensor*>& grads,
               const std::vector<Tensor*>& m, const std::vector<Tensor*>& v, const AdamConfig& cfg,
               int64_t step);
// Row-sparse lazy Adam on table [n, d] with full-size moments m, v [n, d]: only rows ids (unique
// i32 [r]) are updated, with gradient grad_rows [r, d] + l2 * table[row] (LightGCN-style
// regularisation of the touched rows); cfg.weight_decay applies as in adam_step. Untouched rows
// and their moments keep their exact bits.
void sparse_adam_step(Tensor& table, Tensor& m, Tensor& v, const Tensor& ids,
                      const Tensor& grad_rows, const AdamConfig& cfg, int64_t step, float l2);
// param -= lr * (grad + weight_decay * param)
void sgd_step(Tensor& param, const Tensor& grad, float lr, float weight_decay);
// Sum of squares over all tensors (f32, one device), in double: one device-to-host read.
double sum_of_squares(const std::vector<const Tensor*>& ts);

}  // namespace gnnrec
