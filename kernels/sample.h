// Neighbour sampling for mini-batch message passing (one hop = one Block), CPU and CUDA.
//
// The graph is the unified bipartite training graph of runtime/graph.h: a CSR over nodes
// 0..N-1 (users then items) whose rows are sorted ascending, and whose entry positions p in
// [0, 2E) are global (indptr is i64). One hop runs three kernel-level steps, driven by
// runtime/graph.cpp:
//
//   1. sample_exclusions: the batch's supervision edges -> the sorted global positions of both
//      of their CSR entries (user row and item row). Done once per batch, used by every hop.
//   2. sample_count: per dst row, k = min(fanout, deg_eff) (all of deg_eff when fanout <= 0),
//      deg_eff = degree - #distinct excluded positions in the row; writes the exclusive scan of
//      k as the block's indptr (i32 [num_dst + 1]).
//   3. sample_build: draws the neighbours of each row into the block's indices, then builds
//      the block in place: src_nodes = dst nodes (same order) ++ the other sampled nodes in
//      ascending id order; indices relabelled to positions in src_nodes; the transposed CSR
//      (t_indptr, t_indices) with dst rows ascending within every src row; sizes = {nnz,
//      num_src}. Outputs are written into capacity-sized buffers so that no size needs to be
//      known on the host before the call (the GPU path reads `sizes` back once afterwards).
//
// Randomness and determinism. Without replacement, uniform over the row's non-excluded entries,
// by Floyd's algorithm over virtual positions [0, deg_eff): for s = 0..k-1, j = deg_eff - k + s,
// t = rng_below(word, j + 1); t joins the set unless already in it, in which case j joins.
// The word for slot s of node v at hop h is
//     rng_draw(key, (v << 32) | (h << 24) | (s >> 2)).v[s & 3]
// so a draw depends only on (key, node id, hop, slot): the same node gets the same neighbours
// at the same hop on both backends, whatever the batch order or thread schedule. Virtual
// positions are kept sorted, then mapped to real positions by skipping the excluded ones (in
// ascending order), so a row's sampled neighbours come out in ascending id order. When
// k == deg_eff every non-excluded entry is taken, in order, without drawing. CPU and CUDA
// produce bit-identical blocks for the same inputs and key.
//
// Limits: fanout < 2^24 * 4 (kMaxFanout), hop < 256 (kMaxHops), node ids < 2^31, nnz and
// num_src of a block < 2^31. Duplicate dst nodes are allowed (their first occurrence is the
// relabel target); duplicate or out-of-range excluded edge ids are ignored / deduplicated.
#pragma once
#include "kernels/common.h"
#include "kernels/philox.h"

namespace gnnrec {

constexpr int kMaxHops = 256;
constexpr int64_t kMaxFanout = int64_t{1} << 26;

// The unified CSR (device or host pointers, matching the backend).
struct GraphView {
  int64_t num_nodes = 0;
  int64_t num_edges = 0;             // training edges E; 2E entries
  const int64_t* indptr = nullptr;   // [N + 1]
  const int32_t* indices = nullptr;  // [2E], sorted within each row
};

// The exclusion set of one batch: sorted global entry positions, excluded edges contribute two
// each; ids outside [0, E) become kNoPosition, which sorts last and matches no row.
struct Exclusions {
  const int64_t* pos = nullptr;
  int64_t n = 0;
};
constexpr int64_t kNoPosition = INT64_MAX;

// Index of Philox block `s >> 2` for slot s of node v at hop h (see the opening comment).
GNNREC_HD uint64_t sample_draw_index(int32_t v, int hop, int64_t slot) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(v)) << 32) |
         (static_cast<uint64_t>(hop) << 24) | static_cast<uint64_t>(slot >> 2);
}

// Step 1. out[2m]: positions user_pos[e] and item_pos[e] of every excluded edge e, sorted.
void sample_exclusions_cpu(int64_t m, const int64_t* excluded_edges, const int64_t* user_pos,
                           const int64_t* item_pos, int64_t num_edges, int64_t* out);
size_t sample_exclusions_workspace_bytes_cuda(int64_t m);
void sample_exclusions_cuda(int64_t m, const int64_t* excluded_edges, const int64_t* user_pos,
                            const int64_t* item_pos, int64_t num_edges, int64_t* out,
                            void* workspace, size_t workspace_bytes, Stream stream);

// Step 2. indptr[num_dst + 1] = exclusive scan of the per-row sample counts.
void sample_count_cpu(const GraphView& g, const Exclusions& ex, const int32_t* dst, int64_t num_dst,
                      int fanout, int32_t* indptr);
size_t sample_count_workspace_bytes_cuda(int64_t num_dst);
void sample_count_cuda(const GraphView& g, const Exclusions& ex, const int32_t* dst,
                       int64_t num_dst, int fanout, int32_t* indptr, void* workspace,
                       size_t workspace_bytes, Stream stream);

