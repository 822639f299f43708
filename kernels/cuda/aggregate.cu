// CUDA neighbour aggregation, contract in kernels/aggregate.h.
//
// Work mapping: a row group of G lanes (G = next power of two of the row's vector count, at most
// a warp; kernels/cuda/nn_utils.cuh) owns one output row; lane l handles vector columns
// l, l + G, ... and walks the row's neighbour list in order, so each output element is the same
// fixed-order sum as on the CPU (explicit __fadd_rn/__fmul_rn: no FMA contraction) and the results
// are bit-identical to aggregate_*_cpu. Neighbour indices are read by every lane of the group from
// the same address (one broadcast transaction).
//
// Variants (chosen per call, no tuning knob):
//  1. float4: d % 4 == 0 and every row start 16-byte aligned (src, out incl. col_off, argmax):
//     one 16-byte load per lane per neighbour, so a d = 64 row is one 256-byte coalesced read by
//     16 lanes. The neighbour loop is unrolled by 4 so four independent row loads are in flight.
//  2. scalar: any d and stride, 4-byte loads (d = 1, 31, 100, odd column offsets).
//  Forward and backward (gather over the transposed block) use the same two variants.
//
// Speed bound: memory. The forward reads nnz * d * 4 bytes of randomly placed src rows (plus
// 4 bytes of index per neighbour) and writes n_dst * d * 4; one add per loaded float, so the
// kernel runs at the rate the L2/HBM system can serve 128-256-byte random row segments.
#include <tuple>

#include "kernels/aggregate.h"
#include "kernels/cuda/nn_utils.cuh"

