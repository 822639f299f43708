// CPU neighbour sampling (the reference; see kernels/sample.h for the algorithm).
// Variants: 1 (only) — counting and drawing are OpenMP-parallel over dst rows (each row writes
// its own slice, so the schedule cannot change the result); block construction is sequential
// and linear: a node map (node -> local id, persistent, restored to -1) recognises dst nodes,
// a bitmap of the new src nodes is scanned word by word to list them in ascending order without
// a sort (N / 64 words: 16K for a million nodes), and the transpose is a counting sort whose
// fill walks dst rows in order, so dst ids come out ascending in every src row.
// Speed is bound by the random reads of g.indices and of the node map (latency, not bandwidth).
#include "kernels/sample.h"

#include <algorithm>
#include <vector>

namespace gnnrec {

void sample_exclusions_cpu(int64_t m, const int64_t* excluded_edges, const int64_t* user_pos,
                           const int64_t* item_pos, int64_t num_edges, int64_t* out) {
  for (int64_t i = 0; i < m; ++i) {
    const int64_t e = excluded_edges[i];
    const bool ok = e >= 0 && e < num_edges;
    out[2 * i] = ok ? user_pos[e] : kNoPosition;
    out[2 * i + 1] = ok ? item_pos[e] : kNoPosition;
  }
  std::sort(out, out + 2 * m);
}

void sample_count_cpu(const GraphView& g, const Exclusions& ex, const int32_t* dst, int64_t num_dst,
                      int fanout, int32_t* indptr) {
#pragma omp parallel for schedule(static) if (num_dst > 4096)
  for (int64_t i = 0; i < num_dst; ++i) {
    const int32_t v = dst[i];
    const int64_t lo = g.indptr[v], hi = g.indptr[v + 1];
    const RowExclusions rx = sample_row_exclusions(ex, lo, hi);
    indptr[i + 1] = static_cast<int32_t>(sample_row_count(hi - lo - rx.distinct, fanout));
  }
  indptr[0] = 0;
  for (int64_t i = 0; i < num_dst; ++i) indptr[i + 1] += indptr[i];
}

void sample_build_cpu(const GraphView& g, const Exclusions& ex, const int32_t* dst, int64_t num_dst,
                      int fanout, int hop, const RngKey& key, int64_t cap, const BlockOut& out,
                      int32_t* node_map, uint64_t* node_bits) {
  (void)cap;
  (void)fanout;  // already encoded in out.indptr
  const int32_t* indptr = out.indptr;
  const int64_t nnz = indptr[num_dst];
  int32_t* indices = out.indices;

  // Draw (row-parallel; rows with many samples cost more, hence dynamic chunks).
#pragma omp parallel for schedule(dynamic, 64) if (nnz > 32768)
  for (int64_t i = 0; i < num_dst; ++i) {
    const int32_t v = dst[i];
    const int64_t lo = g.indptr[v], hi = g.indptr[v + 1];
    const int64_t k = indptr[i + 1] - indptr[i];
    if (k == 0) continue;
    const RowExclusions rx = sample_row_exclusions(ex, lo, hi);
    sample_row(g, rx, v, lo, hi, k, hop, key, indices + indptr[i]);
  }

  // dst nodes keep their positions (first occurrence wins for repeated dst ids).
  int32_t* src = out.src_nodes;
  for (int64_t i = 0; i < num_dst; ++i) {
    src[i] = dst[i];
    if (node_map[dst[i]] < 0) node_map[dst[i]] = static_cast<int32_t>(i);
  }
  // New nodes: mark, then list in ascending order by scanning the bitmap (and clear it).
  for (int64_t j = 0; j < nnz; ++j) {
    const int32_t u = indices[j];
    if (node_map[u] < 0) node_bits[u >> 6] |= uint64_t{1} << (u & 63);
  }
  int64_t num_src = num_dst;
  const int64_t words = (g.num_nodes + 63) / 64;
  for (int64_t w = 0; w < words; ++w) {
    uint64_t bits = node_bits[w];
    if (bits == 0) continue;
    node_bits[w] = 0;
    while (bits != 0) {
      const int32_t u = static_cast<int32_t>(w * 64 + __builtin_ctzll(bits));
      bits &= bits - 1;
      node_map[u] = static_cast<int32_t>(num_src);
      src[num_src++] = u;
    }
  }
  for (int64_t j = 0; j < nnz; ++j) indices[j] = node_map[indices[j]];
  for (int64_t s = 0; s < num_src; ++s) node_map[src[s]] = -1;

  // Transpose by counting sort; walking rows in order keeps dst ids ascending per src row.
  int32_t* tp = out.t_indptr;
  std::fill(tp, tp + num_src + 1, 0);
  for (int64_t j = 0; j < nnz; ++j) ++tp[indices[j] + 1];
  for (int64_t s = 0; s < num_src; ++s) tp[s + 1] += tp[s];
  // tp[s] is used as the fill cursor of row s, then shifted back.
  for (int64_t i = 0; i < num_dst; ++i)
    for (int32_t j = indptr[i]; j < indptr[i + 1]; ++j)
      out.t_indices[tp[indices[j]]++] = static_cast<int32_t>(i);
  for (int64_t s = num_src; s > 0; --s) tp[s] = tp[s - 1];
  tp[0] = 0;

  out.sizes[0] = static_cast<int32_t>(nnz);
  out.sizes[1] = static_cast<int32_t>(num_src);
}

}  // namespace gnnrec