// Step 3. Block outputs, sized by `cap` >= nnz (any upper bound; exact nnz on the CPU):
struct BlockOut {
  const int32_t* indptr = nullptr;  // [num_dst + 1] from sample_count (input)
  int32_t* src_nodes = nullptr;     // [num_dst + cap]; first num_src valid
  int32_t* indices = nullptr;       // [cap]; first nnz valid
  int32_t* t_indptr = nullptr;      // [num_dst + cap + 1]; first num_src + 1 valid
  int32_t* t_indices = nullptr;     // [cap]; first nnz valid
  int32_t* sizes = nullptr;         // [2]: nnz, num_src
};
// CPU scratch owned by the caller and kept between calls: node_map int32 [N] must be all -1 and
// node_bits uint64 [ceil(N / 64)] all zero on entry; both are restored before returning.
void sample_build_cpu(const GraphView& g, const Exclusions& ex, const int32_t* dst, int64_t num_dst,
                      int fanout, int hop, const RngKey& key, int64_t cap, const BlockOut& out,
                      int32_t* node_map, uint64_t* node_bits);
size_t sample_build_workspace_bytes_cuda(int64_t num_nodes, int64_t num_dst, int64_t cap);
void sample_build_cuda(const GraphView& g, const Exclusions& ex, const int32_t* dst,
                       int64_t num_dst, int fanout, int hop, const RngKey& key, int64_t cap,
                       const BlockOut& out, void* workspace, size_t workspace_bytes, Stream stream);

// ---- Shared per-row logic (host and device): the CPU and CUDA kernels call these, so the two
// backends cannot drift apart.

struct RowExclusions {
  const int64_t* begin = nullptr;  // sorted positions inside [row_lo, row_hi), may repeat
  const int64_t* end = nullptr;
  int64_t distinct = 0;
};

GNNREC_HD const int64_t* sample_lower_bound(const int64_t* first, const int64_t* last,
                                            int64_t value) {
  int64_t n = last - first;
  while (n > 0) {
    const int64_t half = n >> 1;
    if (first[half] < value) {
      first += half + 1;
      n -= half + 1;
    } else {
      n = half;
    }
  }
  return first;
}

GNNREC_HD RowExclusions sample_row_exclusions(const Exclusions& ex, int64_t lo, int64_t hi) {
  RowExclusions r;
  if (ex.n == 0 || lo == hi) {
    r.begin = r.end = ex.pos;
    return r;
  }
  r.begin = sample_lower_bound(ex.pos, ex.pos + ex.n, lo);
  r.end = sample_lower_bound(r.begin, ex.pos + ex.n, hi);
  for (const int64_t* p = r.begin; p < r.end; ++p)
    if (p == r.begin || *p != p[-1]) ++r.distinct;
  return r;
}

GNNREC_HD int64_t sample_row_count(int64_t deg_eff, int fanout) {
  return (fanout <= 0 || deg_eff <= fanout) ? deg_eff : static_cast<int64_t>(fanout);
}

// Writes the k sampled neighbour ids of row v (CSR range [lo, hi)) to out[0..k), ascending.
GNNREC_HD void sample_row(const GraphView& g, const RowExclusions& rx, int32_t v, int64_t lo,
                          int64_t hi, int64_t k, int hop, const RngKey& key, int32_t* out) {
  const int64_t deg_eff = hi - lo - rx.distinct;
  if (k == deg_eff) {
    // Take everything, skipping excluded positions (both lists ascending).
    const int64_t* e = rx.begin;
    int64_t w = 0;
    for (int64_t p = lo; p < hi; ++p) {
      while (e < rx.end && *e < p) ++e;
      if (e < rx.end && *e == p) continue;
      out[w++] = g.indices[p];
    }
    return;
  }
  // Floyd over virtual positions, kept sorted in out[0..n) (as int32: a row has < 2^31 entries).
  U32x4 block{};
  for (int64_t s = 0; s < k; ++s) {
    if ((s & 3) == 0) block = rng_draw(key, sample_draw_index(v, hop, s));
    const int64_t j = deg_eff - k + s;
    const int32_t t = static_cast<int32_t>(rng_below(block.v[s & 3], static_cast<uint32_t>(j + 1)));
    // Binary search t in out[0..s).
    int64_t a = 0, b = s;
    while (a < b) {
      const int64_t m = (a + b) >> 1;
      if (out[m] < t)
        a = m + 1;
      else
        b = m;
    }
    if (a < s && out[a] == t) {
      out[s] = static_cast<int32_t>(j);  // j exceeds everything chosen so far: append
    } else {
      for (int64_t q = s; q > a; --q) out[q] = out[q - 1];
      out[a] = t;
    }
  }
  // Virtual -> real positions: real = virtual + #distinct excluded positions <= real.
  const int64_t* e = rx.begin;
  int64_t shift = 0;
  for (int64_t s = 0; s < k; ++s) {
    int64_t p = lo + out[s] + shift;
    while (e < rx.end && *e <= p) {
      if (e == rx.begin || *e != e[-1]) {
        ++shift;
        ++p;
      }
      ++e;
    }
    out[s] = g.indices[p];
  }
}

}  // namespace gnnrec
