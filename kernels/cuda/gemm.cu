// CUDA GEMM through cuBLASLt with the bias / ReLU epilogues fused into the matmul, so a SAGE
// layer is one library call. Row-major C = op(A) op(B) is computed as the column-major
// C^T = op(B)^T op(A)^T, which is the same memory. Compute bound (tensor cores with TF32).
#include "kernels/cuda/cuda_utils.cuh"
#include "kernels/gemm.h"

namespace gnnrec {
namespace {

// k == 0: C = act(beta*C + bias); cuBLASLt does not accept an empty inner dimension.
__global__ void gemm_k0_kernel(int64_t m, int64_t n, int64_t ldc, float beta, float* C,
                               const float* bias, bool relu) {
  const int64_t total = m * n;
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = t / n, j = t % n;
    float v = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    if (bias != nullptr) v += bias[j];
    C[i * ldc + j] = relu ? fmaxf(v, 0.0f) : v;
  }
}

struct LtLayouts {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  ~LtLayouts() {
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (c) cublasLtMatrixLayoutDestroy(c);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

}  // namespace

void gemm_cuda(const GemmShape& s, float alpha, const float* A, const float* B, float beta,
               float* C, const float* bias, Epilogue ep, void* lt_handle, void* workspace,
               size_t workspace_bytes, bool allow_tf32, Stream stream) {
  if (s.m == 0 || s.n == 0) return;
  cudaStream_t st = cuda::as_cuda(stream);
  if (s.k == 0) {
    gemm_k0_kernel<<<cuda::grid_for(s.m * s.n, 256), 256, 0, st>>>(
        s.m, s.n, s.ldc, beta, C, epilogue_has_bias(ep) ? bias : nullptr, epilogue_has_relu(ep));
    GNNREC_CUDA_LAUNCH_CHECK();
    return;
  }
  LtLayouts d;
  const cublasComputeType_t compute =
      allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  GNNREC_CUBLAS_CHECK(cublasLtMatmulDescCreate(&d.op, compute, CUDA_R_32F));
  // Column-major view: first operand is B (n x k), second is A (k x m).
  const cublasOperation_t op_first = s.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_second = s.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  GNNREC_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSA, &op_first,
                                                     sizeof(op_first)));
  GNNREC_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSB,
                                                     &op_second, sizeof(op_second)));
  cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_DEFAULT;
  switch (ep) {
    case Epilogue::kNone: epi = CUBLASLT_EPILOGUE_DEFAULT; break;
    case Epilogue::kBias: epi = CUBLASLT_EPILOGUE_BIAS; break;
    case Epilogue::kRelu: epi = CUBLASLT_EPILOGUE_RELU; break;
    case Epilogue::kBiasRelu: epi = CUBLASLT_EPILOGUE_RELU_BIAS; break;
  }
  GNNREC_CUBLAS_CHECK(
      cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi)));
  if (epilogue_has_bias(ep)) {
    GNNREC_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                       &bias, sizeof(bias)));
  }
  // Layout dims are (rows, cols, ld) of the stored column-major matrix.
  const uint64_t first_rows = s.trans_b ? s.k : s.n, first_cols = s.trans_b ? s.n : s.k;
  const uint64_t second_rows = s.trans_a ? s.m : s.k, second_cols = s.trans_a ? s.k : s.m;
  GNNREC_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d.a, CUDA_R_32F, first_rows, first_cols, s.ldb));
  GNNREC_CUBLAS_CHECK(
      cublasLtMatrixLayoutCreate(&d.b, CUDA_R_32F, second_rows, second_cols, s.lda));
  GNNREC_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d.c, CUDA_R_32F, s.n, s.m, s.ldc));
  GNNREC_CUBLAS_CHECK(cublasLtMatmul(static_cast<cublasLtHandle_t>(lt_handle), d.op, &alpha, B,
                                     d.a, A, d.b, &beta, C, d.c, C, d.c, nullptr, workspace,
                                     workspace_bytes, st));
}

}  // namespace gnnrec
