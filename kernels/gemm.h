// GEMM with a fused epilogue, row-major:
//   C[m,n] = act( alpha * op(A)[m,k] · op(B)[k,n] + beta * C + bias[n] )
// op(X) = X or X^T (row-major storage, leading dimensions in elements). act = identity or ReLU.
// bias may be null unless the epilogue names it. k == 0 is allowed (C = act(beta*C + bias)).
// Output is overwritten when beta == 0 (C may then hold garbage, even NaN). Deterministic on the
// CPU; on the GPU deterministic for a fixed cuBLASLt algorithm (the default).
#pragma once
#include "kernels/common.h"

namespace gnnrec {

enum class Epilogue : uint8_t { kNone, kBias, kRelu, kBiasRelu };

inline bool epilogue_has_bias(Epilogue e) { return e == Epilogue::kBias || e == Epilogue::kBiasRelu; }
inline bool epilogue_has_relu(Epilogue e) { return e == Epilogue::kRelu || e == Epilogue::kBiasRelu; }

struct GemmShape {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  int64_t lda = 0, ldb = 0, ldc = 0;
};

// OpenBLAS sgemm plus an OpenMP epilogue pass.
void gemm_cpu(const GemmShape& s, float alpha, const float* A, const float* B, float beta,
              float* C, const float* bias, Epilogue ep);
// Triple loop accumulating in double: the reference for tests.
void gemm_naive_cpu(const GemmShape& s, float alpha, const float* A, const float* B, float beta,
                    float* C, const float* bias, Epilogue ep);

// cuBLASLt matmul with its bias/ReLU epilogues. `lt_handle` is a cublasLtHandle_t; `workspace`
// (may be null) gives cuBLASLt room for faster algorithms. TF32 tensor cores when `allow_tf32`.
void gemm_cuda(const GemmShape& s, float alpha, const float* A, const float* B, float beta,
               float* C, const float* bias, Epilogue ep, void* lt_handle, void* workspace,
               size_t workspace_bytes, bool allow_tf32, Stream stream);

}  // namespace gnnrec
