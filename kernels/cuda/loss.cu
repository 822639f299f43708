// CUDA link losses and pair scores, contract in kernels/loss.h.
//
// Kernels, in the order link_loss runs them:
//  1. pair_dot_kernel: a row group of G lanes (G = pow2 of the float4/float column count, <= a
//     warp) per scored pair; lanes multiply their columns, a shuffle tree sums them. Memory bound:
//     two random d-float rows per pair.
//  2. loss_rows_kernel: one thread per user row: link_loss_row (the CPU's exact function) gives
//     the row loss and the 1+k score gradients, and the thread writes the two gradient slots of
//     each of its pairs. Tiny next to (1) and (4).
//  3. loss_reduce_kernel: ONE block sums the row losses in double in a fixed order (strided
//     per-thread sums, then a shared-memory tree), and adds the scaled total to loss_accum:
//     deterministic, no atomics.
//  4. group_by_row + csr_gather_rows (kernels/embedding.h): slots sorted by row, each dZ row
//     summed in slot order.
#include "kernels/cuda/nn_utils.cuh"
#include "kernels/embedding.h"
#include "kernels/loss.h"

namespace gnnrec {
namespace {

using cuda::Vec;

constexpr int kReduceBlock = 256;

// Row pairs of a link batch (layout of kernels/loss.h) or of two explicit index lists.
struct LinkPairs {
  const int32_t *u, *pos, *neg;
  int64_t k;
  __device__ __forceinline__ int64_t a(int64_t p) const { return __ldg(u + p / (1 + k)); }
  __device__ __forceinline__ int64_t b(int64_t p) const {
    const int64_t row = p / (1 + k), j = p % (1 + k);
    return j == 0 ? __ldg(pos + row) : __ldg(neg + row * k + j - 1);
  }
};
struct IndexPairs {
  const int32_t *a_idx, *b_idx;
  __device__ __forceinline__ int64_t a(int64_t p) const { return __ldg(a_idx + p); }
  __device__ __forceinline__ int64_t b(int64_t p) const { return __ldg(b_idx + p); }
};

__device__ __forceinline__ float vdot(float x, float y) { return x * y; }
__device__ __forceinline__ float vdot(float4 x, float4 y) {
  return x.x * y.x + x.y * y.y + x.z * y.z + x.w * y.w;
}

// No early return: every lane of the warp takes part in the shuffles.
template <typename V, typename Pairs>
__global__ void pair_dot_kernel(int64_t P, int n_vec, int group, Pairs pairs,
                                const V* __restrict__ Za, const V* __restrict__ Zb, float inv_temp,
                                float* __restrict__ out) {
  const cuda::RowLane rl = cuda::row_lane(group);
  const bool valid = rl.row < P;
  float acc = 0.0f;
  if (valid) {
    const V* x = Za + pairs.a(rl.row) * n_vec;
    const V* y = Zb + pairs.b(rl.row) * n_vec;
    for (int c = rl.lane; c < n_vec; c += group)
      acc += vdot(Vec<V>::load(x + c), Vec<V>::load(y + c));
  }
  acc = cuda::group_sum(acc, group);
  if (valid && rl.lane == 0) out[rl.row] = inv_temp * acc;
}

// keys/cols/w may be null (score_loss: no slots).
__global__ void loss_rows_kernel(LossKind kind, int64_t B, int64_t k, const float* __restrict__ s,
                                 float* __restrict__ g, float scale, float* __restrict__ row_loss,
                                 LinkPairs pairs, float inv_temp, int32_t* __restrict__ keys,
                                 int32_t* __restrict__ cols, float* __restrict__ w) {
  for (int64_t b = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; b < B;
       b += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    row_loss[b] = link_loss_row(kind, k, s + b * (1 + k), g + b * (1 + k), scale);
    if (keys == nullptr) continue;
    for (int64_t j = 0; j <= k; ++j) {
      const int64_t p = b * (1 + k) + j;
      const int32_t a = static_cast<int32_t>(pairs.a(p)), o = static_cast<int32_t>(pairs.b(p));
      const float wp = __fmul_rn(g[p], inv_temp);
      keys[2 * p] = a;
      cols[2 * p] = o;
      w[2 * p] = wp;
      keys[2 * p + 1] = o;
      cols[2 * p + 1] = a;
      w[2 * p + 1] = wp;
    }
  }
}

__global__ void loss_reduce_kernel(int64_t B, const float* __restrict__ row_loss, double scale,
                                   float* __restrict__ loss_accum) {
  __shared__ double part[kReduceBlock];
  double acc = 0.0;
  for (int64_t b = threadIdx.x; b < B; b += kReduceBlock) acc += row_loss[b];
  part[threadIdx.x] = acc;
  __syncthreads();
  for (int h = kReduceBlock / 2; h > 0; h >>= 1) {
    if (threadIdx.x < h) part[threadIdx.x] += part[threadIdx.x + h];
    __syncthreads();
  }
  if (threadIdx.x == 0) loss_accum[0] += static_cast<float>(part[0] * scale);
}

__global__ void expand_pairs_kernel(int64_t P, LinkPairs pairs, int32_t* a_idx, int32_t* b_idx) {
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < P;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    a_idx[p] = static_cast<int32_t>(pairs.a(p));
    b_idx[p] = static_cast<int32_t>(pairs.b(p));
  }
}

template <typename Pairs>
void launch_pair_dot(int64_t P, int64_t d, Pairs pairs, const float* Za, const float* Zb,
                     float inv_temp, float* out, cudaStream_t st) {
  if (cuda::rows_vec4(Za, d, d) && cuda::rows_vec4(Zb, d, d)) {
    const int n_vec = static_cast<int>(d / 4), group = cuda::group_size_for(n_vec);
    pair_dot_kernel<float4, Pairs><<<cuda::grid1d(P, group), cuda::kRowBlock, 0, st>>>(
        P, n_vec, group, pairs, reinterpret_cast<const float4*>(Za),
        reinterpret_cast<const float4*>(Zb), inv_temp, out);
  } else {
    const int group = cuda::group_size_for(d);
    pair_dot_kernel<float, Pairs><<<cuda::grid1d(P, group), cuda::kRowBlock, 0, st>>>(
        P, static_cast<int>(d), group, pairs, Za, Zb, inv_temp, out);
  }
  GNNREC_CUDA_LAUNCH_CHECK();
}

struct LinkLossScratch {
  float* scores;
  float* g;
  float* row_loss;
  int32_t* keys;
  int32_t* cols;
  float* w;
  int32_t* row_ptr;
  int32_t* order;
  void* group_ws;
  size_t group_ws_bytes;
};

LinkLossScratch carve(void* base, int64_t n, int64_t B, int64_t k, size_t* used) {
  WorkspaceCarve c(base);
  const int64_t P = B * (1 + k), S = 2 * P;
  LinkLossScratch s;
  s.scores = c.take<float>(P);
  s.g = c.take<float>(P);
  s.row_loss = c.take<float>(B);
  s.keys = c.take<int32_t>(S);
  s.cols = c.take<int32_t>(S);
  s.w = c.take<float>(S);
  s.row_ptr = c.take<int32_t>(n + 1);
  s.order = c.take<int32_t>(S);
  s.group_ws_bytes = group_by_row_workspace_bytes_cuda(S, n);
  s.group_ws = c.take_bytes(s.group_ws_bytes);
  *used = c.used();
  return s;
}

}  // namespace

