// What `gnnrec serve` holds in memory: the catalog (from the dataset directory) and one or two
// embedding models (from `gnnrec embed` export dirs), each optionally with precomputed top-K
// lists (from `gnnrec recommend`). A ServingState is immutable once built; hot reload builds a
// new one and swaps a shared_ptr, so requests in flight finish on the state they started with.
//
// Export dir:      embeddings.json {schema_version 1, kind "gnnrec-embeddings", model, run_dir,
//                  dataset_dir, dim, num_users, num_items, score "dot", inv_temp, normalized},
//                  user_emb.npy f32 [U, d], item_emb.npy f32 [I, d].
//                  Scores are inv_temp * <user_emb, item_emb> (inv_temp defaults to 1).
// Recommendations: recommendations.json {schema_version 1, kind "gnnrec-recommendations", k,
//                  mask "train"|"train+val"|"none", num_users R, embeddings_dir, dataset_dir},
//                  recommendations.npy i32 [R, K] (item ids, -1 padding),
//                  recommendation_scores.npy f32 [R, K], and, when only some users were ranked,
//                  recommendation_users.npy i32 [R] (the user of each row; else row = user).
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/data/dataset.h"
#include "runtime/tensor.h"

namespace gnnrec::serve {

constexpr int kEmbeddingsSchemaVersion = 1;
constexpr int kRecommendationsSchemaVersion = 1;

// Where the state comes from; re-read on every reload.
struct ModelSources {
  std::string export_dir;           // model A (required)
  std::string recommendations_dir;  // model A's precomputed lists (optional)
  std::string export_b_dir;         // model B (optional)
  std::string recommendations_b_dir;
  std::string dataset_dir;  // optional: defaults to model A's embeddings.json dataset_dir
};

// The part of the dataset the server needs: id maps, display metadata, the training graph (to
// mask what a user already has and to show their history) and item popularity.
struct Catalog {
  std::string dir;
  int32_t num_users = 0, num_items = 0;
  std::vector<std::string> user_ids, item_ids;
  std::unordered_map<std::string, int32_t> user_index, item_index;
  std::vector<ItemInfo> items;
  Csr user_items;                   // training items per user, sorted by item id
  Csr val_user_items;               // validation items per user (for the "train+val" mask)
  std::vector<int64_t> timestamps;  // per training edge (user_items.edge_ids index this)
  std::vector<float> ratings;       // per training edge
  std::vector<int32_t> popular;     // item ids by training degree desc, ties by smaller id
  std::vector<int64_t> item_degree;

  std::optional<int32_t> find_user(const std::string& raw) const;
  std::optional<int32_t> find_item(const std::string& raw) const;
};

// Builds the catalog from a loaded dataset (moves the vectors it keeps out of `d`).
std::shared_ptr<const Catalog> make_catalog(Dataset&& d);

struct EmbeddingModel {
  std::string name;  // embeddings.json "model" (or the directory name)
  std::string export_dir;
  nlohmann::json manifest;
  int64_t dim = 0;
  float inv_temp = 1.0f;      // reported score = inv_temp * dot (as gnnrec recommend writes)
  Tensor user_emb, item_emb;  // host f32 [U, d], [I, d]
  // What live answers never return: the precomputed lists' mask when there are lists (so both
  // sources agree), else "train".
  std::string mask = "train";
  // Precomputed lists, when a recommendations dir was given.
  std::string recommendations_dir;
  int rec_k = 0;
  Tensor rec_ids, rec_scores;    // i32 [R, K], f32 [R, K]
  std::vector<int32_t> rec_row;  // user -> row of the lists, -1 when the user has none
  bool has_precomputed() const { return rec_k > 0; }
};

// Reads and validates an export dir (and optionally a recommendations dir) against the catalog's
// counts. Errors name the file and the field.
EmbeddingModel load_embedding_model(const std::string& export_dir,
                                    const std::string& recommendations_dir, const Catalog& cat);

struct ServingState {
  std::shared_ptr<const Catalog> catalog;
  EmbeddingModel a;
  std::optional<EmbeddingModel> b;
  uint64_t generation = 0;  // 1 for the first load, +1 per successful reload
  double loaded_unix = 0;   // wall clock when the load finished
  double load_seconds = 0;
  const EmbeddingModel& model(const std::string& variant) const {
    return variant == "B" && b ? *b : a;
  }
};

// Loads the dataset and every model of `src`. Throws gnnrec::Error on any problem.
std::shared_ptr<const ServingState> load_serving_state(const ModelSources& src,
                                                       uint64_t generation);

enum class Source { kPrecomputed, kLive, kColdStart };
const char* source_name(Source s);

struct Recommendation {
  Source source = Source::kLive;
  std::vector<int32_t> items;
  std::vector<float> scores;
  std::string detail;  // e.g. "popular" or "history" for cold start
};

// Top-k for a known user (`user` set) or a cold-start visitor (`user` empty; `history` holds
// item ids they interacted with, maybe empty). `force_live` skips the precomputed lists.
//  known user:   precomputed when the model has a list for the user and k <= its K, else live:
//                dot products with every item through topk_masked on the CPU, the user's items
//                under the model's mask (training, or training + validation) excluded;
//  cold start:   history non-empty -> mean of the history items' embeddings as the query,
//                history masked; empty -> most popular by training degree (score = degree).
// Fewer than k items come back when fewer are eligible.
Recommendation recommend(const Catalog& cat, const EmbeddingModel& m, std::optional<int32_t> user,
                         const std::vector<int32_t>& history, int k, bool force_live = false);

// A user's training interactions, most recent first (ties: later edge first).
struct HistoryEntry {
  int32_t item = 0;
  int64_t timestamp = 0;
  float rating = 0;
};
std::vector<HistoryEntry> user_history(const Catalog& cat, int32_t user, int n);

}  // namespace gnnrec::serve
