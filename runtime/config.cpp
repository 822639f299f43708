#include "runtime/config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <functional>
#include <sstream>

#include "runtime/error.h"

namespace gnnrec {
namespace {

struct Option {
  const char* name;
  const char* doc;
  std::function<void(TrainConfig&, const YAML::Node&)> set;
  std::function<YAML::Node(const TrainConfig&)> get;
};

template <typename T>
Option opt(const char* name, T TrainConfig::*field, const char* doc) {
  return Option{name, doc,
                [name, field](TrainConfig& c, const YAML::Node& n) {
                  try {
                    c.*field = n.as<T>();
                  } catch (const YAML::Exception&) {
                    GNNREC_FAIL("config option '{}': cannot read '{}' as the expected type", name,
                                YAML::Dump(n));
                  }
                },
                [field](const TrainConfig& c) { return YAML::Node(c.*field); }};
}

const std::vector<Option>& options() {
  static const std::vector<Option> o = {
      opt("dataset", &TrainConfig::dataset, "Prepared dataset directory (gnnrec prepare)."),
      opt("run_dir", &TrainConfig::run_dir, "Output directory of the run."),
      opt("device", &TrainConfig::device, "auto, cpu, cuda or cuda:N (auto: GPU when visible)."),
      opt("seed", &TrainConfig::seed, "Seed of every random stream (Philox)."),
      opt("model", &TrainConfig::model, "graphsage, lightgcn or mf."),
      opt("dim", &TrainConfig::dim, "Embedding and hidden size."),
      opt("layers", &TrainConfig::layers, "Message-passing layers (graphsage, lightgcn)."),
      opt("fanouts", &TrainConfig::fanouts,
          "Neighbours sampled per layer, from the seeds outward; <= 0 means all."),
      opt("aggregator", &TrainConfig::aggregator, "GraphSAGE neighbour aggregation: mean or max."),
      opt("use_features", &TrainConfig::use_features,
          "Add a learned projection of the node features to the input embedding."),
      opt("use_id_embedding", &TrainConfig::use_id_embedding,
          "Learn a per-node id embedding (off: features only, fully inductive)."),
      opt("residual", &TrainConfig::residual,
          "GraphSAGE: add the input embedding to the last layer's output."),
      opt("dropout", &TrainConfig::dropout,
          "graphsage: dropout probability on each layer's input (inverted dropout, training "
          "only; the mask is a Philox function of the step, so CPU and GPU drop the same "
          "entries)."),
      opt("activation", &TrainConfig::activation,
          "graphsage: the non-linearity between layers, relu or none (the last layer has "
          "none)."),
      opt("weight_init", &TrainConfig::weight_init,
          "graphsage layer weights: glorot (uniform), or identity: W_self = W_neigh = I/2, so "
          "each layer starts as the average of a node and the mean of its neighbours."),
      opt("layer_combination", &TrainConfig::layer_combination,
          "graphsage output: last (the last layer's output, plus the input with residual) or "
          "mean (of the input embedding and every layer's output, as LightGCN combines its "
          "layers; residual is then implied)."),
      opt("normalize", &TrainConfig::normalize, "L2-normalise output embeddings."),
      opt("temperature", &TrainConfig::temperature,
          "Scores are dot / temperature when normalize is on."),
      opt("init_std", &TrainConfig::init_std, "Std. dev. of the id-embedding initialisation."),
      opt("loss", &TrainConfig::loss, "bpr or bce."),
      opt("negatives", &TrainConfig::negatives, "Sampled negative items per positive edge."),
      opt("neg_alpha", &TrainConfig::neg_alpha,
          "Negative sampling: 0 uniform, else item popularity^alpha."),
      opt("edge_sampling", &TrainConfig::edge_sampling,
          "Positive edges of an epoch: permutation (every training edge once, shuffled) or user "
          "(as LightGCN's code: E draws of a uniform user, then one of its edges; every user "
          "weighs the same)."),
      opt("lr", &TrainConfig::lr, "Adam learning rate."),
      opt("lr_schedule", &TrainConfig::lr_schedule,
          "constant, or cosine: from lr down to lr_min over `epochs` (per epoch)."),
      opt("lr_min", &TrainConfig::lr_min, "Final learning rate of the cosine schedule."),
      opt("weight_decay", &TrainConfig::weight_decay, "Decoupled weight decay of dense weights."),
      opt("emb_l2", &TrainConfig::emb_l2,
          "LightGCN's decay: adds emb_l2 * ||E_batch||^2 / (2 * batch) for the embedding rows "
          "a batch touches."),
      opt("batch_size", &TrainConfig::batch_size, "Training edges per step."),
      opt("epochs", &TrainConfig::epochs, "Maximum epochs."),
      opt("max_minutes", &TrainConfig::max_minutes,
          "Stop after this many minutes of training (0: no limit)."),
      opt("tf32", &TrainConfig::tf32, "Use TF32 tensor cores for GEMMs on the GPU."),
      opt("eval_every", &TrainConfig::eval_every, "Validate every N epochs (0: never)."),
      opt("metric", &TrainConfig::metric, "Early-stopping metric, e.g. recall@20 or ndcg@20."),
      opt("patience", &TrainConfig::patience,
          "Stop after this many evaluations without improvement (0: never)."),
      opt("ks", &TrainConfig::ks, "Cut-offs K of the ranking metrics."),
      opt("eval_batch", &TrainConfig::eval_batch, "Users per evaluation batch."),
      opt("checkpoint_every", &TrainConfig::checkpoint_every,
          "Write a resumable checkpoint every N epochs (0: only at the end)."),
      opt("log_every", &TrainConfig::log_every,
          "Steps between progress lines when stderr is not a terminal."),
  };
  return o;
}

const Option& find_option(const std::string& key) {
  for (const Option& o : options())
    if (key == o.name) return o;
  std::string names;
  for (const Option& o : options()) names += std::string(names.empty() ? "" : ", ") + o.name;
  GNNREC_FAIL("unknown config option '{}' (known: {})", key, names);
}

}  // namespace

void load_config_file(const std::string& path, TrainConfig& cfg) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    GNNREC_FAIL("{}: cannot read config: {}", path, e.what());
  }
  if (root.IsNull()) return;
  GNNREC_EXPECTS(root.IsMap(), "{}: the config must be a mapping of option: value", path);
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    try {
      find_option(key).set(cfg, kv.second);
    } catch (const Error& e) {
      GNNREC_FAIL("{} (line {}): {}", path, kv.first.Mark().line + 1, e.what());
    }
  }
}

