// Sparse (CSR) times dense, for LightGCN-style full-graph propagation, CPU and CUDA:
//   y[r, :] = sum over j in [indptr[r], indptr[r+1]) of values[j] * x[indices[j], :]
// x is [cols, d] and y [rows, d], row-major f32; y is overwritten (an empty row gives zeros);
// values may be null (all ones). Each output element sums its row's entries in CSR order, so
// both backends are deterministic; they differ only by FMA contraction on the GPU (the tests
// allow a few ulps per term). indptr is i64 (DeviceGraph) or i32 (Block).
//
// CUDA variants (SpmmVariant):
//   1 kRowGroup  own kernel: a group of G lanes (G a power of two <= 32, the smallest covering
//                d / V) per row, V = 4 (float4 loads/stores) when d % 4 == 0 and x, y are
//                16-byte aligned, else V = 1; each lane owns columns lane*V + m*G*V and walks the
//                row's entries in order (index/value loads are broadcast within the group).
//                Memory bound: gathers of x rows (d*4 bytes each) dominate.
//   2 kCusparse  cusparseSpMM (CSR, 32-bit indices only), for comparison in bench_sample; needs
//                a handle and workspace from spmm_cusparse_*.
// kAuto = kRowGroup.
#pragma once
#include "kernels/common.h"

namespace gnnrec {

enum class SpmmVariant : uint8_t { kAuto = 0, kRowGroup = 1, kCusparse = 2 };

void spmm_csr_cpu(int64_t rows, int64_t d, const int64_t* indptr, const int32_t* indices,
                  const float* values, const float* x, float* y);
void spmm_csr_cpu(int64_t rows, int64_t d, const int32_t* indptr, const int32_t* indices,
                  const float* values, const float* x, float* y);
// Plain loop, double accumulation: the reference for tests.
void spmm_csr_naive_cpu(int64_t rows, int64_t d, const int64_t* indptr, const int32_t* indices,
                        const float* values, const float* x, float* y);

void spmm_csr_cuda(int64_t rows, int64_t d, const int64_t* indptr, const int32_t* indices,
                   const float* values, const float* x, float* y, Stream stream);
void spmm_csr_cuda(int64_t rows, int64_t d, const int32_t* indptr, const int32_t* indices,
                   const float* values, const float* x, float* y, Stream stream);

// Variant 2 (cuSPARSE). The handle is a cusparseHandle_t bound to `stream`; values non-null.
void* spmm_cusparse_create(Stream stream);
void spmm_cusparse_destroy(void* handle);
size_t spmm_cusparse_workspace_bytes(void* handle, int64_t rows, int64_t cols, int64_t nnz,
                                     int64_t d, const int32_t* indptr, const int32_t* indices,
                                     const float* values, const float* x, float* y);
void spmm_cusparse(void* handle, int64_t rows, int64_t cols, int64_t nnz, int64_t d,
                   const int32_t* indptr, const int32_t* indices, const float* values,
                   const float* x, float* y, void* workspace);

// values[j] = 1 / sqrt(deg(r) * deg(indices[j])) for entry j of row r, deg(n) = indptr[n+1] -
// indptr[n] (computed in double, rounded once: identical on both backends).
void symmetric_norm_cpu(int64_t num_nodes, const int64_t* indptr, const int32_t* indices,
                        float* values);
void symmetric_norm_cuda(int64_t num_nodes, const int64_t* indptr, const int32_t* indices,
                         float* values, Stream stream);

}  // namespace gnnrec
