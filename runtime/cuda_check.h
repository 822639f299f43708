// Checks for CUDA library calls. Include only from files compiled with CUDA on
// (runtime/*_cuda.cpp, kernels/cuda/*.cu); each records the expression, file and line.
#pragma once
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusparse.h>

#include "runtime/error.h"

namespace gnnrec::detail {
const char* cublas_status_name(cublasStatus_t s);
}

#define GNNREC_CUDA_CHECK(expr)                                                      \
  do {                                                                               \
    cudaError_t gnnrec_err_ = (expr);                                                \
    if (gnnrec_err_ != cudaSuccess) {                                                \
      ::gnnrec::detail::throw_error(__FILE__, __LINE__, #expr,                       \
                                    fmt::format("CUDA error {}: {}",                 \
                                                cudaGetErrorName(gnnrec_err_),       \
                                                cudaGetErrorString(gnnrec_err_)));   \
    }                                                                                \
  } while (0)

#define GNNREC_CUBLAS_CHECK(expr)                                                      \
  do {                                                                                 \
    cublasStatus_t gnnrec_st_ = (expr);                                                \
    if (gnnrec_st_ != CUBLAS_STATUS_SUCCESS) {                                         \
      ::gnnrec::detail::throw_error(                                                   \
          __FILE__, __LINE__, #expr,                                                   \
          fmt::format("cuBLAS error {}", ::gnnrec::detail::cublas_status_name(gnnrec_st_))); \
    }                                                                                  \
  } while (0)

#define GNNREC_CUSPARSE_CHECK(expr)                                                    \
  do {                                                                                 \
    cusparseStatus_t gnnrec_st_ = (expr);                                              \
    if (gnnrec_st_ != CUSPARSE_STATUS_SUCCESS) {                                       \
      ::gnnrec::detail::throw_error(__FILE__, __LINE__, #expr,                         \
                                    fmt::format("cuSPARSE error {}",                   \
                                                cusparseGetErrorString(gnnrec_st_)));  \
    }                                                                                  \
  } while (0)

#define GNNREC_NCCL_CHECK(expr)                                                        \
  do {                                                                                 \
    auto gnnrec_st_ = (expr);                                                          \
    if (gnnrec_st_ != 0) {                                                             \
      ::gnnrec::detail::throw_error(__FILE__, __LINE__, #expr,                         \
                                    fmt::format("NCCL error {}",                       \
                                                ncclGetErrorString(gnnrec_st_)));      \
    }                                                                                  \
  } while (0)

// After every kernel launch: the launch error always, and in a debug build the kernel's own
// error too (synchronising), so a fault is reported at the launch that caused it.
#ifndef NDEBUG
#define GNNREC_CUDA_LAUNCH_CHECK()                \
  do {                                            \
    GNNREC_CUDA_CHECK(cudaGetLastError());        \
    GNNREC_CUDA_CHECK(cudaDeviceSynchronize());   \
  } while (0)
#else
#define GNNREC_CUDA_LAUNCH_CHECK() GNNREC_CUDA_CHECK(cudaGetLastError())
#endif
