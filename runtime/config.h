// Training configuration: every option has a name, a default and a doc line in one table
// (config.cpp), so config.yaml, `--set key=value`, the resolved config written to the run dir
// and docs/config.md can never disagree.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace gnnrec {

struct TrainConfig {
  // data and run
  std::string dataset;             // prepared dataset dir
  std::string run_dir;             // output dir
  std::string device = "auto";     // auto | cpu | cuda | cuda:N
  uint64_t seed = 2026;
  // model
  std::string model = "graphsage";  // graphsage | lightgcn | mf
  int dim = 64;
  int layers = 2;
  std::vector<int> fanouts = {10, 10};
  std::string aggregator = "mean";  // mean | max
  bool use_features = true;
  bool use_id_embedding = true;
  bool residual = true;             // add the input embedding to the last layer's output
  float dropout = 0.0f;             // graphsage: on each layer's input, training only
  std::string activation = "relu";  // graphsage, between layers: relu | none
  std::string weight_init = "glorot";  // graphsage layer weights: glorot | identity
  std::string layer_combination = "last";  // last | mean (of the input and every layer's output)
  bool normalize = true;            // L2-normalise output embeddings
  float temperature = 0.2f;         // score = dot / temperature (with normalize)
  float init_std = 0.1f;
  // loss and sampling
  std::string loss = "bpr";         // bpr | bce
  int negatives = 1;
  float neg_alpha = 0.0f;           // 0 uniform, else popularity^alpha
  std::string edge_sampling = "permutation";  // permutation | user (LightGCN's per-user draws)
  // optimisation
  float lr = 1e-3f;
  std::string lr_schedule = "constant";  // constant | cosine (over `epochs`, down to lr_min)
  float lr_min = 0.0f;
  float weight_decay = 0.0f;        // decoupled, dense parameters
  float emb_l2 = 0.0f;              // LightGCN's decay: + emb_l2 * ||E_batch||^2 / (2B)
  int batch_size = 2048;
  int epochs = 20;
  double max_minutes = 0;           // 0: no time budget
  bool tf32 = false;
  // evaluation, early stopping, checkpoints
  int eval_every = 1;
  std::string metric = "recall@20";
  int patience = 10;
  std::vector<int> ks = {10, 20};
  int eval_batch = 4096;
  int checkpoint_every = 1;
  int log_every = 50;               // progress line every N steps (not a TTY)
};

// Reads a YAML file (keys as in the option table; unknown keys are an error naming them).
void load_config_file(const std::string& path, TrainConfig& cfg);
// Applies one "key=value" override (YAML scalar or [a, b] list syntax for lists).
void apply_override(const std::string& kv, TrainConfig& cfg);
// Validates ranges and combinations; errors name the option.
void validate_config(const TrainConfig& cfg);
// The resolved configuration as YAML (every option, with defaults filled in).
std::string config_to_yaml(const TrainConfig& cfg);
// docs/config.md: a Markdown table of every option, default and meaning.
std::string config_markdown();
// The learning rate of `epoch` (0-based) under the configured schedule.
float learning_rate_at(const TrainConfig& cfg, int64_t epoch);

}  // namespace gnnrec