size_t link_loss_workspace_bytes_cuda(int64_t n, int64_t B, int64_t k) {
  size_t used = 0;
  carve(nullptr, n, B, k, &used);
  return used;
}

void link_loss_cuda(LossKind kind, int64_t n, int64_t d, const float* Z, int64_t B, int64_t k,
                    const int32_t* u, const int32_t* pos, const int32_t* neg, float inv_temp,
                    float* dZ, float* loss_accum, void* workspace, size_t workspace_bytes,
                    Stream stream) {
  cudaStream_t st = cuda::as_cuda(stream);
  size_t used = 0;
  const LinkLossScratch s = carve(workspace, n, B, k, &used);
  GNNREC_EXPECTS(workspace_bytes >= used, "link_loss_cuda: workspace of {} bytes, need {}",
                 workspace_bytes, used);
  const int64_t P = B * (1 + k);
  const LinkPairs pairs{u, pos, neg, k};
  if (P > 0) {
    launch_pair_dot(P, d, pairs, Z, Z, inv_temp, s.scores, st);
    const double scale = link_loss_scale(kind, B, k);
    loss_rows_kernel<<<cuda::grid_for(B, 128), 128, 0, st>>>(kind, B, k, s.scores, s.g,
                                                             static_cast<float>(scale), s.row_loss,
                                                             pairs, inv_temp, s.keys, s.cols, s.w);
    GNNREC_CUDA_LAUNCH_CHECK();
    loss_reduce_kernel<<<1, kReduceBlock, 0, st>>>(B, s.row_loss, scale, loss_accum);
    GNNREC_CUDA_LAUNCH_CHECK();
  }
  group_by_row_cuda(s.keys, 2 * P, n, s.row_ptr, s.order, s.group_ws, s.group_ws_bytes, stream);
  csr_gather_rows_cuda(n, d, s.row_ptr, s.order, s.cols, s.w, Z, d, dZ, d, false, stream);
}

