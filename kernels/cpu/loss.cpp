// CPU link losses and pair scores (kernels/loss.h): the reference for the CUDA kernels.
// Stages: (1) OpenMP over pairs for the dot products, (2) one pass over users for the row
// losses, score gradients and the two gradient slots per pair, (3) a stable counting sort of the
// slots by row, (4) an OpenMP gather per dZ row. Memory bound (row reads), like the aggregation.
#include "kernels/loss.h"

#include "kernels/embedding.h"

namespace gnnrec {
namespace {

struct LinkLossScratch {
  float* scores;
  float* g;
  int32_t* keys;
  int32_t* cols;
  float* w;
  int32_t* row_ptr;
  int32_t* order;
};

LinkLossScratch carve(void* base, int64_t n, int64_t B, int64_t k, size_t* used) {
  WorkspaceCarve c(base);
  const int64_t P = B * (1 + k), S = 2 * P;
  LinkLossScratch s{c.take<float>(P),   c.take<float>(P), c.take<int32_t>(S),
                    c.take<int32_t>(S), c.take<float>(S), c.take<int32_t>(n + 1),
                    c.take<int32_t>(S)};
  *used = c.used();
  return s;
}

inline int32_t pair_other(int64_t b, int64_t j, int64_t k, const int32_t* pos, const int32_t* neg) {
  return j == 0 ? pos[b] : neg[b * k + j - 1];
}

float dot(int64_t d, const float* a, const float* b) {
  float acc = 0.0f;
  for (int64_t c = 0; c < d; ++c) acc += a[c] * b[c];
  return acc;
}

}  // namespace

size_t link_loss_workspace_bytes_cpu(int64_t n, int64_t B, int64_t k) {
  size_t used = 0;
  carve(nullptr, n, B, k, &used);
  return used;
}

void link_loss_cpu(LossKind kind, int64_t n, int64_t d, const float* Z, int64_t B, int64_t k,
                   const int32_t* u, const int32_t* pos, const int32_t* neg, float inv_temp,
                   float* dZ, float* loss_accum, void* workspace, size_t /*workspace_bytes*/) {
  size_t used = 0;
  const LinkLossScratch s = carve(workspace, n, B, k, &used);
  const int64_t P = B * (1 + k);
#pragma omp parallel for schedule(static) if (P * d > 65536)
  for (int64_t p = 0; p < P; ++p) {
    const int64_t b = p / (1 + k), j = p % (1 + k);
    s.scores[p] = inv_temp * dot(d, Z + static_cast<int64_t>(u[b]) * d,
                                 Z + static_cast<int64_t>(pair_other(b, j, k, pos, neg)) * d);
  }
  const double scale = link_loss_scale(kind, B, k);
  double total = 0.0;
  for (int64_t b = 0; b < B; ++b) {
    total += link_loss_row(kind, k, s.scores + b * (1 + k), s.g + b * (1 + k),
                           static_cast<float>(scale));
    for (int64_t j = 0; j <= k; ++j) {
      const int64_t p = b * (1 + k) + j;
      const int32_t a = u[b], o = pair_other(b, j, k, pos, neg);
      const float w = nn_mul(s.g[p], inv_temp);
      s.keys[2 * p] = a;
      s.cols[2 * p] = o;
      s.w[2 * p] = w;
      s.keys[2 * p + 1] = o;
      s.cols[2 * p + 1] = a;
      s.w[2 * p + 1] = w;
    }
  }
  group_by_row_cpu(s.keys, 2 * P, n, s.row_ptr, s.order);
  csr_gather_rows_cpu(n, d, s.row_ptr, s.order, s.cols, s.w, Z, d, dZ, d, false);
  loss_accum[0] += static_cast<float>(total * scale);
}

void score_loss_cpu(LossKind kind, int64_t B, int64_t k, const float* scores, float* d_scores,
                    float* loss_accum) {
  const double scale = link_loss_scale(kind, B, k);
  double total = 0.0;
  for (int64_t b = 0; b < B; ++b) {
    total += link_loss_row(kind, k, scores + b * (1 + k), d_scores + b * (1 + k),
                           static_cast<float>(scale));
  }
  loss_accum[0] += static_cast<float>(total * scale);
}

void pair_scores_cpu(int64_t P, int64_t d, const float* Za, const int32_t* a_idx, const float* Zb,
                     const int32_t* b_idx, float inv_temp, float* out) {
#pragma omp parallel for schedule(static) if (P * d > 65536)
  for (int64_t p = 0; p < P; ++p) {
    out[p] = inv_temp * dot(d, Za + static_cast<int64_t>(a_idx[p]) * d,
                            Zb + static_cast<int64_t>(b_idx[p]) * d);
  }
}

void expand_link_pairs_cpu(int64_t B, int64_t k, const int32_t* u, const int32_t* pos,
                           const int32_t* neg, int32_t* a_idx, int32_t* b_idx) {
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t j = 0; j <= k; ++j) {
      a_idx[b * (1 + k) + j] = u[b];
      b_idx[b * (1 + k) + j] = pair_other(b, j, k, pos, neg);
    }
  }
}

}  // namespace gnnrec
