// Device helpers for the row-gather kernels (aggregation, embedding, loss): a "row group" of
// G = 1..32 lanes (a power of two, G <= warp) owns one output row; each lane walks the row's
// columns with stride G, loading a float4 (16 B) per step when every row start is 16-byte aligned,
// else one float. A group never straddles a warp, so shuffles stay inside it.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/cuda_utils.cuh"
#include "kernels/nn_math.h"

namespace gnnrec::cuda {

constexpr int kRowBlock = 256;  // threads per block for the row-group kernels

// Smallest power of two >= columns (in vector units), capped at a warp: a d = 64 float4 row is 16
// lanes, so two rows share a warp instead of leaving half of it idle.
inline int group_size_for(int64_t vec_cols) {
  int g = 1;
  while (g < vec_cols && g < kWarp) g <<= 1;
  return g;
}

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// True when every row start of a strided f32 matrix is 16-byte aligned (float4 path usable).
inline bool rows_vec4(const void* base, int64_t d, int64_t ld) {
  return base == nullptr || (aligned16(base) && d % 4 == 0 && ld % 4 == 0);
}

// Blocks of kRowBlock threads covering rows * group threads (one group per row).
inline unsigned int grid1d(int64_t rows, int group) {
  const int64_t threads = rows * group;
  return static_cast<unsigned int>((threads + kRowBlock - 1) / kRowBlock);
}

// Which row and lane this thread is; G is a power of two.
struct RowLane {
  int64_t row;
  int lane;
};
__device__ __forceinline__ RowLane row_lane(int group) {
  const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  return {t / group, static_cast<int>(t & (group - 1))};
}

// Elementwise ops on float and float4 with explicit rounding (see kernels/nn_math.h).
template <typename V>
struct Vec;
template <>
struct Vec<float> {
  static constexpr int kWidth = 1;
  __device__ __forceinline__ static float zero() { return 0.0f; }
  __device__ __forceinline__ static float add(float a, float b) { return __fadd_rn(a, b); }
  __device__ __forceinline__ static float mul(float a, float s) { return __fmul_rn(a, s); }
  __device__ __forceinline__ static float load(const float* p) { return __ldg(p); }
};
template <>
struct Vec<float4> {
  static constexpr int kWidth = 4;
  __device__ __forceinline__ static float4 zero() { return make_float4(0.f, 0.f, 0.f, 0.f); }
  __device__ __forceinline__ static float4 add(float4 a, float4 b) {
    return make_float4(__fadd_rn(a.x, b.x), __fadd_rn(a.y, b.y), __fadd_rn(a.z, b.z),
                       __fadd_rn(a.w, b.w));
  }
  __device__ __forceinline__ static float4 mul(float4 a, float s) {
    return make_float4(__fmul_rn(a.x, s), __fmul_rn(a.y, s), __fmul_rn(a.z, s), __fmul_rn(a.w, s));
  }
  __device__ __forceinline__ static float4 load(const float4* p) { return __ldg(p); }
};

// Sum over the lanes of one group (G <= 32, groups aligned inside the warp).
__device__ __forceinline__ float group_sum(float v, int group) {
  for (int o = group / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

}  // namespace gnnrec::cuda
