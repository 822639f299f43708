#include "runtime/ops_topk.h"

#include <map>
#include <memory>
#include <mutex>

#include "runtime/context.h"
#include "runtime/dispatch.h"

namespace gnnrec {

using detail::expect_device;
using detail::expect_dtype;
using detail::expect_shape;

namespace {

// Per host thread and device, so concurrent callers (the server's handler threads) never share
// scratch. Grows to the largest request and stays.
Workspace& thread_workspace(Device dev) {
  thread_local std::map<int, std::unique_ptr<Workspace>> arenas;
  const int key = dev.is_cpu() ? -1 : dev.index;
  auto& slot = arenas[key];
  if (!slot) slot = std::make_unique<Workspace>(dev, detail::stream_of(dev));
  return *slot;
}

[[maybe_unused]] int sm_count(Device dev) {
  static std::mutex mu;
  static std::map<int, int> counts;
  std::lock_guard<std::mutex> lock(mu);
  auto it = counts.find(dev.index);
  if (it != counts.end()) return it->second;
  int n = 1;
  for (const DeviceInfo& info : list_devices()) {
    if (info.index == dev.index) n = info.sm_count;
  }
  counts[dev.index] = n;
  return n;
}

void check_exclusions_host(const int64_t* indptr, const int32_t* indices, int64_t B, int64_t nnz,
                           int64_t N) {
  for (int64_t b = 0; b < B; ++b) {
    GNNREC_EXPECTS(indptr[b] <= indptr[b + 1],
                   "topk_masked: excl_indptr decreases at row {} ({} > {})", b, indptr[b],
                   indptr[b + 1]);
    for (int64_t p = indptr[b]; p < indptr[b + 1]; ++p) {
      GNNREC_EXPECTS(indices[p] >= 0 && indices[p] < N,
                     "topk_masked: excl_indices[{}] = {} is not an item id in [0, {}) (row {})", p,
                     indices[p], N, b);
      GNNREC_EXPECTS(p == indptr[b] || indices[p - 1] <= indices[p],
                     "topk_masked: excl_indices of row {} are not sorted ascending (position {})",
                     b, p);
    }
  }
  (void)nnz;
}

}  // namespace

TopKVariant topk_masked_variant(Device device, int64_t B, int64_t N, int K, TopKVariant requested) {
  if (requested != TopKVariant::kAuto) return requested;
  return topk_resolve_variant(device.is_cuda(), B, N, K);
}

void topk_masked(const Tensor& Q, const Tensor& V, const Tensor& excl_indptr,
                 const Tensor& excl_indices, int K, Tensor& out_ids, Tensor& out_scores,
                 TopKVariant variant) {
  expect_dtype(Q, DType::kF32, "topk_masked", "Q");
  expect_dtype(V, DType::kF32, "topk_masked", "V");
  expect_dtype(excl_indptr, DType::kI64, "topk_masked", "excl_indptr");
  expect_dtype(excl_indices, DType::kI32, "topk_masked", "excl_indices");
  expect_dtype(out_ids, DType::kI32, "topk_masked", "out_ids");
  expect_dtype(out_scores, DType::kF32, "topk_masked", "out_scores");
  GNNREC_EXPECTS(Q.ndim() == 2 && V.ndim() == 2, "topk_masked: Q {} and V {} must be 2-D",
                 shape_str(Q.shape()), shape_str(V.shape()));
  GNNREC_EXPECTS(Q.dim(1) == V.dim(1), "topk_masked: Q has d = {}, V has d = {}", Q.dim(1),
                 V.dim(1));
  GNNREC_EXPECTS(K >= 1, "topk_masked: K must be >= 1, got {}", K);
  const Device dev = Q.device();
  expect_device(V, dev, "topk_masked", "V");
  expect_device(excl_indptr, dev, "topk_masked", "excl_indptr");
  expect_device(excl_indices, dev, "topk_masked", "excl_indices");
  expect_device(out_ids, dev, "topk_masked", "out_ids");
  expect_device(out_scores, dev, "topk_masked", "out_scores");
  const int64_t B = Q.dim(0), N = V.dim(0), d = Q.dim(1);
  GNNREC_EXPECTS(N <= INT32_MAX, "topk_masked: {} items do not fit int32 ids", N);
  expect_shape(excl_indptr, {B + 1}, "topk_masked", "excl_indptr");
  GNNREC_EXPECTS(excl_indices.ndim() == 1, "topk_masked: excl_indices must be 1-D, got {}",
                 shape_str(excl_indices.shape()));
  expect_shape(out_ids, {B, K}, "topk_masked", "out_ids");
  expect_shape(out_scores, {B, K}, "topk_masked", "out_scores");
  const TopKVariant v = topk_masked_variant(dev, B, N, K, variant);
  const bool cpu_variant = v == TopKVariant::kCpuBlocked || v == TopKVariant::kCpuNaive;
  GNNREC_EXPECTS(cpu_variant == dev.is_cpu(), "topk_masked: variant {} cannot run on {}",
                 topk_variant_name(v), dev.str());
  if (v == TopKVariant::kCudaFused) {
    GNNREC_EXPECTS(K <= kTopKFusedMaxK, "topk_masked: variant {} takes K <= {}, got {}",
                   topk_variant_name(v), kTopKFusedMaxK, K);
  }
  if (B == 0) return;

  TopKProblem p;
  p.B = B;
  p.N = N;
  p.d = d;
  p.K = K;
  p.Q = Q.data<float>();
  p.V = V.data<float>();
  p.excl_indptr = excl_indptr.data<int64_t>();
  p.excl_indices = excl_indices.data<int32_t>();
  p.out_ids = out_ids.data<int32_t>();
  p.out_scores = out_scores.data<float>();

  if (dev.is_cpu()) {
    const int64_t nnz = excl_indices.numel();
    GNNREC_EXPECTS(p.excl_indptr[0] >= 0 && p.excl_indptr[B] <= nnz,
                   "topk_masked: excl_indptr spans [{}, {}) but excl_indices has {} entries",
                   p.excl_indptr[0], p.excl_indptr[B], nnz);
    check_exclusions_host(p.excl_indptr, p.excl_indices, B, nnz, N);
  }
  GNNREC_DISPATCH(
      dev,
      {
        if (v == TopKVariant::kCpuNaive) {
          topk_masked_naive_cpu(p);
        } else {
          const size_t bytes = topk_masked_cpu_workspace_bytes(B, N, d, K);
          void* ws = thread_workspace(dev).get(bytes);
          topk_masked_cpu(p, ws, bytes);
        }
      },
      {
        DeviceContext& ctx = context_for(dev);
        const int sms = sm_count(dev);
        const size_t bytes = topk_masked_cuda_workspace_bytes(B, N, d, K, v, sms);
        void* ws = bytes > 0 ? thread_workspace(dev).get(bytes) : nullptr;
        topk_masked_cuda(p, v, sms, ws, bytes, ctx.cublaslt, ctx.gemm_workspace,
                         ctx.gemm_workspace_bytes, ctx.stream);
      });
}

}  // namespace gnnrec
