// Bulk random fills from the Philox streams of kernels/philox.h. Element i of the output is a
// pure function of (key, first + i), so the CPU and CUDA fills are bit-identical.
#pragma once
#include "kernels/philox.h"

namespace gnnrec {

// out[i] = word 0 of rng_draw(key, first + i)
void rng_bits_cpu(const RngKey& key, uint64_t first, int64_t n, uint32_t* out);
void rng_bits_cuda(const RngKey& key, uint64_t first, int64_t n, uint32_t* out, Stream stream);
// out[i] = lo + (hi - lo) * rng_uniform01(word 0 of rng_draw(key, first + i))
void rng_uniform_cpu(const RngKey& key, uint64_t first, int64_t n, float lo, float hi, float* out);
void rng_uniform_cuda(const RngKey& key, uint64_t first, int64_t n, float lo, float hi, float* out,
                      Stream stream);

// Inverted dropout: element i is kept when rng_uniform01(word 0 of rng_draw(key, first + i)) >= p
// and then multiplied by `scale` (the caller passes 1 / (1 - p) as a float, so both backends use
// the same factor); otherwise 0. The mask is a pure function of (key, first + i), so calling it
// again on the gradient with the same key and first is the backward, with no mask stored.
// In-place allowed (y == x). 0 <= p < 1.
GNNREC_HD bool dropout_keep(const RngKey& key, uint64_t i, float p) {
  return rng_uniform01(rng_draw(key, i).v[0]) >= p;
}
void dropout_cpu(const RngKey& key, uint64_t first, int64_t n, float p, float scale, const float* x,
                 float* y);
void dropout_cuda(const RngKey& key, uint64_t first, int64_t n, float p, float scale,
                  const float* x, float* y, Stream stream);

}  // namespace gnnrec