void apply_override(const std::string& kv, TrainConfig& cfg) {
  const size_t eq = kv.find('=');
  GNNREC_EXPECTS(eq != std::string::npos && eq > 0, "--set '{}': expected key=value", kv);
  const std::string key = kv.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(kv.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    GNNREC_FAIL("--set '{}': bad value: {}", kv, e.what());
  }
  find_option(key).set(cfg, value);
}

void validate_config(const TrainConfig& c) {
  auto in = [](const std::string& v, std::initializer_list<const char*> allowed) {
    for (const char* a : allowed)
      if (v == a) return true;
    return false;
  };
  GNNREC_EXPECTS(in(c.model, {"graphsage", "lightgcn", "mf"}),
                 "config option 'model' = '{}': expected graphsage, lightgcn or mf", c.model);
  GNNREC_EXPECTS(in(c.aggregator, {"mean", "max"}),
                 "config option 'aggregator' = '{}': expected mean or max", c.aggregator);
  GNNREC_EXPECTS(in(c.loss, {"bpr", "bce"}), "config option 'loss' = '{}': expected bpr or bce",
                 c.loss);
  GNNREC_EXPECTS(c.dim > 0 && c.dim <= 4096, "config option 'dim' = {}: expected 1..4096", c.dim);
  GNNREC_EXPECTS(c.layers >= 0 && c.layers <= 8, "config option 'layers' = {}: expected 0..8",
                 c.layers);
  GNNREC_EXPECTS(c.model != "graphsage" || static_cast<int>(c.fanouts.size()) >= c.layers,
                 "config option 'fanouts' has {} entries but layers = {}", c.fanouts.size(),
                 c.layers);
  GNNREC_EXPECTS(c.negatives >= 1 && c.negatives <= 1000,
                 "config option 'negatives' = {}: expected 1..1000", c.negatives);
  GNNREC_EXPECTS(c.dropout >= 0.0f && c.dropout < 1.0f,
                 "config option 'dropout' = {}: expected 0 <= dropout < 1", c.dropout);
  GNNREC_EXPECTS(in(c.activation, {"relu", "none"}),
                 "config option 'activation' = '{}': expected relu or none", c.activation);
  GNNREC_EXPECTS(in(c.weight_init, {"glorot", "identity"}),
                 "config option 'weight_init' = '{}': expected glorot or identity", c.weight_init);
  GNNREC_EXPECTS(in(c.layer_combination, {"last", "mean"}),
                 "config option 'layer_combination' = '{}': expected last or mean",
                 c.layer_combination);
  GNNREC_EXPECTS(in(c.edge_sampling, {"permutation", "user"}),
                 "config option 'edge_sampling' = '{}': expected permutation or user",
                 c.edge_sampling);
  GNNREC_EXPECTS(c.batch_size >= 1, "config option 'batch_size' must be >= 1");
  GNNREC_EXPECTS(c.epochs >= 0, "config option 'epochs' must be >= 0");
  GNNREC_EXPECTS(c.lr > 0, "config option 'lr' must be > 0");
  GNNREC_EXPECTS(in(c.lr_schedule, {"constant", "cosine"}),
                 "config option 'lr_schedule' = '{}': expected constant or cosine", c.lr_schedule);
  GNNREC_EXPECTS(c.lr_min >= 0 && c.lr_min <= c.lr,
                 "config option 'lr_min' = {} must be in [0, lr]", c.lr_min);
  GNNREC_EXPECTS(c.temperature > 0, "config option 'temperature' must be > 0");
  GNNREC_EXPECTS(!c.ks.empty(), "config option 'ks' must list at least one K");
  for (int k : c.ks) GNNREC_EXPECTS(k >= 1 && k <= 1000, "config option 'ks': K = {} out of 1..1000", k);
  const size_t at = c.metric.find('@');
  GNNREC_EXPECTS(at != std::string::npos,
                 "config option 'metric' = '{}': expected name@K such as recall@20", c.metric);
  GNNREC_EXPECTS(c.eval_batch >= 1, "config option 'eval_batch' must be >= 1");
}

