// Item and user feature construction (owned by the features helper; this file holds only the
// agreed declarations so `gnnrec prepare` compiles against them until that branch is merged).
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "runtime/data/dataset.h"
#include "runtime/tensor.h"

namespace gnnrec {

struct RawItemMeta {
  bool present = false;
  std::string title;
  std::vector<std::string> categories;
  std::string price_text;
  double price = std::numeric_limits<double>::quiet_NaN();
  std::string brand;
};

struct FeatureOptions {
  int top_categories = 50;
  int title_dims = 64;
  int min_df = 2;
  int max_vocab = 20000;
  int top_brands = 100;
  uint64_t seed = 0;
};

struct FeatureMatrix {
  std::vector<std::string> names;
  Tensor values;  // host f32 [n, F]
};

// Fits statistics (vocabulary, idf, SVD, price z-score, top categories/brands) on items with
// fit_mask[i] != 0 (items with training interactions), transforms all items; saves the fitted
// transform under save_dir (if non-empty).
FeatureMatrix build_item_features(const std::vector<RawItemMeta>& items,
                                  const std::vector<uint8_t>& fit_mask, const FeatureOptions& opt,
                                  const std::string& save_dir);
// log1p(history size) and centred mean rating, from training edges only.
FeatureMatrix build_user_features(int32_t num_users, const EdgeList& train);

}  // namespace gnnrec
