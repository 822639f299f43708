// TEMPORARY STUB (branch h/serve): a naive CPU topk_masked so `gnnrec serve` builds and its tests
// run before branch h/topk is merged. The lead deletes this file when merging h/topk, whose
// runtime/ops_topk.cpp is the real implementation. Not tuned, CPU only, ignores `variant`.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "runtime/ops_topk.h"

namespace gnnrec {

void topk_masked(const Tensor& Q, const Tensor& V, const Tensor& excl_indptr,
                 const Tensor& excl_indices, int K, Tensor& out_ids, Tensor& out_scores,
                 TopKVariant /*variant*/) {
  GNNREC_EXPECTS(Q.device().is_cpu() && V.device().is_cpu(), "topk_masked stub: CPU only");
  GNNREC_EXPECTS(Q.ndim() == 2 && V.ndim() == 2 && Q.dim(1) == V.dim(1),
                 "topk_masked: Q {} and V {} must be [B, d] and [N, d]", shape_str(Q.shape()),
                 shape_str(V.shape()));
  const int64_t B = Q.dim(0), N = V.dim(0), d = Q.dim(1);
  GNNREC_EXPECTS(K > 0, "topk_masked: K must be positive, got {}", K);
  GNNREC_EXPECTS(excl_indptr.numel() == B + 1, "topk_masked: excl_indptr must have B+1 entries");
  GNNREC_EXPECTS(out_ids.numel() == B * K && out_scores.numel() == B * K,
                 "topk_masked: outputs must be [B, K]");
  const float* q = Q.data<float>();
  const float* v = V.data<float>();
  const int64_t* ip = excl_indptr.data<int64_t>();
  const int32_t* ex = excl_indices.numel() ? excl_indices.data<int32_t>() : nullptr;
  int32_t* oid = out_ids.data<int32_t>();
  float* osc = out_scores.data<float>();
  std::vector<std::pair<float, int32_t>> cand;
  for (int64_t b = 0; b < B; ++b) {
    cand.clear();
    int64_t e = ip[b];
    for (int64_t n = 0; n < N; ++n) {
      while (e < ip[b + 1] && ex[e] < n) ++e;
      if (e < ip[b + 1] && ex[e] == n) continue;
      double s = 0;
      for (int64_t j = 0; j < d; ++j) s += double(q[b * d + j]) * v[n * d + j];
      cand.emplace_back(static_cast<float>(s), static_cast<int32_t>(n));
    }
    const size_t k = std::min<size_t>(K, cand.size());
    auto better = [](const auto& x, const auto& y) {
      return x.first > y.first || (x.first == y.first && x.second < y.second);
    };
    std::partial_sort(cand.begin(), cand.begin() + k, cand.end(), better);
    for (int i = 0; i < K; ++i) {
      const bool ok = static_cast<size_t>(i) < k;
      oid[b * K + i] = ok ? cand[i].second : -1;
      osc[b * K + i] = ok ? cand[i].first : -std::numeric_limits<float>::infinity();
    }
  }
}

}  // namespace gnnrec
