// Elementwise and row-wise ops on float32 arrays. Each overwrites its output (except axpy,
// which accumulates into y). Deterministic on both backends.
#pragma once
#include "kernels/common.h"

namespace gnnrec {

// y[i] += a * x[i]
void axpy_cpu(int64_t n, float a, const float* x, float* y);
void axpy_cuda(int64_t n, float a, const float* x, float* y, Stream stream);
// x[i] *= a
void scale_cpu(int64_t n, float a, float* x);
void scale_cuda(int64_t n, float a, float* x, Stream stream);
// y[i] = max(x[i], 0); in-place allowed (y == x).
void relu_forward_cpu(int64_t n, const float* x, float* y);
void relu_forward_cuda(int64_t n, const float* x, float* y, Stream stream);
// dx[i] = y[i] > 0 ? dy[i] : 0, from the forward output y; in-place allowed (dx == dy).
void relu_backward_cpu(int64_t n, const float* y, const float* dy, float* dx);
void relu_backward_cuda(int64_t n, const float* y, const float* dy, float* dx, Stream stream);

// Row L2 normalisation of x[rows, d]: y = x / max(||x||, eps); norms[r] = max(||x_r||, eps) is
// saved for the backward. In-place allowed. A zero row stays zero.
void l2_normalize_forward_cpu(int64_t rows, int64_t d, const float* x, float* y, float* norms,
                              float eps);
void l2_normalize_forward_cuda(int64_t rows, int64_t d, const float* x, float* y, float* norms,
                               float eps, Stream stream);
// dx = (dy - y * <y, dy>) / norm  (for rows with ||x|| >= eps; else dx = dy / eps).
void l2_normalize_backward_cpu(int64_t rows, int64_t d, const float* y, const float* norms,
                               const float* dy, float* dx, float eps);
void l2_normalize_backward_cuda(int64_t rows, int64_t d, const float* y, const float* norms,
                                const float* dy, float* dx, float eps, Stream stream);

// out[j] = sum_r x[r, j] (bias gradients). Fixed summation order on both backends (so each is
// deterministic), not the same order: the CPU walks the rows in order per column block; CUDA
// sums chunks of 256 rows in order, then the chunk partials in order (workspace: one float per
// chunk and column, column_sum_cuda_workspace_bytes).
void column_sum_cpu(int64_t rows, int64_t d, const float* x, float* out);
size_t column_sum_cuda_workspace_bytes(int64_t rows, int64_t d);
void column_sum_cuda(int64_t rows, int64_t d, const float* x, float* out, void* workspace,
                     Stream stream);

}  // namespace gnnrec
