// Negative item sampling for the ranking losses, CPU and CUDA (bit-identical for the same key).
//
// out[b * k + j] (item-local id in [0, num_items)) for user users[b], j < k. Try t (0..31) of
// output slot q = b * k + j uses the Philox block rng_draw(key, (q << 5) | t):
//   word 0 -> a column c = rng_below(w0, num_items);
//   uniform (alias_prob == nullptr): the item is c;
//   popularity^alpha: the item is c when rng_uniform01(w1) < alias_prob[c], else alias_idx[c]
//   (Walker/Vose alias table; see runtime/graph.cpp for how it is built).
// The draw is rejected when the item is a training positive of the user (binary search for the
// unified id num_users + item in the user's sorted CSR row of g); after kNegativeMaxTries
// rejected tries the last draw is accepted as is (so a user who has bought almost everything
// still gets k outputs, possibly positives). Draws depend only on (key, b, j, t), never on the
// thread schedule. One thread per output slot on the GPU; OpenMP over slots on the CPU. Bound by
// the Philox rounds and the binary searches (latency).
#pragma once
#include "kernels/common.h"
#include "kernels/philox.h"
#include "kernels/sample.h"

namespace gnnrec {

constexpr int kNegativeMaxTries = 32;

struct NegativeView {
  int64_t num_users = 0, num_items = 0;
  const float* alias_prob = nullptr;   // [num_items]; null: uniform
  const int32_t* alias_idx = nullptr;  // [num_items]
};

GNNREC_HD bool negative_is_positive(const GraphView& g, int32_t user, int32_t node) {
  int64_t a = g.indptr[user], b = g.indptr[user + 1];
  while (a < b) {
    const int64_t m = (a + b) >> 1;
    if (g.indices[m] < node) {
      a = m + 1;
    } else {
      b = m;
    }
  }
  return a < g.indptr[user + 1] && g.indices[a] == node;
}

GNNREC_HD int32_t negative_draw_one(const GraphView& g, const NegativeView& ns, int32_t user,
                                    uint64_t slot, const RngKey& key) {
  int32_t item = 0;
  for (int t = 0; t < kNegativeMaxTries; ++t) {
    const U32x4 r = rng_draw(key, (slot << 5) | static_cast<uint64_t>(t));
    const int32_t c = static_cast<int32_t>(rng_below(r.v[0], static_cast<uint32_t>(ns.num_items)));
    item = c;
    if (ns.alias_prob != nullptr && !(rng_uniform01(r.v[1]) < ns.alias_prob[c]))
      item = ns.alias_idx[c];
    if (!negative_is_positive(g, user, static_cast<int32_t>(ns.num_users + item))) break;
  }
  return item;
}

void sample_negatives_cpu(const GraphView& g, const NegativeView& ns, const int32_t* users,
                          int64_t batch, int k, const RngKey& key, int32_t* out);
void sample_negatives_cuda(const GraphView& g, const NegativeView& ns, const int32_t* users,
                           int64_t batch, int k, const RngKey& key, int32_t* out, Stream stream);

}  // namespace gnnrec
