// The training graph on a device and the graph ops of a training step: neighbour sampling into
// message-passing blocks, negative items, permutations, unique-with-inverse, SpMM. Each op
// validates its arguments once and runs the CPU or CUDA kernel (kernels/sample.h, negative.h,
// permute.h, spmm.h) chosen by the device of its tensors, on that device's context stream
// (runtime/context.h). Results are bit-identical between CPU and CUDA for the same RngKey
// (SpMM: up to FMA rounding). Host round trips on the GPU path are listed per op.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/philox.h"
#include "kernels/sample.h"
#include "kernels/spmm.h"
#include "runtime/data/dataset.h"
#include "runtime/tensor.h"

namespace gnnrec {

// The training graph as one bipartite graph: users 0..U-1, items U..U+I-1.
struct DeviceGraph {
  int64_t num_users = 0, num_items = 0, num_nodes = 0, num_edges = 0;  // num_edges = E
  Tensor indptr;                                                       // i64 [N+1]
  Tensor indices;   // i32 [2E] neighbour node ids (unified ids), sorted ascending within a row
  Tensor edge_ids;  // i64 [2E] training edge id of each entry (both directions carry the same id)
  Tensor user_pos;  // i64 [E] position (into indices) of edge e in its user's row
  Tensor item_pos;  // i64 [E] position of edge e in its item's row
  Tensor degree_f;  // f32 [N] degrees (for normalisation)
  Device device;

  GraphView view() const;
  // A copy of every tensor on `device`.
  DeviceGraph to(Device device) const;
};

// From ds.user_items / ds.item_users (the training CSRs; only those fields are read). Checks
// that both describe the same E edges with ids 0..E-1, each once per direction; rows are
// (re)sorted by neighbour id, ties (repeated user-item pairs) by edge id. Built on the host and
// copied. Requires 2E < 2^31 (Block and sampler positions are int32).
DeviceGraph make_device_graph(const Dataset& ds, Device device);
// The same from an edge list: edge e = (users[e], items[e]), item ids item-local.
DeviceGraph make_device_graph(int64_t num_users, int64_t num_items,
                              const std::vector<int32_t>& users, const std::vector<int32_t>& items,
                              Device device);

// One message-passing layer of a sampled mini-batch.
struct Block {
  int64_t num_dst = 0, num_src = 0, nnz = 0;
  Tensor
      src_nodes;  // i32 [num_src] unified node ids; the first num_dst are the dst nodes, same order
  Tensor indptr;  // i32 [num_dst+1]
  Tensor indices;    // i32 [nnz] positions into src_nodes
  Tensor t_indptr;   // i32 [num_src+1] transposed block (src -> dst rows)
  Tensor t_indices;  // i32 [nnz] dst row ids, ascending within each src row
};

// Samples len(fanouts) blocks for the seed nodes (i32 unified ids, expected unique). fanouts[0]
// is used for the block whose dst = seeds (the LAST layer); the result is ordered input-first:
// blocks.back().src_nodes starts with the seeds, blocks[0].src_nodes are all the nodes whose
// input features the model needs. fanout <= 0 means all neighbours. Uniform without
// replacement; all neighbours when the (effective) degree <= fanout. Within a dst row the
// sampled neighbours are in ascending node id order; src_nodes = dst nodes, then the other
// sampled nodes in ascending id order. excluded_edges: i64 training edge ids invisible at every
// hop in both directions (the batch's supervision edges); may be undefined or empty; ids
// outside [0, E) are rejected on the CPU and ignored on the GPU. Draws are keyed by (key, node
// id, hop, slot) (see kernels/sample.h), so the same key gives the same blocks on both backends.
// Block tensors are views into capacity-sized buffers (contiguous; the spare tail is unused).
// GPU host round trips: one 8-byte D2H copy per block ({nnz, num_src}), plus one 4-byte copy
// per hop whose fanout <= 0 or whose num_dst * fanout exceeds 2^24 (the capacity is then nnz).
// Duplicate seeds are allowed (the first occurrence is the relabel target) but not useful.
std::vector<Block> sample_blocks(const DeviceGraph& g, const Tensor& seeds,
                                 const std::vector<int>& fanouts, const Tensor& excluded_edges,
                                 const RngKey& key);

// unique: the distinct ids in ascending order (i32); inverse: i32 [n], ids[i] ==
// unique[inverse[i]]. i32 ids of any value. GPU: one 4-byte D2H copy (the unique count).
struct UniqueResult {
  Tensor unique;
  Tensor inverse;
};
UniqueResult unique_with_inverse(const Tensor& ids);

// A random permutation of 0..n-1, i64 [n], from the key (sort by per-index Philox keys; see
// kernels/permute.h). No host round trip.
Tensor random_permutation(int64_t n, const RngKey& key, Device device);

// Training edges drawn per user (kernels/permute.h user_uniform_edges): the users of g with at
// least one training edge, found once on the host.
struct UserEdgeSampler {
  int64_t num_active = 0;
  Tensor active;  // i32 [num_active] user ids with degree >= 1
  Device device;
};
UserEdgeSampler make_user_edge_sampler(const DeviceGraph& g);
// n training edge ids (i64 [n], on g.device): a uniform user among the active ones, then a
// uniform edge of that user, independently per draw. No host round trip.
Tensor sample_user_uniform_edges(const UserEdgeSampler& us, const DeviceGraph& g, int64_t n,
                                 const RngKey& key);

struct NegativeSampler {
  int64_t num_items = 0;
  float alpha = 0;
  Tensor alias_prob;  // f32 [I]; undefined when alpha == 0 (uniform)
  Tensor alias_idx;   // i32 [I]
  Device device;
};
// alpha = 0: uniform over items; else P(item) proportional to (training degree)^alpha via a
// Walker alias table built on the host (Vose's method, in double) and copied. Items of degree 0
// then have probability 0; if every item has degree 0 the sampler is uniform.
NegativeSampler make_negative_sampler(const Dataset& ds, float alpha, Device device);
// The same, taking the item degrees from g (copied to the host once); on g.device.
NegativeSampler make_negative_sampler(const DeviceGraph& g, float alpha);
// out: i32 [B, k] ITEM-LOCAL ids (0..I-1). A draw that is a training positive of users[b]
// (binary search in the user's sorted CSR row of g) is redrawn, up to 32 tries
// (kNegativeMaxTries); the 32nd draw is accepted even if positive. Deterministic by key: slot
// (b, j) and try t use Philox draw ((b*k + j) << 5 | t). users: i32 [B] user ids (0..U-1).
void sample_negatives(const NegativeSampler& ns, const DeviceGraph& g, const Tensor& users, int k,
                      const RngKey& key, Tensor& out);

// y[r,:] = sum_j values[j] * x[indices[j], :] over CSR row r (overwrite). indptr i64 or i32
// [rows+1]; indices i32 [nnz] in [0, x.rows); values f32 [nnz] or undefined (all ones);
// x f32 [cols, d]; y f32 [rows, d]. For LightGCN full-graph propagation (and block gathers).
void spmm(const Tensor& indptr, const Tensor& indices, const Tensor& values, const Tensor& x,
          Tensor& y, SpmmVariant variant = SpmmVariant::kAuto);
// values for LightGCN: 1/sqrt(deg(r) deg(c)) per entry of g (f32 [2E]).
Tensor symmetric_norm_values(const DeviceGraph& g);

}  // namespace gnnrec
