// Batched top-K recommendation from exported embeddings, and the files it reads and writes
// (formats in docs/formats-export.md).
//
// Embedding export dir (written by `gnnrec embed`): embeddings.json {schema_version 1, kind
// "gnnrec-embeddings", model, run_dir, dataset_dir (absolute), dim, num_users, num_items,
// score "dot", inv_temp, normalized}, user_emb.npy f32 [U, d], item_emb.npy f32 [I, d].
//
// Recommendations dir (written by `gnnrec recommend`):
//   recommendations.npy         int32 [R, K] item ids (item-local, 0..I-1), -1 padding
//   recommendation_scores.npy   f32 [R, K] model scores (inv_temp * dot), -inf padding
//   recommendation_users.npy    int32 [R] internal user id of each row
//   recommendations.jsonl       one line per row: {"user": raw id, "items": [raw ids],
//                               "scores": [...]} (padding left out)
//   recommendations.json        manifest {schema_version 1, kind "gnnrec-recommendations", k,
//                               mask, num_users (= R), num_items, embeddings_dir, dataset_dir,
//                               ...}, written last: a directory with a manifest is complete.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/data/dataset.h"
#include "runtime/tensor.h"

namespace gnnrec {

constexpr int kEmbeddingsSchemaVersion = 1;
constexpr int kRecommendationsSchemaVersion = 1;

struct EmbeddingExport {
  std::string dir;
  nlohmann::json manifest;
  Tensor user_emb, item_emb;  // host f32 [U, d], [I, d]
  float inv_temp = 1.0f;      // scores reported as inv_temp * dot (ranking unchanged)
};

// Reads and validates an export directory (errors name the file and field).
EmbeddingExport load_embedding_export(const std::string& dir);

// The exclusion mask named on the command line: "train", "train+val" or "none" (each row
// sorted and de-duplicated).
Csr build_mask(const Dataset& ds, const std::string& mask);

struct RecommendOptions {
  std::string embeddings_dir;
  std::string dataset_dir;  // empty: the export's dataset_dir
  std::string out_dir;
  int k = 20;
  std::string mask = "train+val";
  std::string users_file;  // empty: every user; else raw user ids, one per line
  std::string device = "auto";
  int64_t batch_users = 4096;
};

// Runs the whole stage and writes the recommendations dir; returns its manifest.
nlohmann::json recommend(const RecommendOptions& opt);

struct Recommendations {
  std::string dir;
  nlohmann::json manifest;
  std::vector<int32_t> users;  // [R]
  std::vector<int32_t> ids;    // [R * K]
  std::vector<float> scores;   // [R * K]
  int k = 0;
  int64_t rows() const { return static_cast<int64_t>(users.size()); }
};

// Reads and validates a recommendations dir.
Recommendations load_recommendations(const std::string& dir);

// Absolute, normalised form of a path (for manifests).
std::string absolute_path(const std::string& p);

}  // namespace gnnrec
