// CPU GEMM: OpenBLAS sgemm for the product (row-major through CblasRowMajor), then one OpenMP
// pass for bias and ReLU. Bound by the BLAS (compute) for the sizes the model uses.
#include "kernels/gemm.h"

#include <cblas.h>

#include <algorithm>
#include <vector>

namespace gnnrec {
namespace {

void apply_epilogue(const GemmShape& s, float* C, const float* bias, Epilogue ep) {
  const bool add_bias = epilogue_has_bias(ep);
  const bool relu = epilogue_has_relu(ep);
  if (!add_bias && !relu) return;
#pragma omp parallel for schedule(static) if (s.m * s.n > 16384)
  for (int64_t i = 0; i < s.m; ++i) {
    float* row = C + i * s.ldc;
    for (int64_t j = 0; j < s.n; ++j) {
      float v = row[j] + (add_bias ? bias[j] : 0.0f);
      row[j] = relu ? std::max(v, 0.0f) : v;
    }
  }
}

}  // namespace

void gemm_cpu(const GemmShape& s, float alpha, const float* A, const float* B, float beta,
              float* C, const float* bias, Epilogue ep) {
  if (s.m == 0 || s.n == 0) return;
  if (s.k == 0) {
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t j = 0; j < s.n; ++j) C[i * s.ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * s.ldc + j];
  } else {
    cblas_sgemm(CblasRowMajor, s.trans_a ? CblasTrans : CblasNoTrans,
                s.trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(s.m),
                static_cast<int>(s.n), static_cast<int>(s.k), alpha, A, static_cast<int>(s.lda),
                B, static_cast<int>(s.ldb), beta, C, static_cast<int>(s.ldc));
  }
  apply_epilogue(s, C, bias, ep);
}

void gemm_naive_cpu(const GemmShape& s, float alpha, const float* A, const float* B, float beta,
                    float* C, const float* bias, Epilogue ep) {
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t j = 0; j < s.n; ++j) {
      double acc = 0.0;
      for (int64_t p = 0; p < s.k; ++p) {
        const double a = s.trans_a ? A[p * s.lda + i] : A[i * s.lda + p];
        const double b = s.trans_b ? B[j * s.ldb + p] : B[p * s.ldb + j];
        acc += a * b;
      }
      double v = alpha * acc + (beta == 0.0f ? 0.0 : beta * static_cast<double>(C[i * s.ldc + j]));
      if (epilogue_has_bias(ep)) v += bias[j];
      if (epilogue_has_relu(ep)) v = std::max(v, 0.0);
      C[i * s.ldc + j] = static_cast<float>(v);
    }
  }
}

}  // namespace gnnrec
