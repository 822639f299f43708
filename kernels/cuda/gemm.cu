// CUDA GEMM through cuBLASLt with the bias / ReLU epilogues fused into the matmul, so a SAGE
// layer is one library call. Row-major C = op(A) op(B) is computed as the column-major
// C^T = op(B)^T op(A)^T, which is the same memory. Compute bound (tensor cores with TF32).
//
// Algorithm choice: cublasLtMatmul(algo = nullptr) would run an implicit heuristic query with
// the DEFAULT preferences, i.e. no workspace (the context's 32 MiB would go unused) and every
// pointer assumed 256-byte aligned, which row views (Tensor::rows, the top-K chunks Q + r0 * d)
// are not. So the heuristic is asked explicitly, with the real workspace size and the real
// pointer alignments, and its answer is cached per (handle, shape, layout, epilogue,
// alignments): a training step asks it once per distinct GEMM, not on every call.
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>

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

// Largest power of two (<= 256) dividing the address: what cuBLASLt may assume about it.
uint32_t alignment_of(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  uint32_t al = 256;
  while (al > 1 && a % al != 0) al >>= 1;
  return al;
}

// Everything the heuristic's answer depends on.
using AlgoKey = std::tuple<void*, bool, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                           int, bool, uint32_t, uint32_t, uint32_t, uint32_t, size_t>;

struct AlgoCache {
  std::mutex mu;  // handles are shared by the server's request threads
  std::map<AlgoKey, cublasLtMatmulAlgo_t> algos;
};
AlgoCache& algo_cache() {
  static AlgoCache* c = new AlgoCache();  // never destroyed: used until process exit
  return *c;
}
constexpr size_t kAlgoCacheMax = 1024;  // distinct GEMMs; a model uses a few dozen

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

  const auto handle = static_cast<cublasLtHandle_t>(lt_handle);
  // cuBLASLt wants a 256-byte aligned workspace; anything else is not offered to it.
  const size_t ws_bytes =
      workspace != nullptr && alignment_of(workspace) == 256 ? workspace_bytes : 0;
  // cuBLASLt's A is our B and its B is our A (column-major view above).
  const uint32_t al_a = alignment_of(B), al_b = alignment_of(A), al_c = alignment_of(C);
  const uint32_t al_bias = epilogue_has_bias(ep) ? alignment_of(bias) : 256;
  const AlgoKey key{lt_handle, s.trans_a, s.trans_b, s.m,       s.n,  s.k,  s.lda,   s.ldb,
                    s.ldc,     static_cast<int>(ep), allow_tf32, al_a, al_b, al_c, al_bias,
                    ws_bytes};
  cublasLtMatmulAlgo_t algo;
  bool cached = false;
  {
    AlgoCache& cache = algo_cache();
    std::lock_guard<std::mutex> lock(cache.mu);
    auto it = cache.algos.find(key);
    if (it != cache.algos.end()) {
      algo = it->second;
      cached = true;
    }
  }
  if (!cached) {
    cublasLtMatmulPreference_t pref = nullptr;
    GNNREC_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
    const uint64_t max_ws = ws_bytes;
    cublasStatus_t st_pref = cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &max_ws, sizeof(max_ws));
    const cublasLtMatmulPreferenceAttributes_t align_attr[4] = {
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
    const uint32_t align_val[4] = {al_a, al_b, al_c, al_c};
    for (int i = 0; i < 4 && st_pref == CUBLAS_STATUS_SUCCESS; ++i) {
      st_pref = cublasLtMatmulPreferenceSetAttribute(pref, align_attr[i], &align_val[i],
                                                     sizeof(align_val[i]));
    }
    cublasLtMatmulHeuristicResult_t result;
    std::memset(&result, 0, sizeof(result));
    int returned = 0;
    if (st_pref == CUBLAS_STATUS_SUCCESS) {
      st_pref = cublasLtMatmulAlgoGetHeuristic(handle, d.op, d.a, d.b, d.c, d.c, pref, 1, &result,
                                               &returned);
    }
    cublasLtMatmulPreferenceDestroy(pref);
    GNNREC_CUBLAS_CHECK(st_pref);
    GNNREC_EXPECTS(returned > 0,
                   "gemm_cuda: cuBLASLt has no algorithm for m={} n={} k={} lda={} ldb={} ldc={} "
                   "(alignments A {} B {} C {} bias {} bytes)",
                   s.m, s.n, s.k, s.lda, s.ldb, s.ldc, al_b, al_a, al_c, al_bias);
    algo = result.algo;
    AlgoCache& cache = algo_cache();
    std::lock_guard<std::mutex> lock(cache.mu);
    if (cache.algos.size() >= kAlgoCacheMax) cache.algos.clear();
    cache.algos.emplace(key, algo);
  }
  GNNREC_CUBLAS_CHECK(cublasLtMatmul(handle, d.op, &alpha, B, d.a, A, d.b, &beta, C, d.c, C, d.c,
                                     &algo, workspace, ws_bytes, st));
}

}  // namespace gnnrec
