// Link-prediction losses (BPR, BCE with k sampled negatives) and pair scores, forward and
// backward fused.
//
// Layout: a batch of B users, each with one positive and k negatives, is B*(1+k) scored pairs.
// Pair p = b*(1+k) + j scores (u[b], pos[b]) for j = 0 and (u[b], neg[b*k + j-1]) for j >= 1;
// scores and their gradients are [B, 1+k] matrices in that order (column 0 = the positive).
// s = inv_temp * dot(z_a, z_b).
//   kBpr: loss = 1/(B k) * sum_{b, j>=1} softplus(s[b,j] - s[b,0])       (= softplus(-(pos - neg)))
//   kBce: loss = 1/B * sum_b [softplus(-s[b,0]) + sum_{j>=1} softplus(s[b,j])]
// softplus and sigmoid are the overflow-free forms of kernels/nn_math.h.
//
// dZ: every pair gives two slots (row a gets g * inv_temp * z_b, row b gets g * inv_temp * z_a);
// the slots are grouped by row (stable counting sort) and summed in slot order
// (kernels/embedding.h), so rows referenced several times get a deterministic sum. dZ is
// overwritten; rows not referenced by the batch get 0. loss_accum[0] += the batch loss (computed
// in double from per-row float losses, in a fixed order). Deterministic on both backends; CPU
// and CUDA differ by the rounding of the dot products (a warp tree vs a sequential sum).
#pragma once
#include "kernels/common.h"
#include "kernels/nn_math.h"

namespace gnnrec {

enum class LossKind : uint8_t { kBpr, kBce };

inline const char* loss_kind_name(LossKind k) { return k == LossKind::kBpr ? "bpr" : "bce"; }

// The mean's scale: 1/(B k) for BPR (one term per negative), 1/B for BCE.
inline double link_loss_scale(LossKind kind, int64_t B, int64_t k) {
  return kind == LossKind::kBpr ? 1.0 / (static_cast<double>(B) * static_cast<double>(k))
                                : 1.0 / static_cast<double>(B);
}

// One user's row: s[0..k] scores -> g[0..k] = scale * d(row loss)/ds. Returns the row's loss
// (unscaled). Shared by the CPU and CUDA kernels so both compute each row the same way.
GNNREC_HD float link_loss_row(LossKind kind, int64_t k, const float* s, float* g, float scale) {
  float loss = 0.0f;
  if (kind == LossKind::kBpr) {
    float g_pos = 0.0f;
    for (int64_t j = 1; j <= k; ++j) {
      const float x = s[j] - s[0];
      loss += nn_softplus(x);
      g[j] = scale * nn_sigmoid(x);
      g_pos -= g[j];
    }
    g[0] = g_pos;
  } else {
    loss = nn_softplus(-s[0]);
    g[0] = -scale * nn_sigmoid(-s[0]);
    for (int64_t j = 1; j <= k; ++j) {
      loss += nn_softplus(s[j]);
      g[j] = scale * nn_sigmoid(s[j]);
    }
  }
  return loss;
}

// Fused link loss. Z [n, d] dense; u [B], pos [B], neg [B*k] row indices into Z; dZ [n, d].
// Scratch: link_loss_workspace_bytes_{cpu,cuda}(n, B, k).
size_t link_loss_workspace_bytes_cpu(int64_t n, int64_t B, int64_t k);
void link_loss_cpu(LossKind kind, int64_t n, int64_t d, const float* Z, int64_t B, int64_t k,
                   const int32_t* u, const int32_t* pos, const int32_t* neg, float inv_temp,
                   float* dZ, float* loss_accum, void* workspace, size_t workspace_bytes);
size_t link_loss_workspace_bytes_cuda(int64_t n, int64_t B, int64_t k);
void link_loss_cuda(LossKind kind, int64_t n, int64_t d, const float* Z, int64_t B, int64_t k,
                    const int32_t* u, const int32_t* pos, const int32_t* neg, float inv_temp,
                    float* dZ, float* loss_accum, void* workspace, size_t workspace_bytes,
                    Stream stream);

// The same loss from precomputed scores [B, 1+k] (e.g. from the MLP head): d_scores [B, 1+k]
// overwritten with d(loss)/d(scores); loss_accum[0] += loss. The CUDA version needs
// score_loss_workspace_bytes_cuda(B) bytes (per-row losses for the fixed-order reduction).
void score_loss_cpu(LossKind kind, int64_t B, int64_t k, const float* scores, float* d_scores,
                    float* loss_accum);
size_t score_loss_workspace_bytes_cuda(int64_t B);
void score_loss_cuda(LossKind kind, int64_t B, int64_t k, const float* scores, float* d_scores,
                     float* loss_accum, void* workspace, size_t workspace_bytes, Stream stream);

// out[p] = inv_temp * dot(Za[a_idx[p]], Zb[b_idx[p]]), Za and Zb dense with d columns.
void pair_scores_cpu(int64_t P, int64_t d, const float* Za, const int32_t* a_idx, const float* Zb,
                     const int32_t* b_idx, float inv_temp, float* out);
void pair_scores_cuda(int64_t P, int64_t d, const float* Za, const int32_t* a_idx, const float* Zb,
                      const int32_t* b_idx, float inv_temp, float* out, Stream stream);

// The pair lists of the layout above: a_idx[p] = u[b], b_idx[p] = pos[b] or neg[b*k + j-1]
// ([B*(1+k)] each), for scoring a batch with pair_scores or the MLP head.
void expand_link_pairs_cpu(int64_t B, int64_t k, const int32_t* u, const int32_t* pos,
                           const int32_t* neg, int32_t* a_idx, int32_t* b_idx);
void expand_link_pairs_cuda(int64_t B, int64_t k, const int32_t* u, const int32_t* pos,
                            const int32_t* neg, int32_t* a_idx, int32_t* b_idx, Stream stream);

}  // namespace gnnrec
