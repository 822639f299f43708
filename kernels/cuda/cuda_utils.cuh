// Device-side helpers shared by the CUDA kernels.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/common.h"
#include "runtime/cuda_check.h"

namespace gnnrec::cuda {

constexpr int kWarp = 32;

inline int grid_for(int64_t n, int block, int max_blocks = 65535 * 4) {
  int64_t g = (n + block - 1) / block;
  if (g < 1) g = 1;
  return static_cast<int>(g < max_blocks ? g : max_blocks);
}

inline cudaStream_t as_cuda(Stream s) { return reinterpret_cast<cudaStream_t>(s); }

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = kWarp / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

}  // namespace gnnrec::cuda
