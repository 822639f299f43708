#include "runtime/ops.h"

#include "kernels/elementwise.h"
#include "runtime/dispatch.h"

namespace gnnrec {

using detail::expect_device;
using detail::expect_dtype;
using detail::expect_shape;
using detail::stream_of;

void gemm(const Tensor& A, bool trans_a, const Tensor& B, bool trans_b, Tensor& C, float alpha,
          float beta, const Tensor* bias, Epilogue ep) {
  expect_dtype(A, DType::kF32, "gemm", "A");
  expect_dtype(B, DType::kF32, "gemm", "B");
  expect_dtype(C, DType::kF32, "gemm", "C");
  GNNREC_EXPECTS(A.ndim() == 2 && B.ndim() == 2 && C.ndim() == 2,
                 "gemm: operands must be 2-D, got {} {} {}", shape_str(A.shape()),
                 shape_str(B.shape()), shape_str(C.shape()));
  const Device dev = C.device();
  expect_device(A, dev, "gemm", "A");
  expect_device(B, dev, "gemm", "B");
  GemmShape s;
  s.trans_a = trans_a;
  s.trans_b = trans_b;
  s.m = trans_a ? A.dim(1) : A.dim(0);
  s.k = trans_a ? A.dim(0) : A.dim(1);
  s.n = trans_b ? B.dim(0) : B.dim(1);
  const int64_t kb = trans_b ? B.dim(1) : B.dim(0);
  GNNREC_EXPECTS(kb == s.k, "gemm: inner dimensions differ: op(A) {} x {}, op(B) {} x {}", s.m,
                 s.k, kb, s.n);
  expect_shape(C, {s.m, s.n}, "gemm", "C");
  s.lda = A.dim(1);
  s.ldb = B.dim(1);
  s.ldc = C.dim(1);
  const float* bias_ptr = nullptr;
  if (epilogue_has_bias(ep)) {
    GNNREC_EXPECTS(bias != nullptr, "gemm: the epilogue adds a bias but none was given");
    expect_dtype(*bias, DType::kF32, "gemm", "bias");
    expect_device(*bias, dev, "gemm", "bias");
    GNNREC_EXPECTS(bias->numel() == s.n, "gemm: bias has {} values, expected {}", bias->numel(),
                   s.n);
    bias_ptr = bias->data<float>();
  }
  GNNREC_DISPATCH(
      dev,
      gemm_cpu(s, alpha, A.data<float>(), B.data<float>(), beta, C.data<float>(), bias_ptr, ep),
      {
        DeviceContext& ctx = context_for(dev);
        gemm_cuda(s, alpha, A.data<float>(), B.data<float>(), beta, C.data<float>(), bias_ptr, ep,
                  ctx.cublaslt, ctx.gemm_workspace, ctx.gemm_workspace_bytes, ctx.allow_tf32,
                  ctx.stream);
      });
}

namespace {
void expect_same(const Tensor& a, const Tensor& b, const char* op) {
  expect_dtype(a, DType::kF32, op, "input");
  expect_dtype(b, DType::kF32, op, "output");
  expect_device(b, a.device(), op, "output");
  GNNREC_EXPECTS(a.numel() == b.numel(), "{}: {} elements vs {}", op, a.numel(), b.numel());
}
}  // namespace

void axpy(float a, const Tensor& x, Tensor& y) {
  expect_same(x, y, "axpy");
  GNNREC_DISPATCH(y.device(), axpy_cpu(x.numel(), a, x.data<float>(), y.data<float>()),
                  axpy_cuda(x.numel(), a, x.data<float>(), y.data<float>(),
                            stream_of(y.device())));
}

void scale(Tensor& x, float a) {
  expect_dtype(x, DType::kF32, "scale", "x");
  GNNREC_DISPATCH(x.device(), scale_cpu(x.numel(), a, x.data<float>()),
                  scale_cuda(x.numel(), a, x.data<float>(), stream_of(x.device())));
}

void relu_forward(const Tensor& x, Tensor& y) {
  expect_same(x, y, "relu_forward");
  GNNREC_DISPATCH(y.device(), relu_forward_cpu(x.numel(), x.data<float>(), y.data<float>()),
                  relu_forward_cuda(x.numel(), x.data<float>(), y.data<float>(),
                                    stream_of(y.device())));
}

void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  expect_same(y, dy, "relu_backward");
  expect_same(dy, dx, "relu_backward");
  GNNREC_DISPATCH(
      dx.device(), relu_backward_cpu(y.numel(), y.data<float>(), dy.data<float>(), dx.data<float>()),
      relu_backward_cuda(y.numel(), y.data<float>(), dy.data<float>(), dx.data<float>(),
                         stream_of(dx.device())));
}

