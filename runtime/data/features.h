// Node features for users and items (docs/features.md lists every column).
//
// Items: category multi-hot, title TF-IDF reduced by a randomised truncated SVD, log-price
// z-score, brand/store one-hot, each with "other"/"missing" columns. Every statistic (top-K
// lists, vocabulary, idf, SVD, price mean/std) is fitted on the items with fit_mask[i] != 0 only
// (the items with training interactions), so nothing leaks from validation or test edges; the
// fitted transform is then applied to every item. The transform is saved to a folder and
// transform_item_features() reproduces the fit-time values bit for bit, so cold-start items
// added later are featurised exactly like the original catalogue.
//
// Users: log1p of the training history length and the centred mean training rating.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/data/dataset.h"  // EdgeList, Tensor
#include "runtime/data/svd.h"

namespace gnnrec {

struct RawItemMeta {
  bool present = false;  // false: no metadata row for this item (every "missing" flag is set)
  std::string title;
  std::vector<std::string> categories;  // path, root first (e.g. Amazon's "categories" list)
  std::string price_text;               // used when `price` is NaN: "$12.99", "$5 - $9", ""...
  double price = std::numeric_limits<double>::quiet_NaN();
  std::string brand;  // brand or store
};

struct FeatureOptions {
  int top_categories = 50;  // C: category names with their own column
  int title_dims = 64;      // D: SVD dimensions of the title TF-IDF
  int min_df = 2;           // a title term must occur in >= min_df fit items
  int max_vocab = 20000;    // keep the max_vocab terms of highest document frequency
  int top_brands = 100;     // B: brands with their own column
  uint64_t seed = 0;        // Philox seed of the randomised SVD
};

struct FeatureMatrix {
  std::vector<std::string> names;
  Tensor values;  // host float32 [n, names.size()]
};

// Fits the item transform on the fit items and applies it to all items. When save_dir is not
// empty the transform is written there (created if needed): features.json (every column, the
// options and fitted statistics), title_vocab.txt, title_idf.npy (f32 [V]) and
// title_projection.npy (f32 [V, k]). fit_mask has one entry per item.
FeatureMatrix build_item_features(const std::vector<RawItemMeta>& items,
                                  const std::vector<uint8_t>& fit_mask, const FeatureOptions& opt,
                                  const std::string& save_dir);

// "log1p_history", "mean_rating_centred" from the training edges only (NaN ratings ignored;
// users without training edges or without ratings get 0 for the rating column).
FeatureMatrix build_user_features(int32_t num_users, const EdgeList& train);

// Applies a transform saved by build_item_features (save_dir) to new items (cold-start items
// added later): same columns, same values as at fit time for the same input.
FeatureMatrix transform_item_features(const std::vector<RawItemMeta>& items,
                                      const std::string& save_dir);

// ---- Building blocks, public for tests and for other featurisers ----

// Title tokens: maximal runs of ASCII letters/digits and non-ASCII bytes (so UTF-8 words stay
// whole), ASCII lowercased, runs shorter than 2 bytes dropped.
std::vector<std::string> tokenize_title(std::string_view text);

struct TfidfVocabulary {
  std::vector<std::string> terms;  // column order: document frequency descending, then term
  std::vector<float> idf;          // smooth idf: ln((1 + n) / (1 + df)) + 1, n = fitted docs
  std::unordered_map<std::string, int32_t> index;
  int64_t num_docs = 0;
};

// Vocabulary and idf from docs[i] with mask[i] != 0: terms with df >= min_df, the max_vocab of
// highest df kept (ties by term).
TfidfVocabulary fit_tfidf(const std::vector<std::string>& docs, const std::vector<uint8_t>& mask,
                          int min_df, int max_vocab);
// One L2-normalised row per doc: weight (1 + ln tf) * idf over in-vocabulary terms; docs with
// none have an empty row. Values are computed in double and rounded to float once.
SparseMatrix tfidf_transform(const TfidfVocabulary& vocab, const std::vector<std::string>& docs);

enum class PriceParse { kOk, kMissing, kUnparseable };
// "$12.99", "12.99", "$1,299.00", "$5.99 - $9.99" (midpoint), "US$ 3", "USD 3" -> kOk;
// "", "null", "none", "nan", "n/a", "-" -> kMissing; anything else (text, negative) ->
// kUnparseable. *value is set only for kOk.
PriceParse parse_price(std::string_view text, double* value);

}  // namespace gnnrec