namespace gnnrec {
namespace {

using cuda::Vec;

template <typename V>
struct IntVec;
template <>
struct IntVec<float> {
  using T = int32_t;
};
template <>
struct IntVec<float4> {
  using T = int4;
};

__device__ __forceinline__ void max_step(float& best, int32_t& arg, float v, int32_t id) {
  if (v > best) {  // strict: ties keep the earlier neighbour
    best = v;
    arg = id;
  }
}
__device__ __forceinline__ void max_step(float4& best, int4& arg, float4 v, int32_t id) {
  max_step(best.x, arg.x, v.x, id);
  max_step(best.y, arg.y, v.y, id);
  max_step(best.z, arg.z, v.z, id);
  max_step(best.w, arg.w, v.w, id);
}
__device__ __forceinline__ int32_t splat_int(int32_t v, int32_t*) { return v; }
__device__ __forceinline__ int4 splat_int(int32_t v, int4*) { return make_int4(v, v, v, v); }

__device__ __forceinline__ void add_if(float& acc, float g, int32_t a, int32_t j) {
  if (a == j) acc = __fadd_rn(acc, g);
}
__device__ __forceinline__ void add_if(float4& acc, float4 g, int4 a, int32_t j) {
  add_if(acc.x, g.x, a.x, j);
  add_if(acc.y, g.y, a.y, j);
  add_if(acc.z, g.z, a.z, j);
  add_if(acc.w, g.w, a.w, j);
}

// src, out in units of V; ld_* in V units; argmax is [n_dst, n_vec] in units of IntVec<V>.
template <typename V, AggKind K>
__global__ void aggregate_forward_kernel(int64_t n_dst, int n_vec, int group,
                                         const int32_t* __restrict__ indptr,
                                         const int32_t* __restrict__ indices,
                                         const V* __restrict__ src, int64_t ld_src,
                                         V* __restrict__ out, int64_t ld_out,
                                         typename IntVec<V>::T* __restrict__ argmax) {
  using I = typename IntVec<V>::T;
  const cuda::RowLane rl = cuda::row_lane(group);
  if (rl.row >= n_dst) return;
  const int64_t begin = __ldg(indptr + rl.row), end = __ldg(indptr + rl.row + 1);
  V* o = out + rl.row * ld_out;
  for (int c = rl.lane; c < n_vec; c += group) {
    if constexpr (K == AggKind::kMax) {
      I* a = argmax + rl.row * n_vec + c;
      if (begin == end) {
        o[c] = Vec<V>::zero();
        *a = splat_int(-1, static_cast<I*>(nullptr));
        continue;
      }
      int32_t id = __ldg(indices + begin);
      V best = Vec<V>::load(src + static_cast<int64_t>(id) * ld_src + c);
      I arg = splat_int(id, static_cast<I*>(nullptr));
      for (int64_t j = begin + 1; j < end; ++j) {
        id = __ldg(indices + j);
        max_step(best, arg, Vec<V>::load(src + static_cast<int64_t>(id) * ld_src + c), id);
      }
      o[c] = best;
      *a = arg;
    } else {
      V acc = Vec<V>::zero();
      int64_t j = begin;
      for (; j + 4 <= end; j += 4) {
        const int64_t s0 = __ldg(indices + j), s1 = __ldg(indices + j + 1);
        const int64_t s2 = __ldg(indices + j + 2), s3 = __ldg(indices + j + 3);
        const V v0 = Vec<V>::load(src + s0 * ld_src + c);
        const V v1 = Vec<V>::load(src + s1 * ld_src + c);
        const V v2 = Vec<V>::load(src + s2 * ld_src + c);
        const V v3 = Vec<V>::load(src + s3 * ld_src + c);
        acc = Vec<V>::add(acc, v0);
        acc = Vec<V>::add(acc, v1);
        acc = Vec<V>::add(acc, v2);
        acc = Vec<V>::add(acc, v3);
      }
      for (; j < end; ++j) {
        acc = Vec<V>::add(
            acc, Vec<V>::load(src + static_cast<int64_t>(__ldg(indices + j)) * ld_src + c));
      }
      if (K == AggKind::kMean && end > begin) {
        acc = Vec<V>::mul(acc, __fdiv_rn(1.0f, static_cast<float>(end - begin)));
      }
      o[c] = acc;
    }
  }
}

template <typename V, AggKind K>
__global__ void aggregate_backward_kernel(int64_t n_src, int n_vec, int group,
                                          const int32_t* __restrict__ indptr,
                                          const int32_t* __restrict__ t_indptr,
                                          const int32_t* __restrict__ t_indices,
                                          const V* __restrict__ d_out, int64_t ld_dout,
                                          const typename IntVec<V>::T* __restrict__ argmax,
                                          V* __restrict__ d_src, int64_t ld_dsrc, bool accumulate) {
  const cuda::RowLane rl = cuda::row_lane(group);
  if (rl.row >= n_src) return;
  const int32_t j = static_cast<int32_t>(rl.row);
  const int64_t begin = __ldg(t_indptr + j), end = __ldg(t_indptr + j + 1);
  V* o = d_src + rl.row * ld_dsrc;
  for (int c = rl.lane; c < n_vec; c += group) {
    V acc = Vec<V>::zero();
    for (int64_t p = begin; p < end; ++p) {
      const int64_t r = __ldg(t_indices + p);
      if constexpr (K == AggKind::kMax) {
        if (p > begin && __ldg(t_indices + p - 1) == r) continue;  // duplicate: counted once
        add_if(acc, Vec<V>::load(d_out + r * ld_dout + c), argmax[r * n_vec + c], j);
      } else if constexpr (K == AggKind::kMean) {
        const float inv =
            __fdiv_rn(1.0f, static_cast<float>(__ldg(indptr + r + 1) - __ldg(indptr + r)));
        acc = Vec<V>::add(acc, Vec<V>::mul(Vec<V>::load(d_out + r * ld_dout + c), inv));
      } else {
        acc = Vec<V>::add(acc, Vec<V>::load(d_out + r * ld_dout + c));
      }
    }
    o[c] = accumulate ? Vec<V>::add(o[c], acc) : acc;
  }
}

template <typename V>
__global__ void copy_rows_2d_kernel(int64_t rows, int n_vec, int group, const V* __restrict__ src,
                                    int64_t ld_src, V* __restrict__ dst, int64_t ld_dst,
                                    bool accumulate) {
  const cuda::RowLane rl = cuda::row_lane(group);
  if (rl.row >= rows) return;
  const V* s = src + rl.row * ld_src;
  V* o = dst + rl.row * ld_dst;
  for (int c = rl.lane; c < n_vec; c += group) {
    const V v = Vec<V>::load(s + c);
    o[c] = accumulate ? Vec<V>::add(o[c], v) : v;
  }
}

template <typename V, AggKind K>
void launch_forward(int64_t n_dst, int64_t d, const int32_t* indptr, const int32_t* indices,
                    const float* src, int64_t ld_src, float* out, int64_t ld_out, int32_t* argmax,
                    cudaStream_t st) {
  constexpr int W = Vec<V>::kWidth;
  using I = typename IntVec<V>::T;
  const int n_vec = static_cast<int>(d / W);
  const int group = cuda::group_size_for(n_vec);
  aggregate_forward_kernel<V, K><<<cuda::grid1d(n_dst, group), cuda::kRowBlock, 0, st>>>(
      n_dst, n_vec, group, indptr, indices, reinterpret_cast<const V*>(src), ld_src / W,
      reinterpret_cast<V*>(out), ld_out / W, reinterpret_cast<I*>(argmax));
  GNNREC_CUDA_LAUNCH_CHECK();
}

template <typename V, AggKind K>
void launch_backward(int64_t n_src, int64_t d, const int32_t* indptr, const int32_t* t_indptr,
                     const int32_t* t_indices, const float* d_out, int64_t ld_dout,
                     const int32_t* argmax, float* d_src, int64_t ld_dsrc, bool accumulate,
                     cudaStream_t st) {
  constexpr int W = Vec<V>::kWidth;
  using I = typename IntVec<V>::T;
  const int n_vec = static_cast<int>(d / W);
  const int group = cuda::group_size_for(n_vec);
  aggregate_backward_kernel<V, K><<<cuda::grid1d(n_src, group), cuda::kRowBlock, 0, st>>>(
      n_src, n_vec, group, indptr, t_indptr, t_indices, reinterpret_cast<const V*>(d_out),
      ld_dout / W, reinterpret_cast<const I*>(argmax), reinterpret_cast<V*>(d_src), ld_dsrc / W,
      accumulate);
  GNNREC_CUDA_LAUNCH_CHECK();
}

}  // namespace

void aggregate_forward_cuda(AggKind kind, int64_t n_dst, int64_t d, const int32_t* indptr,
                            const int32_t* indices, const float* src, int64_t ld_src, float* out,
                            int64_t ld_out, int32_t* argmax, Stream stream) {
  if (n_dst == 0 || d == 0) return;
  cudaStream_t st = cuda::as_cuda(stream);
  const bool vec = cuda::rows_vec4(src, d, ld_src) && cuda::rows_vec4(out, d, ld_out) &&
                   (kind != AggKind::kMax || cuda::rows_vec4(argmax, d, d));
  const auto a = std::make_tuple(n_dst, d, indptr, indices, src, ld_src, out, ld_out, argmax, st);
  auto go = [&](auto fn) { std::apply(fn, a); };
  switch (kind) {
    case AggKind::kSum:
      vec ? go(launch_forward<float4, AggKind::kSum>) : go(launch_forward<float, AggKind::kSum>);
      break;
    case AggKind::kMean:
      vec ? go(launch_forward<float4, AggKind::kMean>) : go(launch_forward<float, AggKind::kMean>);
      break;
    case AggKind::kMax:
      vec ? go(launch_forward<float4, AggKind::kMax>) : go(launch_forward<float, AggKind::kMax>);
      break;
  }
}

void aggregate_backward_cuda(AggKind kind, int64_t n_src, int64_t d, const int32_t* indptr,
                             const int32_t* t_indptr, const int32_t* t_indices, const float* d_out,
                             int64_t ld_dout, const int32_t* argmax, float* d_src, int64_t ld_dsrc,
                             bool accumulate, Stream stream) {
  if (n_src == 0 || d == 0) return;
  cudaStream_t st = cuda::as_cuda(stream);
  const bool vec = cuda::rows_vec4(d_out, d, ld_dout) && cuda::rows_vec4(d_src, d, ld_dsrc) &&
                   (kind != AggKind::kMax || cuda::rows_vec4(argmax, d, d));
  const auto a = std::make_tuple(n_src, d, indptr, t_indptr, t_indices, d_out, ld_dout, argmax,
                                 d_src, ld_dsrc, accumulate, st);
  auto go = [&](auto fn) { std::apply(fn, a); };
  switch (kind) {
    case AggKind::kSum:
      vec ? go(launch_backward<float4, AggKind::kSum>) : go(launch_backward<float, AggKind::kSum>);
      break;
    case AggKind::kMean:
      vec ? go(launch_backward<float4, AggKind::kMean>)
          : go(launch_backward<float, AggKind::kMean>);
      break;
    case AggKind::kMax:
      vec ? go(launch_backward<float4, AggKind::kMax>) : go(launch_backward<float, AggKind::kMax>);
      break;
  }
}

void copy_rows_2d_cuda(int64_t rows, int64_t d, const float* src, int64_t ld_src, float* dst,
                       int64_t ld_dst, bool accumulate, Stream stream) {
  if (rows == 0 || d == 0) return;
  cudaStream_t st = cuda::as_cuda(stream);
  if (cuda::rows_vec4(src, d, ld_src) && cuda::rows_vec4(dst, d, ld_dst)) {
    const int n_vec = static_cast<int>(d / 4);
    const int group = cuda::group_size_for(n_vec);
    copy_rows_2d_kernel<float4><<<cuda::grid1d(rows, group), cuda::kRowBlock, 0, st>>>(
        rows, n_vec, group, reinterpret_cast<const float4*>(src), ld_src / 4,
        reinterpret_cast<float4*>(dst), ld_dst / 4, accumulate);
  } else {
    const int group = cuda::group_size_for(d);
    copy_rows_2d_kernel<float><<<cuda::grid1d(rows, group), cuda::kRowBlock, 0, st>>>(
        rows, static_cast<int>(d), group, src, ld_src, dst, ld_dst, accumulate);
  }
  GNNREC_CUDA_LAUNCH_CHECK();
}

}  // namespace gnnrec
