// Philox4x32-10 (Salmon et al., SC'11), usable on host and device. Every random number in
// gnnrec is a pure function of (seed, purpose, epoch, step, index), so the CPU and CUDA code
// draw bit-identical numbers and a run can resume from any step without stored RNG state.
#pragma once
#include <cstdint>

#include "kernels/common.h"

namespace gnnrec {

struct U32x4 {
  uint32_t v[4];
};

GNNREC_HD void philox_mulhilo(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  *lo = static_cast<uint32_t>(p);
}

// The raw block function: 10 rounds, key bumped between rounds (Random123's philox4x32_R).
GNNREC_HD U32x4 philox4x32_10(U32x4 ctr, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(kM0, ctr.v[0], &hi0, &lo0);
    philox_mulhilo(kM1, ctr.v[2], &hi1, &lo1);
    ctr = U32x4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
  }
  return ctr;
}

// What a stream of random numbers is for; part of the counter, so purposes never collide.
enum class RngPurpose : uint32_t {
  kInit = 1,        // parameter initialisation
  kShuffle = 2,     // per-epoch permutation of training edges
  kSample = 3,      // neighbour sampling
  kNegative = 4,    // negative items
  kDropout = 5,
  kSplit = 6,       // random train/val/test split
  kSynth = 7,       // synthetic data
  kTest = 100,      // tests and benchmarks
};

struct RngKey {
  uint64_t seed = 0;
  uint32_t purpose = 0;
  uint32_t epoch = 0;
  uint32_t step = 0;
};

// Four 32-bit words for draw `index` of the stream named by `key`.
// Counter layout: (index lo, index hi, step, purpose << 24 ^ epoch); key = seed.
GNNREC_HD U32x4 rng_draw(const RngKey& key, uint64_t index) {
  U32x4 ctr{{static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), key.step,
             (key.purpose << 24) ^ key.epoch}};
  return philox4x32_10(ctr, static_cast<uint32_t>(key.seed), static_cast<uint32_t>(key.seed >> 32));
}

// A float in [0, 1) from the top 24 bits of a word: exact in float, same on both backends.
GNNREC_HD float rng_uniform01(uint32_t w) { return static_cast<float>(w >> 8) * (1.0f / 16777216.0f); }

// An integer in [0, n) by Lemire's multiply-shift (bias below 2^-32 * n, far below any test).
GNNREC_HD uint32_t rng_below(uint32_t w, uint32_t n) {
  return static_cast<uint32_t>((static_cast<uint64_t>(w) * n) >> 32);
}

}  // namespace gnnrec
