// CUDA SpMM (variants in kernels/spmm.h) and the symmetric normalisation values.
// Variant 1 maps a group of G lanes to a row (rows_per_block = 256 / G), each lane owning
// columns lane*V + m*G*V; V = 4 uses float4 gathers of x rows. The row's entries are walked in
// CSR order by every lane of the group, so the sum order matches the CPU. Memory bound.
#include <cusparse.h>

#include "kernels/cuda/cuda_utils.cuh"
#include "kernels/spmm.h"

namespace gnnrec {
namespace {

constexpr int kBlock = 256;

template <typename I, int V>
__global__ void spmm_group_kernel(int64_t rows, int64_t d, int group, const I* __restrict__ indptr,
                                  const int32_t* __restrict__ indices,
                                  const float* __restrict__ values, const float* __restrict__ x,
                                  float* __restrict__ y) {
  const int lane = threadIdx.x & (group - 1);
  const int64_t rows_per_grid = static_cast<int64_t>(gridDim.x) * (blockDim.x / group);
  for (int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x / group) + threadIdx.x / group;
       r < rows; r += rows_per_grid) {
    const I begin = indptr[r], end = indptr[r + 1];
    for (int64_t c = static_cast<int64_t>(lane) * V; c < d; c += static_cast<int64_t>(group) * V) {
      if constexpr (V == 4) {
        float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
        for (I j = begin; j < end; ++j) {
          const float v = values ? values[j] : 1.0f;
          const float4 xv =
              *reinterpret_cast<const float4*>(x + static_cast<int64_t>(indices[j]) * d + c);
          acc.x += v * xv.x;
          acc.y += v * xv.y;
          acc.z += v * xv.z;
          acc.w += v * xv.w;
        }
        *reinterpret_cast<float4*>(y + r * d + c) = acc;
      } else {
        float acc = 0.0f;
        for (I j = begin; j < end; ++j) {
          const float v = values ? values[j] : 1.0f;
          acc += v * x[static_cast<int64_t>(indices[j]) * d + c];
        }
        y[r * d + c] = acc;
      }
    }
  }
}

template <typename I>
void spmm_launch(int64_t rows, int64_t d, const I* indptr, const int32_t* indices,
                 const float* values, const float* x, float* y, Stream s) {
  if (rows == 0 || d == 0) return;
  const bool vec4 = d % 4 == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0 &&
                    reinterpret_cast<uintptr_t>(y) % 16 == 0;
  const int v = vec4 ? 4 : 1;
  const int64_t lanes_needed = (d + v - 1) / v;
  int group = 1;
  while (group < cuda::kWarp && group < lanes_needed) group *= 2;
  const int64_t rows_per_block = kBlock / group;
  const int grid = cuda::grid_for(rows, static_cast<int>(rows_per_block));
  const cudaStream_t st = cuda::as_cuda(s);
  if (vec4) {
    spmm_group_kernel<I, 4><<<grid, kBlock, 0, st>>>(rows, d, group, indptr, indices, values, x, y);
  } else {
    spmm_group_kernel<I, 1><<<grid, kBlock, 0, st>>>(rows, d, group, indptr, indices, values, x, y);
  }
  GNNREC_CUDA_LAUNCH_CHECK();
}

// One warp per row; lanes over the row's entries.
__global__ void symmetric_norm_kernel(int64_t num_nodes, const int64_t* indptr,
                                      const int32_t* indices, float* values) {
  const int lane = threadIdx.x % cuda::kWarp;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / cuda::kWarp);
  for (int64_t r = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / cuda::kWarp;
       r < num_nodes; r += warps) {
    const double dr = static_cast<double>(indptr[r + 1] - indptr[r]);
    for (int64_t j = indptr[r] + lane; j < indptr[r + 1]; j += cuda::kWarp) {
      const int64_t c = indices[j];
      const double dc = static_cast<double>(indptr[c + 1] - indptr[c]);
      values[j] = static_cast<float>(1.0 / sqrt(dr * dc));
    }
  }
}

