// TEMPORARY stand-in for the features helper's runtime/data/features.cpp so that `gnnrec
// prepare` links on the h/data branch. DELETE when the features branch is merged.
#include <cmath>

#include "runtime/data/features.h"

namespace gnnrec {

FeatureMatrix build_item_features(const std::vector<RawItemMeta>& items,
                                  const std::vector<uint8_t>& fit_mask, const FeatureOptions&,
                                  const std::string&) {
  GNNREC_EXPECTS(fit_mask.size() == items.size(), "fit_mask has {} entries for {} items",
                 fit_mask.size(), items.size());
  FeatureMatrix m;
  m.names = {"stub_has_title", "stub_has_category", "stub_has_brand"};
  const int64_t n = static_cast<int64_t>(items.size());
  m.values = Tensor::zeros({n, 3}, DType::kF32);
  float* v = m.values.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    v[3 * i] = items[i].title.empty() ? 0.0f : 1.0f;
    v[3 * i + 1] = items[i].categories.empty() ? 0.0f : 1.0f;
    v[3 * i + 2] = items[i].brand.empty() ? 0.0f : 1.0f;
  }
  return m;
}

FeatureMatrix build_user_features(int32_t num_users, const EdgeList& train) {
  std::vector<double> count(num_users, 0), sum(num_users, 0);
  double total = 0;
  for (size_t k = 0; k < train.size(); ++k) {
    count[train.user[k]] += 1;
    sum[train.user[k]] += train.rating[k];
    total += train.rating[k];
  }
  const double global = train.size() ? total / train.size() : 0;
  FeatureMatrix m;
  m.names = {"stub_log1p_history", "stub_mean_rating_centred"};
  m.values = Tensor::zeros({num_users, 2}, DType::kF32);
  float* v = m.values.data<float>();
  for (int32_t u = 0; u < num_users; ++u) {
    v[2 * u] = static_cast<float>(std::log1p(count[u]));
    v[2 * u + 1] = count[u] > 0 ? static_cast<float>(sum[u] / count[u] - global) : 0.0f;
  }
  return m;
}

}  // namespace gnnrec
