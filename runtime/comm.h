// Communicator: how data-parallel ranks agree on gradients. The trainer and models talk only
// to this interface; world size 1 (LocalCommunicator) is what runs today. An NCCL/MPI backend
// adds an implementation: dense gradients all-reduced (mean), embedding rows exchanged sparse.
#pragma once
#include <vector>

#include "runtime/tensor.h"

namespace gnnrec {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Replaces each tensor with the mean over ranks (in place).
  virtual void allreduce_mean(const std::vector<Tensor*>& tensors) = 0;
};

class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void allreduce_mean(const std::vector<Tensor*>&) override {}
};

// This rank's share of n items: [begin, end) of a contiguous split, sizes differing by <= 1.
inline std::pair<int64_t, int64_t> shard_range(int64_t n, int rank, int world) {
  const int64_t base = n / world, extra = n % world;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

}  // namespace gnnrec