void l2_normalize_forward(const Tensor& x, Tensor& y, Tensor& norms, float eps) {
  expect_same(x, y, "l2_normalize_forward");
  GNNREC_EXPECTS(x.ndim() == 2, "l2_normalize_forward: x must be 2-D, got {}",
                 shape_str(x.shape()));
  expect_dtype(norms, DType::kF32, "l2_normalize_forward", "norms");
  expect_device(norms, x.device(), "l2_normalize_forward", "norms");
  GNNREC_EXPECTS(norms.numel() == x.dim(0), "l2_normalize_forward: norms has {} values, need {}",
                 norms.numel(), x.dim(0));
  const int64_t r = x.dim(0), d = x.dim(1);
  GNNREC_DISPATCH(x.device(),
                  l2_normalize_forward_cpu(r, d, x.data<float>(), y.data<float>(),
                                           norms.data<float>(), eps),
                  l2_normalize_forward_cuda(r, d, x.data<float>(), y.data<float>(),
                                            norms.data<float>(), eps, stream_of(x.device())));
}

void l2_normalize_backward(const Tensor& y, const Tensor& norms, const Tensor& dy, Tensor& dx,
                           float eps) {
  expect_same(y, dy, "l2_normalize_backward");
  expect_same(dy, dx, "l2_normalize_backward");
  GNNREC_EXPECTS(y.ndim() == 2 && norms.numel() == y.dim(0),
                 "l2_normalize_backward: y {} and norms {} disagree", shape_str(y.shape()),
                 shape_str(norms.shape()));
  const int64_t r = y.dim(0), d = y.dim(1);
  GNNREC_DISPATCH(y.device(),
                  l2_normalize_backward_cpu(r, d, y.data<float>(), norms.data<float>(),
                                            dy.data<float>(), dx.data<float>(), eps),
                  l2_normalize_backward_cuda(r, d, y.data<float>(), norms.data<float>(),
                                             dy.data<float>(), dx.data<float>(), eps,
                                             stream_of(y.device())));
}

void column_sum(const Tensor& x, Tensor& out) {
  expect_dtype(x, DType::kF32, "column_sum", "x");
  expect_dtype(out, DType::kF32, "column_sum", "out");
  GNNREC_EXPECTS(x.ndim() == 2 && out.numel() == x.dim(1),
                 "column_sum: x {} needs out of {} values, got {}", shape_str(x.shape()),
                 x.ndim() == 2 ? x.dim(1) : 0, out.numel());
  GNNREC_DISPATCH(
      x.device(), column_sum_cpu(x.dim(0), x.dim(1), x.data<float>(), out.data<float>()), {
        const size_t bytes = column_sum_cuda_workspace_bytes(x.dim(0), x.dim(1));
        Tensor ws = Tensor::empty({static_cast<int64_t>(bytes / sizeof(float))}, DType::kF32,
                                  x.device(), stream_of(x.device()));
        column_sum_cuda(x.dim(0), x.dim(1), x.data<float>(), out.data<float>(),
                        bytes ? ws.raw() : nullptr, stream_of(x.device()));
      });
}

}  // namespace gnnrec

namespace gnnrec {

void rng_uniform(const RngKey& key, uint64_t first, float lo, float hi, Tensor& out) {
  detail::expect_dtype(out, DType::kF32, "rng_uniform", "out");
  GNNREC_DISPATCH(out.device(), rng_uniform_cpu(key, first, out.numel(), lo, hi, out.data<float>()),
                  rng_uniform_cuda(key, first, out.numel(), lo, hi, out.data<float>(),
                                   detail::stream_of(out.device())));
}

void dropout(const RngKey& key, uint64_t first, float p, const Tensor& x, Tensor& out) {
  detail::expect_dtype(x, DType::kF32, "dropout", "x");
  detail::expect_dtype(out, DType::kF32, "dropout", "out");
  GNNREC_EXPECTS(p >= 0.0f && p < 1.0f, "dropout: p = {} must be in [0, 1)", p);
  GNNREC_EXPECTS(x.numel() == out.numel() && x.device() == out.device(),
                 "dropout: x {} on {} and out {} on {} differ", shape_str(x.shape()),
                 x.device().str(), shape_str(out.shape()), out.device().str());
  const float scale = 1.0f / (1.0f - p);
  GNNREC_DISPATCH(out.device(),
                  dropout_cpu(key, first, x.numel(), p, scale, x.data<float>(), out.data<float>()),
                  dropout_cuda(key, first, x.numel(), p, scale, x.data<float>(), out.data<float>(),
                               detail::stream_of(out.device())));
}

void rng_bits(const RngKey& key, uint64_t first, Tensor& out) {
  detail::expect_dtype(out, DType::kI32, "rng_bits", "out");
  auto* p = reinterpret_cast<uint32_t*>(out.data<int32_t>());
  GNNREC_DISPATCH(out.device(), rng_bits_cpu(key, first, out.numel(), p),
                  rng_bits_cuda(key, first, out.numel(), p, detail::stream_of(out.device())));
}

}  // namespace gnnrec
