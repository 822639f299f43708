// Random permutations and unique-with-inverse on device arrays, CPU and CUDA (bit-identical).
//
// random_permutation: out[0..n) is a permutation of 0..n-1 (int64): element i gets the 64-bit
// sort key (w0 << 32 | w1) of rng_draw(key, i) and the elements are sorted by (sort key, i).
// A uniform random permutation up to the (< n^2 / 2^65) chance of a key tie, which is broken by
// index, identically on both backends. CPU: std::sort of (key, i) pairs (OpenMP-free; one
// permutation per epoch). CUDA: one thread per element makes its key, then a CUB radix sort of
// (key, i) pairs, stable, so ties keep index order like the CPU.
//
// user_uniform_edges: n training edges drawn the way LightGCN's reference code draws them:
// a user uniformly among the users with training edges, then one of that user's edges
// uniformly (with replacement, independently per draw). Draw i uses rng_draw(key, i):
// user = active[floor(w0 * A / 2^32)], position = row start + floor(w1 * deg / 2^32). Every user
// weighs the same, whatever their history length, as in the per-user ranking metrics (an edge
// permutation weighs users by their degree). One thread per draw on CUDA.
//
// unique_with_inverse: unique = the distinct values of ids[0..n) in ascending order,
// inverse[i] = position of ids[i] in unique. CPU: sort of (id, i) pairs. CUDA: CUB radix sort
// of (id, i), head flags, inclusive scan for the ranks, scatter. The unique count is written to
// a device int32 (num_unique) that the runtime reads back once.
#pragma once
#include "kernels/common.h"
#include "kernels/philox.h"

namespace gnnrec {

GNNREC_HD uint64_t permutation_sort_key(const RngKey& key, uint64_t i) {
  const U32x4 r = rng_draw(key, i);
  return (static_cast<uint64_t>(r.v[0]) << 32) | r.v[1];
}

// CPU workspace: 16 * n bytes.
size_t random_permutation_workspace_bytes_cpu(int64_t n);
void random_permutation_cpu(int64_t n, const RngKey& key, int64_t* out, void* workspace);
size_t random_permutation_workspace_bytes_cuda(int64_t n);
void random_permutation_cuda(int64_t n, const RngKey& key, int64_t* out, void* workspace,
                             size_t workspace_bytes, Stream stream);

GNNREC_HD int64_t user_uniform_edge(const RngKey& key, uint64_t i, const int32_t* active,
                                    int64_t num_active, const int64_t* indptr,
                                    const int64_t* edge_ids) {
  const U32x4 r = rng_draw(key, i);
  const int32_t u = active[(static_cast<uint64_t>(r.v[0]) * static_cast<uint64_t>(num_active)) >> 32];
  const int64_t begin = indptr[u], deg = indptr[u + 1] - begin;
  return edge_ids[begin + static_cast<int64_t>((static_cast<uint64_t>(r.v[1]) *
                                                static_cast<uint64_t>(deg)) >> 32)];
}

// active: i32 [num_active] ids of rows with degree >= 1 (num_active >= 1 when n > 0); indptr
// i64 (row starts); edge_ids i64 (the edge id of each CSR entry); out i64 [n].
void user_uniform_edges_cpu(int64_t n, const RngKey& key, const int32_t* active,
                            int64_t num_active, const int64_t* indptr, const int64_t* edge_ids,
                            int64_t* out);
void user_uniform_edges_cuda(int64_t n, const RngKey& key, const int32_t* active,
                             int64_t num_active, const int64_t* indptr, const int64_t* edge_ids,
                             int64_t* out, Stream stream);

// unique has room for n values; *num_unique is host memory on the CPU, device memory on CUDA.
size_t unique_workspace_bytes_cpu(int64_t n);
void unique_with_inverse_cpu(int64_t n, const int32_t* ids, int32_t* unique, int32_t* inverse,
                             int32_t* num_unique, void* workspace);
size_t unique_workspace_bytes_cuda(int64_t n);
void unique_with_inverse_cuda(int64_t n, const int32_t* ids, int32_t* unique, int32_t* inverse,
                              int32_t* num_unique, void* workspace, size_t workspace_bytes,
                              Stream stream);

}  // namespace gnnrec