struct CusparseDescs {
  cusparseSpMatDescr_t a = nullptr;
  cusparseDnMatDescr_t x = nullptr, y = nullptr;
  CusparseDescs(int64_t rows, int64_t cols, int64_t nnz, int64_t d, const int32_t* indptr,
                const int32_t* indices, const float* values, const float* x_ptr, float* y_ptr) {
    GNNREC_CUSPARSE_CHECK(cusparseCreateCsr(
        &a, rows, cols, nnz, const_cast<int32_t*>(indptr), const_cast<int32_t*>(indices),
        const_cast<float*>(values), CUSPARSE_INDEX_32I, CUSPARSE_INDEX_32I,
        CUSPARSE_INDEX_BASE_ZERO, CUDA_R_32F));
    GNNREC_CUSPARSE_CHECK(cusparseCreateDnMat(&x, cols, d, d, const_cast<float*>(x_ptr), CUDA_R_32F,
                                              CUSPARSE_ORDER_ROW));
    GNNREC_CUSPARSE_CHECK(
        cusparseCreateDnMat(&y, rows, d, d, y_ptr, CUDA_R_32F, CUSPARSE_ORDER_ROW));
  }
  ~CusparseDescs() {
    if (a) cusparseDestroySpMat(a);
    if (x) cusparseDestroyDnMat(x);
    if (y) cusparseDestroyDnMat(y);
  }
};

}  // namespace

void spmm_csr_cuda(int64_t rows, int64_t d, const int64_t* indptr, const int32_t* indices,
                   const float* values, const float* x, float* y, Stream s) {
  spmm_launch(rows, d, indptr, indices, values, x, y, s);
}

void spmm_csr_cuda(int64_t rows, int64_t d, const int32_t* indptr, const int32_t* indices,
                   const float* values, const float* x, float* y, Stream s) {
  spmm_launch(rows, d, indptr, indices, values, x, y, s);
}

void* spmm_cusparse_create(Stream s) {
  cusparseHandle_t h = nullptr;
  GNNREC_CUSPARSE_CHECK(cusparseCreate(&h));
  GNNREC_CUSPARSE_CHECK(cusparseSetStream(h, cuda::as_cuda(s)));
  return h;
}

void spmm_cusparse_destroy(void* handle) {
  if (handle) cusparseDestroy(static_cast<cusparseHandle_t>(handle));
}

size_t spmm_cusparse_workspace_bytes(void* handle, int64_t rows, int64_t cols, int64_t nnz,
                                     int64_t d, const int32_t* indptr, const int32_t* indices,
                                     const float* values, const float* x, float* y) {
  CusparseDescs m(rows, cols, nnz, d, indptr, indices, values, x, y);
  const float alpha = 1.0f, beta = 0.0f;
  size_t bytes = 0;
  GNNREC_CUSPARSE_CHECK(cusparseSpMM_bufferSize(
      static_cast<cusparseHandle_t>(handle), CUSPARSE_OPERATION_NON_TRANSPOSE,
      CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha, m.a, m.x, &beta, m.y, CUDA_R_32F,
      CUSPARSE_SPMM_ALG_DEFAULT, &bytes));
  return bytes;
}

void spmm_cusparse(void* handle, int64_t rows, int64_t cols, int64_t nnz, int64_t d,
                   const int32_t* indptr, const int32_t* indices, const float* values,
                   const float* x, float* y, void* workspace) {
  CusparseDescs m(rows, cols, nnz, d, indptr, indices, values, x, y);
  const float alpha = 1.0f, beta = 0.0f;
  GNNREC_CUSPARSE_CHECK(cusparseSpMM(static_cast<cusparseHandle_t>(handle),
                                     CUSPARSE_OPERATION_NON_TRANSPOSE,
                                     CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha, m.a, m.x, &beta, m.y,
                                     CUDA_R_32F, CUSPARSE_SPMM_ALG_DEFAULT, workspace));
}

void symmetric_norm_cuda(int64_t num_nodes, const int64_t* indptr, const int32_t* indices,
                         float* values, Stream s) {
  if (num_nodes == 0) return;
  symmetric_norm_kernel<<<cuda::grid_for(num_nodes * cuda::kWarp, kBlock), kBlock, 0,
                          cuda::as_cuda(s)>>>(num_nodes, indptr, indices, values);
  GNNREC_CUDA_LAUNCH_CHECK();
}

}  // namespace gnnrec
