// Row gathers and deterministic row scatter-adds: embedding lookups, their backward, and the
// "sum per-slot gradients into the rows they came from" step of the losses.
//
// A scatter-add out[ids[s]] += g[s] written with float atomics gives a different rounding order on
// every run. Here it is a gather instead: group_by_row sorts the slots by target row (stable, so
// slots stay in ascending order inside a row) into a CSR (row_ptr, order), then csr_gather_rows
// sums each row's slots in that order. Results repeat bit for bit, and the CPU and CUDA kernels
// give the same bits (same order, explicit rounding: kernels/nn_math.h).
#pragma once
#include "kernels/common.h"

namespace gnnrec {

// out[r, :] = table[ids[r], :] (accumulate=false) or out[r, :] + table[ids[r], :]. Rows of out
// and table are dense (stride d). 0 <= ids[r] < table rows (not checked here).
void embedding_gather_cpu(int64_t r, int64_t d, const float* table, const int32_t* ids, float* out,
                          bool accumulate);
void embedding_gather_cuda(int64_t r, int64_t d, const float* table, const int32_t* ids, float* out,
                           bool accumulate, Stream stream);

// Stable counting sort of `count` slots by key: keys[s] in [0, n_rows). Writes row_ptr
// [n_rows+1] and order [count] such that order[row_ptr[k] .. row_ptr[k+1]) lists the slots with
// key k in ascending slot order. The CPU version needs no scratch; the CUDA one (CUB radix sort)
// needs group_by_row_workspace_bytes_cuda(count, n_rows) bytes of device scratch.
void group_by_row_cpu(const int32_t* keys, int64_t count, int64_t n_rows, int32_t* row_ptr,
                      int32_t* order);
size_t group_by_row_workspace_bytes_cuda(int64_t count, int64_t n_rows);
void group_by_row_cuda(const int32_t* keys, int64_t count, int64_t n_rows, int32_t* row_ptr,
                       int32_t* order, void* workspace, size_t workspace_bytes, Stream stream);

// out[i, 0:d] (= or +=) sum over q in [row_ptr[i], row_ptr[i+1]) of w[s] * X[col[s], 0:d] with
// s = order[q], summed in q order from +0.0f (then added to out in one step when accumulating).
// col == nullptr means col[s] = s; w == nullptr means w[s] = 1 (no multiply). Every row i <
// n_rows is written; rows with no slots get 0 (or stay as they were).
void csr_gather_rows_cpu(int64_t n_rows, int64_t d, const int32_t* row_ptr, const int32_t* order,
                         const int32_t* col, const float* w, const float* X, int64_t ld_x,
                         float* out, int64_t ld_out, bool accumulate);
void csr_gather_rows_cuda(int64_t n_rows, int64_t d, const int32_t* row_ptr, const int32_t* order,
                          const int32_t* col, const float* w, const float* X, int64_t ld_x,
                          float* out, int64_t ld_out, bool accumulate, Stream stream);

}  // namespace gnnrec
