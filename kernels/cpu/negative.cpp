// CPU negative sampling (reference; see kernels/negative.h). OpenMP over output slots.
#include "kernels/negative.h"

namespace gnnrec {

void sample_negatives_cpu(const GraphView& g, const NegativeView& ns, const int32_t* users,
                          int64_t batch, int k, const RngKey& key, int32_t* out) {
  const int64_t n = batch * k;
#pragma omp parallel for schedule(static) if (n > 16384)
  for (int64_t q = 0; q < n; ++q)
    out[q] = negative_draw_one(g, ns, users[q / k], static_cast<uint64_t>(q), key);
}

}  // namespace gnnrec
