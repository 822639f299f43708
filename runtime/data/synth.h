// Synthetic Amazon Reviews 2023 data (`gnnrec synth`, docs/synth.md).
//
// A seeded generative model with planted structure: K latent taste clusters; every item belongs
// to one cluster, which decides its categories, brand pool, price band and title vocabulary;
// item popularity follows a Zipf law over a random ranking of the catalogue; user activity
// follows a (capped) Pareto law; each user likes one or two clusters and draws items from them
// by popularity, plus a fraction of "noise" items from the whole catalogue; ratings are higher
// for in-taste items; each user's timestamps increase over a window inside 2019-2023.
//
// Every random number is Philox (purpose kSynth) keyed by the seed and the user or item it
// belongs to, so the output is identical for the same seed and configuration whatever the
// thread count. Files are streamed in blocks of users (bounded memory); with gzip each fixed
// block of users is compressed in parallel into its own gzip member (a multi-member gzip file,
// which zlib, gzip and Python read as one stream).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/data/dataset.h"  // EdgeList

namespace gnnrec {

struct SynthConfig {
  std::string preset = "tiny";
  int64_t users = 2000;
  int64_t items = 1000;
  int64_t interactions = 20000;  // target before duplicate (user, item) draws are dropped
  int clusters = 20;
  uint64_t seed = 0;
  std::string category = "Electronics";  // file names and the root of every category path
  bool gzip = false;
  // Model parameters (presets share them; docs/synth.md explains each).
  double popularity_exponent = 1.0;  // Zipf exponent of item popularity over its rank
  double activity_shape = 2.0;       // Pareto shape of user activity (smaller = heavier tail)
  double noise = 0.1;                // fraction of interactions drawn from the whole catalogue
  double two_cluster_users = 0.4;    // fraction of users who like two clusters
  double missing_price = 0.04;       // fraction of items with "price": null
  double missing_store = 0.03;       // fraction of items with "store": null
};

// "tiny" (2k users, 1k items, 20k interactions), "small" (100k, 20k, 1M), "electronics" (1.6M,
// 400k, 15M). Unknown names throw, listing the known ones.
SynthConfig synth_preset(const std::string& name);
std::vector<std::string> synth_preset_names();

// The latent structure and the interactions, in memory (for tests and small presets). The
// interactions are exactly those write_synth() writes: users in id order, each user's in time
// order; item ids are catalogue indices, timestamps in seconds (the files have milliseconds).
struct SynthData {
  std::vector<int32_t> item_cluster;     // [items]
  std::vector<double> item_popularity;   // [items] Zipf weight (unnormalised)
  std::vector<int32_t> user_cluster[2];  // [users] liked clusters; [1] is -1 for one-cluster users
  std::vector<float> user_first_weight;  // [users] probability of drawing from cluster [0]
  EdgeList interactions;
};
SynthData synth_generate(const SynthConfig& cfg);

struct SynthSummary {
  int64_t users = 0, items = 0, interactions = 0, dropped_duplicates = 0;
  std::string reviews_path, meta_path, truth_path;
  double seconds = 0;
};
// Writes <out>/<Category>.jsonl[.gz], <out>/meta_<Category>.jsonl[.gz] and
// <out>/synth_truth.json (config, seed and counts). Each file appears atomically (written to a
// temporary name, then renamed). <Category> is cfg.category with spaces replaced by '_'.
SynthSummary write_synth(const SynthConfig& cfg, const std::string& out_dir);

// The raw ids the files use: "B0" + 8 base-36 characters for items, "A" + 27 base-32 characters
// for users (Amazon's shapes); distinct for distinct indices.
std::string synth_item_id(int64_t item);
std::string synth_user_id(int64_t user);

}  // namespace gnnrec
