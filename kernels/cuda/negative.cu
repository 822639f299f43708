// CUDA negative sampling; one thread per output slot runs the shared negative_draw_one(), so it
// is bit-identical to kernels/cpu/negative.cpp (see kernels/negative.h). Bound by Philox and the
// binary searches in the users' rows (latency).
#include "kernels/cuda/cuda_utils.cuh"
#include "kernels/negative.h"

namespace gnnrec {
namespace {

__global__ void negatives_kernel(GraphView g, NegativeView ns, const int32_t* users, int64_t n,
                                 int k, RngKey key, int32_t* out) {
  for (int64_t q = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; q < n;
       q += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[q] = negative_draw_one(g, ns, users[q / k], static_cast<uint64_t>(q), key);
}

}  // namespace

void sample_negatives_cuda(const GraphView& g, const NegativeView& ns, const int32_t* users,
                           int64_t batch, int k, const RngKey& key, int32_t* out, Stream s) {
  const int64_t n = batch * k;
  if (n == 0) return;
  negatives_kernel<<<cuda::grid_for(n, 256), 256, 0, cuda::as_cuda(s)>>>(g, ns, users, n, k, key,
                                                                         out);
  GNNREC_CUDA_LAUNCH_CHECK();
}

}  // namespace gnnrec
