// Optimisers: dense multi-tensor Adam/AdamW, row-sparse lazy Adam for embedding tables, SGD, and
// the sum of squares used for gradient clipping.
//
// Adam (PyTorch's formulation, step t 1-based):
//   coupled weight decay (decoupled=false): g += wd * p
//   decoupled (AdamW, decoupled=true):       p -= lr * wd * p
//   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// The per-step scalars are computed once on the host in double; the per-element update
// (adam_update below) is one inline function used by both backends with explicit rounding, so
// CPU and CUDA produce the same bits. Every element is updated independently: deterministic.
#pragma once
#include <cmath>

#include "kernels/common.h"
#include "kernels/nn_math.h"

namespace gnnrec {

struct AdamConfig {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.0f;
  bool decoupled = true;
};

struct AdamStepScalars {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, eps;
  float step_size;  // lr / (1 - beta1^t)
  float bc2_sqrt;   // sqrt(1 - beta2^t)
  float lr_wd;      // lr * wd when decoupled, else 0
  float l2;         // wd when coupled, else 0
};

inline AdamStepScalars adam_step_scalars(const AdamConfig& c, int64_t step) {
  const double t = static_cast<double>(step);
  const double bc1 = 1.0 - std::pow(static_cast<double>(c.beta1), t);
  const double bc2 = 1.0 - std::pow(static_cast<double>(c.beta2), t);
  AdamStepScalars s;
  s.beta1 = c.beta1;
  s.one_minus_beta1 = 1.0f - c.beta1;
  s.beta2 = c.beta2;
  s.one_minus_beta2 = 1.0f - c.beta2;
  s.eps = c.eps;
  s.step_size = static_cast<float>(c.lr / bc1);
  s.bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  s.lr_wd = c.decoupled ? c.lr * c.weight_decay : 0.0f;
  s.l2 = c.decoupled ? 0.0f : c.weight_decay;
  return s;
}

// One element of Adam: p, m, v updated in place from gradient g.
GNNREC_HD void adam_update(float& p, float g, float& m, float& v, const AdamStepScalars& s) {
  if (s.l2 != 0.0f) g = nn_add(g, nn_mul(s.l2, p));
  if (s.lr_wd != 0.0f) p = nn_add(p, -nn_mul(s.lr_wd, p));
  m = nn_add(nn_mul(s.beta1, m), nn_mul(s.one_minus_beta1, g));
  v = nn_add(nn_mul(s.beta2, v), nn_mul(s.one_minus_beta2, nn_mul(g, g)));
  const float denom = nn_add(nn_div(sqrtf(v), s.bc2_sqrt), s.eps);
  p = nn_add(p, -nn_mul(s.step_size, nn_div(m, denom)));
}

// One dense parameter tensor of a multi-tensor step (n contiguous f32 each).
struct AdamTensor {
  float* param;
  const float* grad;
  float* m;
  float* v;
  int64_t n;
};
// A unit of work of the fused CUDA launch: elements [begin, min(begin + kAdamChunk, n)) of one
// tensor. Host-built, copied to device memory with the tensor table.
struct AdamChunk {
  int64_t tensor;
  int64_t begin;
};
constexpr int64_t kAdamChunk = 8192;

void adam_step_cpu(const AdamTensor* tensors, int n_tensors, const AdamStepScalars& s);
// Device scratch for the tensor and chunk tables.
size_t adam_step_workspace_bytes_cuda(const AdamTensor* tensors, int n_tensors);
// `tensors` is a HOST array (of device pointers); it is copied into the workspace on `stream`
// before this returns, so it may be freed afterwards.
void adam_step_cuda(const AdamTensor* tensors, int n_tensors, const AdamStepScalars& s,
                    void* workspace, size_t workspace_bytes, Stream stream);

// Lazy sparse Adam: for each i < r, row = ids[i] (unique), over the d columns:
//   g = grad_rows[i] + l2 * table[row];  adam_update(table[row], g, m[row], v[row])
// Rows not in ids, and their moments, are untouched (bit for bit).
void sparse_adam_step_cpu(int64_t r, int64_t d, const int32_t* ids, const float* grad_rows,
                          float* table, float* m, float* v, const AdamStepScalars& s, float l2);
void sparse_adam_step_cuda(int64_t r, int64_t d, const int32_t* ids, const float* grad_rows,
                           float* table, float* m, float* v, const AdamStepScalars& s, float l2,
                           Stream stream);

// p -= lr * (g + weight_decay * p)
void sgd_step_cpu(int64_t n, float* param, const float* grad, float lr, float weight_decay);
void sgd_step_cuda(int64_t n, float* param, const float* grad, float lr, float weight_decay,
                   Stream stream);

// Sum of x^2 in double, in a fixed order (fixed stripes, then a fixed-order combine): the same
// value on every run regardless of the thread count.
double sum_of_squares_cpu(const float* x, int64_t n);
// CUDA: all tensors in one pass of launches into per-block partials, one final single-block
// reduction into result[0] (device memory, double). `ptrs`/`sizes` are host arrays.
size_t sum_of_squares_workspace_bytes_cuda(int n_tensors);
void sum_of_squares_cuda(const float* const* ptrs, const int64_t* sizes, int n_tensors,
                         double* result, void* workspace, size_t workspace_bytes, Stream stream);

}  // namespace gnnrec
