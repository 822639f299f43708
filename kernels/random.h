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

}  // namespace gnnrec
