// The training loop: per-epoch shuffled edge batches, validation with full ranking, early
// stopping, best-model selection, resumable checkpoints, metrics.jsonl and a progress line.
//
// Run directory:
//   config.yaml        the resolved configuration
//   metrics.jsonl      one JSON object per epoch
//   checkpoint/        params + Adam moments (*.npy) and state.json; --resume continues from it
//                      bit for bit (all randomness is keyed by (seed, epoch, step))
//   best/              params of the best validation epoch (*.npy) and best.json
//   results.json       final validation and test metrics of the best model
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/config.h"
#include "runtime/model.h"

namespace gnnrec {

struct TrainOptions {
  bool resume = false;   // continue from RUN_DIR/checkpoint
  bool force = false;    // start over in an existing RUN_DIR
  bool progress = true;  // progress line on stderr
};

// Trains and returns results.json's content.
nlohmann::json train(const TrainConfig& cfg, const TrainOptions& opts = {});

// Writes every parameter (and with `moments` Adam's m and v) as <name>.npy into dir.
void save_params(const std::string& dir, const std::vector<Param>& params, bool moments);
// Loads them back, checking shapes; errors name the file.
void load_params(const std::string& dir, std::vector<Param>& params, bool moments);

// Reads RUN_DIR/config.yaml.
TrainConfig load_run_config(const std::string& run_dir);

}  // namespace gnnrec
