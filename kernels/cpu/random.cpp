// CPU random fills: one Philox block per element, OpenMP over elements (compute bound).
#include "kernels/random.h"

namespace gnnrec {

void rng_bits_cpu(const RngKey& key, uint64_t first, int64_t n, uint32_t* out) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) out[i] = rng_draw(key, first + i).v[0];
}

void rng_uniform_cpu(const RngKey& key, uint64_t first, int64_t n, float lo, float hi, float* out) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) out[i] = lo + (hi - lo) * rng_uniform01(rng_draw(key, first + i).v[0]);
}

void dropout_cpu(const RngKey& key, uint64_t first, int64_t n, float p, float scale, const float* x,
                 float* y) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = dropout_keep(key, first + i, p) ? x[i] * scale : 0.0f;
}

}  // namespace gnnrec
