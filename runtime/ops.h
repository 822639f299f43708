// Tensor-level ops: validate arguments once, then run the CPU or CUDA kernel chosen by the
// tensors' device (all operands on one device), on that device's context stream.
#pragma once
#include "kernels/gemm.h"
#include "runtime/tensor.h"

namespace gnnrec {

// C = act(alpha * op(A) op(B) + beta * C + bias), 2-D f32 tensors (see kernels/gemm.h).
void gemm(const Tensor& A, bool trans_a, const Tensor& B, bool trans_b, Tensor& C,
          float alpha = 1.0f, float beta = 0.0f, const Tensor* bias = nullptr,
          Epilogue ep = Epilogue::kNone);
// y += a * x
void axpy(float a, const Tensor& x, Tensor& y);
// x *= a
void scale(Tensor& x, float a);
void relu_forward(const Tensor& x, Tensor& y);
void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx);
// Rows of 2-D x; norms is f32 [rows].
void l2_normalize_forward(const Tensor& x, Tensor& y, Tensor& norms, float eps = 1e-12f);
void l2_normalize_backward(const Tensor& y, const Tensor& norms, const Tensor& dy, Tensor& dx,
                           float eps = 1e-12f);
// out[d] = column sums of x[rows, d]
void column_sum(const Tensor& x, Tensor& out);

}  // namespace gnnrec

#include "kernels/random.h"
namespace gnnrec {
// Fills an f32 tensor with uniform [lo, hi) numbers from stream `key` starting at draw `first`.
void rng_uniform(const RngKey& key, uint64_t first, float lo, float hi, Tensor& out);
// Inverted dropout of x into out (same shape; in-place allowed): kernels/random.h. Applying it
// to the gradient with the same key and first is the backward. 0 <= p < 1.
void dropout(const RngKey& key, uint64_t first, float p, const Tensor& x, Tensor& out);
// Fills an i32 tensor (reinterpreted as u32) with raw Philox words.
void rng_bits(const RngKey& key, uint64_t first, Tensor& out);
}  // namespace gnnrec
