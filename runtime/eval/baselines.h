// Non-personalised baselines ranked under the same mask as the model, for the eval report:
// Most-Popular (items by training degree) and Random (seeded Philox, uniform without
// replacement over the items not masked for the user).
#pragma once
#include <cstdint>
#include <vector>

#include "runtime/data/dataset.h"

namespace gnnrec {

// Purpose word of the Random baseline's Philox stream (kernels/philox.h RngPurpose values
// stay below 100 and kTest is 100; this one is the evaluator's own).
constexpr uint32_t kRngPurposeEvalRandom = 101;

// out [users.size(), K]: per user the K highest-degree items not in exclude's row (ties: the
// smaller id first), padded with -1. item_degree [I].
void most_popular_topk(const std::vector<int64_t>& item_degree, const Csr& exclude,
                       const std::vector<int32_t>& users, int K, std::vector<int32_t>& out);

// out [users.size(), K]: per user K distinct items drawn uniformly from the items not in
// exclude's row, in draw order, padded with -1 when fewer remain. User u's draws come from
// the Philox stream (seed, kRngPurposeEvalRandom, epoch 0, step u), so they do not depend on
// which other users are ranked.
void random_topk(int64_t num_items, const Csr& exclude, const std::vector<int32_t>& users, int K,
                 uint64_t seed, std::vector<int32_t>& out);

}  // namespace gnnrec