float learning_rate_at(const TrainConfig& cfg, int64_t epoch) {
  if (cfg.lr_schedule != "cosine" || cfg.epochs <= 1) return cfg.lr;
  const double t = static_cast<double>(epoch) / static_cast<double>(cfg.epochs - 1);
  return static_cast<float>(cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1.0 + std::cos(M_PI * t)));
}

std::string config_to_yaml(const TrainConfig& cfg) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  for (const Option& o : options()) {
    out << YAML::Key << o.name;
    YAML::Node v = o.get(cfg);
    if (v.IsSequence()) out << YAML::Flow;
    out << YAML::Value << v;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string config_markdown() {
  TrainConfig defaults;
  std::ostringstream s;
  s << "# Training configuration\n\n"
    << "Generated from runtime/config.cpp (`gnnrec train --print-config-docs`); a test keeps it "
       "in sync.\nGive options in `config.yaml` (`gnnrec train --config FILE`) or as "
       "`--set key=value`; the resolved configuration is written to `RUN_DIR/config.yaml`.\n\n"
    << "| option | default | meaning |\n|---|---|---|\n";
  for (const Option& o : options()) {
    YAML::Emitter e;
    YAML::Node v = o.get(defaults);
    if (v.IsSequence()) e << YAML::Flow;
    e << v;
    std::string dv = e.c_str();
    if (dv.empty() || dv == "\"\"") dv = "(none)";
    s << "| `" << o.name << "` | `" << dv << "` | " << o.doc << " |\n";
  }
  return s.str();
}

}  // namespace gnnrec