size_t score_loss_workspace_bytes_cuda(int64_t B) {
  WorkspaceCarve c(nullptr);
  c.take<float>(B);
  return c.used();
}

void score_loss_cuda(LossKind kind, int64_t B, int64_t k, const float* scores, float* d_scores,
                     float* loss_accum, void* workspace, size_t workspace_bytes, Stream stream) {
  if (B == 0) return;
  GNNREC_EXPECTS(workspace_bytes >= score_loss_workspace_bytes_cuda(B),
                 "score_loss_cuda: workspace of {} bytes, need {}", workspace_bytes,
                 score_loss_workspace_bytes_cuda(B));
  cudaStream_t st = cuda::as_cuda(stream);
  auto* row_loss = static_cast<float*>(workspace);
  const double scale = link_loss_scale(kind, B, k);
  loss_rows_kernel<<<cuda::grid_for(B, 128), 128, 0, st>>>(
      kind, B, k, scores, d_scores, static_cast<float>(scale), row_loss, LinkPairs{}, 1.0f, nullptr,
      nullptr, nullptr);
  GNNREC_CUDA_LAUNCH_CHECK();
  loss_reduce_kernel<<<1, kReduceBlock, 0, st>>>(B, row_loss, scale, loss_accum);
  GNNREC_CUDA_LAUNCH_CHECK();
}

void pair_scores_cuda(int64_t P, int64_t d, const float* Za, const int32_t* a_idx, const float* Zb,
                      const int32_t* b_idx, float inv_temp, float* out, Stream stream) {
  if (P == 0) return;
  if (d == 0) {
    GNNREC_CUDA_CHECK(cudaMemsetAsync(out, 0, P * sizeof(float), cuda::as_cuda(stream)));
    return;
  }
  launch_pair_dot(P, d, IndexPairs{a_idx, b_idx}, Za, Zb, inv_temp, out, cuda::as_cuda(stream));
}

void expand_link_pairs_cuda(int64_t B, int64_t k, const int32_t* u, const int32_t* pos,
                            const int32_t* neg, int32_t* a_idx, int32_t* b_idx, Stream stream) {
  const int64_t P = B * (1 + k);
  if (P == 0) return;
  expand_pairs_kernel<<<cuda::grid_for(P, 256), 256, 0, cuda::as_cuda(stream)>>>(
      P, LinkPairs{u, pos, neg, k}, a_idx, b_idx);
  GNNREC_CUDA_LAUNCH_CHECK();
}

}  // namespace gnnrec
