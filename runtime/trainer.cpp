#include "runtime/trainer.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "kernels/philox.h"
#include "runtime/comm.h"
#include "runtime/context.h"
#include "runtime/eval/metrics.h"
#include "runtime/fsutil.h"
#include "runtime/graph.h"
#include "runtime/info.h"
#include "runtime/log.h"
#include "runtime/npy.h"
#include "runtime/nvtx.h"

namespace gnnrec {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void save_params(const std::string& dir, const std::vector<Param>& params, bool moments) {
  ensure_dir(dir);
  for (const Param& p : params) {
    save_npy(dir + "/" + p.name + ".npy", p.value);
    if (moments) {
      save_npy(dir + "/" + p.name + ".adam_m.npy", p.m);
      save_npy(dir + "/" + p.name + ".adam_v.npy", p.v);
    }
  }
}

namespace {
void load_into(const std::string& path, Tensor& dst) {
  Tensor t = load_npy(path);
  GNNREC_EXPECTS(t.dtype() == DType::kF32 && t.shape() == dst.shape(),
                 "{}: holds {} {}, the model expects f32 {} (was it trained with another "
                 "config or dataset?)",
                 path, dtype_name(t.dtype()), shape_str(t.shape()), shape_str(dst.shape()));
  dst.copy_from(t, dst.device().is_cuda() ? context_for(dst.device()).stream : nullptr);
}
}  // namespace

void load_params(const std::string& dir, std::vector<Param>& params, bool moments) {
  for (Param& p : params) {
    load_into(dir + "/" + p.name + ".npy", p.value);
    if (moments) {
      load_into(dir + "/" + p.name + ".adam_m.npy", p.m);
      load_into(dir + "/" + p.name + ".adam_v.npy", p.v);
    }
  }
}

TrainConfig load_run_config(const std::string& run_dir) {
  TrainConfig cfg;
  const std::string path = run_dir + "/config.yaml";
  GNNREC_EXPECTS(path_exists(path), "{}: not a run directory (no config.yaml)", run_dir);
  load_config_file(path, cfg);
  return cfg;
}

namespace {

struct EvalSets {
  Csr exclude_val, truth_val, exclude_test, truth_test;
  bool has_val = false;
};

Csr merge_edges_csr(int32_t num_users, std::initializer_list<const EdgeList*> lists) {
  std::vector<int32_t> u, i;
  for (const EdgeList* l : lists) {
    u.insert(u.end(), l->user.begin(), l->user.end());
    i.insert(i.end(), l->item.begin(), l->item.end());
  }
  return build_csr(num_users, u, i);
}

EvalSets make_eval_sets(const Dataset& ds) {
  EvalSets s;
  s.has_val = ds.val.size() > 0;
  s.exclude_val = ds.user_items;
  s.truth_val = merge_edges_csr(ds.num_users, {s.has_val ? &ds.val : &ds.test});
  s.exclude_test = merge_edges_csr(ds.num_users, {&ds.train, &ds.val});
  s.truth_test = merge_edges_csr(ds.num_users, {&ds.test});
  return s;
}

nlohmann::json metrics_json(const RankingMetrics& m, const std::string& prefix) {
  nlohmann::json j;
  for (const auto& [k, v] : m.values) j[prefix + k] = v;
  j[prefix + "users"] = m.users;
  return j;
}

std::string fmt_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const int t = static_cast<int>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02d}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

float read_scalar(const Tensor& t) { return t.to_vector<float>()[0]; }

// Keeps the first `epochs` lines of metrics.jsonl (lines past a checkpoint are redone on resume).
void truncate_metrics(const std::string& path, int64_t epochs) {
  if (!path_exists(path)) return;
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.contains("epoch") && j["epoch"].get<int64_t>() <= epochs)
      kept += line + "\n";
  }
  write_file_atomic(path, kept);
}

}  // namespace

nlohmann::json train(const TrainConfig& cfg_in, const TrainOptions& opts) {
  TrainConfig cfg = cfg_in;
  validate_config(cfg);
  GNNREC_EXPECTS(!cfg.dataset.empty(), "no dataset given (config option 'dataset' or --dataset)");
  GNNREC_EXPECTS(!cfg.run_dir.empty(), "no run directory given (config option 'run_dir' or --out)");
  const std::string run = cfg.run_dir;
  const std::string ckpt_dir = run + "/checkpoint";
  if (opts.resume) {
    GNNREC_EXPECTS(path_exists(ckpt_dir + "/state.json"),
                   "--resume: {} has no checkpoint/state.json", run);
  } else if (path_exists(run) && !fs::is_empty(run)) {
    GNNREC_EXPECTS(opts.force, "run directory {} exists and is not empty (use --resume to "
                   "continue it or --force to start over)", run);
    fs::remove_all(run);
  }
  ensure_dir(run);
  write_file_atomic(run + "/config.yaml", config_to_yaml(cfg));

  const Device dev = resolve_device(cfg.device);
  if (dev.is_cuda()) context_for(dev).allow_tf32 = cfg.tf32;
  log_info("loading dataset {}", cfg.dataset);
  const Dataset ds = load_dataset(cfg.dataset);
  GNNREC_EXPECTS(ds.train.size() > 0, "{}: no training edges", cfg.dataset);
  const DeviceGraph graph = make_device_graph(ds, dev);
  std::unique_ptr<Model> model = make_model(cfg, ds, graph, dev);
  const bool per_user = cfg.edge_sampling == "user";
  const UserEdgeSampler user_edges = per_user ? make_user_edge_sampler(graph) : UserEdgeSampler{};
  LocalCommunicator comm;
  model->set_communicator(&comm);
  const EvalSets es = make_eval_sets(ds);
  if (!es.has_val) {
    log_warn("dataset has no validation split: model selection uses the test split (as the "
             "LightGCN protocol does); results.json says so");
  }
  log_info("model {} on {}: {} users, {} items, {} training edges", cfg.model, dev.str(),
           ds.num_users, ds.num_items, ds.train.size());

  // State that a checkpoint carries.
  int64_t start_epoch = 0, global_step = 0, bad_evals = 0, best_epoch = -1;
  double best_value = -1;
  if (opts.resume) {
    const auto st = nlohmann::json::parse(read_file(ckpt_dir + "/state.json"));
    load_params(ckpt_dir, model->params(), true);
    start_epoch = st.at("epoch").get<int64_t>();
    global_step = st.at("global_step").get<int64_t>();
    bad_evals = st.at("bad_evals").get<int64_t>();
    best_epoch = st.at("best_epoch").get<int64_t>();
    best_value = st.at("best_value").get<double>();
    truncate_metrics(run + "/metrics.jsonl", start_epoch);
    log_info("resumed from epoch {} (step {})", start_epoch, global_step);
  }

  const int64_t num_edges = static_cast<int64_t>(ds.train.size());
  const auto [shard_begin, shard_end] = shard_range(num_edges, comm.rank(), comm.world_size());
  const int64_t shard = shard_end - shard_begin;
  const int64_t steps = (shard + cfg.batch_size - 1) / cfg.batch_size;
  const bool tty = ::isatty(STDERR_FILENO);
  const auto t_start = Clock::now();
  bool stop = false;

  auto evaluate = [&](bool test) {
    GNNREC_NVTX_RANGE("evaluate");
    Tensor ue, ie;
    model->infer(ue, ie);
    return evaluate_ranking(ue, ie, test ? es.exclude_test : es.exclude_val,
                            test ? es.truth_test : es.truth_val, cfg.ks, cfg.eval_batch);
  };

  for (int64_t epoch = start_epoch; epoch < cfg.epochs && !stop; ++epoch) {
    GNNREC_NVTX_RANGE("epoch");
    const auto t0 = Clock::now();
    const TransferCounters tc0 = transfer_counters();
    // The epoch's positive edges: a permutation of the training edges, or per-user draws.
    const RngKey shuffle_key{cfg.seed, static_cast<uint32_t>(RngPurpose::kShuffle),
                             static_cast<uint32_t>(epoch), 0};
    const Tensor perm = per_user ? sample_user_uniform_edges(user_edges, graph, num_edges, shuffle_key)
                                 : random_permutation(num_edges, shuffle_key, dev);
    model->loss_accum().fill_zero(dev.is_cuda() ? context_for(dev).stream : nullptr);
    const float lr = learning_rate_at(cfg, epoch);
    model->set_learning_rate(lr);
    for (int64_t s = 0; s < steps; ++s) {
      const int64_t b0 = shard_begin + s * cfg.batch_size;
      const int64_t b1 = std::min(shard_end, b0 + cfg.batch_size);
      model->train_step(perm.rows(b0, b1), static_cast<uint32_t>(epoch), static_cast<uint32_t>(s),
                        ++global_step);
      const bool show = opts.progress && (tty ? (s % 10 == 9 || s + 1 == steps)
                                              : (cfg.log_every > 0 && (s + 1) % cfg.log_every == 0));
      if (show) {
        // One 4-byte read per progress line, not per step.
        const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        const double loss = read_scalar(model->loss_accum()) / static_cast<double>(s + 1);
        const double eps = static_cast<double>(b1 - shard_begin) / std::max(secs, 1e-9);
        const double eta = secs / static_cast<double>(s + 1) * static_cast<double>(steps - s - 1);
        const std::string line =
            fmt::format("epoch {}/{} step {}/{} loss {:.4f} {:.0f} edges/s ETA {}", epoch + 1,
                        cfg.epochs, s + 1, steps, loss, eps, fmt_duration(eta));
        if (tty) {
          std::fprintf(stderr, "\r%s\033[K", line.c_str());
        } else {
          log_info("{}", line);
        }
      }
      if (cfg.max_minutes > 0 &&
          std::chrono::duration<double>(Clock::now() - t_start).count() > cfg.max_minutes * 60) {
        stop = true;
      }
    }
    if (tty && opts.progress) std::fprintf(stderr, "\n");
    stream_synchronize(dev.is_cuda() ? context_for(dev).stream : nullptr);
    const double train_secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const TransferCounters tc1 = transfer_counters();
    const double loss = read_scalar(model->loss_accum()) / static_cast<double>(steps);
    nlohmann::json line = {{"epoch", epoch + 1},
                           {"loss", loss},
                           {"lr", lr},
                           {"train_seconds", train_secs},
                           {"edges_per_second", static_cast<double>(shard) / train_secs},
                           {"steps", steps},
                           {"h2d_bytes", tc1.h2d_bytes - tc0.h2d_bytes},
                           {"d2h_bytes", tc1.d2h_bytes - tc0.d2h_bytes},
                           {"d2h_copies", tc1.d2h_copies - tc0.d2h_copies}};
    const bool last = epoch + 1 == cfg.epochs || stop;
    if (cfg.eval_every > 0 && ((epoch + 1) % cfg.eval_every == 0 || last)) {
      const auto te = Clock::now();
      const RankingMetrics m = evaluate(false);
      line.update(metrics_json(m, es.has_val ? "val/" : "test/"));
      line["eval_seconds"] = std::chrono::duration<double>(Clock::now() - te).count();
      const auto it = m.values.find(cfg.metric);
      GNNREC_EXPECTS(it != m.values.end(), "metric '{}' was not computed (ks = {})", cfg.metric,
                     fmt::join(cfg.ks, ","));
      if (it->second > best_value) {
        best_value = it->second;
        best_epoch = epoch + 1;
        bad_evals = 0;
        const std::string tmp = make_temp_dir_for(run + "/best");
        save_params(tmp, model->params(), false);
        write_file_atomic(tmp + "/best.json",
                          nlohmann::json{{"epoch", best_epoch}, {cfg.metric, best_value}}.dump(2));
        commit_dir(tmp, run + "/best");
      } else if (cfg.patience > 0 && ++bad_evals >= cfg.patience) {
        log_info("early stop: {} evaluations without improving {}", bad_evals, cfg.metric);
        stop = true;
      }
      log_info("epoch {}: loss {:.4f}, {} {:.4f} (best {:.4f} at epoch {}), {:.1f}s", epoch + 1,
               loss, cfg.metric, it->second, best_value, best_epoch, train_secs);
    } else {
      log_info("epoch {}: loss {:.4f}, {:.1f}s", epoch + 1, loss, train_secs);
    }
    line["best_epoch"] = best_epoch;
    line["peak_rss_mib"] = peak_rss_mib();
    line["elapsed_seconds"] = std::chrono::duration<double>(Clock::now() - t_start).count();
    append_line(run + "/metrics.jsonl", line.dump());
    if ((cfg.checkpoint_every > 0 && (epoch + 1) % cfg.checkpoint_every == 0) || stop ||
        epoch + 1 == cfg.epochs) {
      const std::string tmp = make_temp_dir_for(ckpt_dir);
      save_params(tmp, model->params(), true);
      write_file_atomic(tmp + "/state.json",
                        nlohmann::json{{"epoch", epoch + 1},
                                       {"global_step", global_step},
                                       {"bad_evals", bad_evals},
                                       {"best_epoch", best_epoch},
                                       {"best_value", best_value},
                                       {"stopped", stop}}
                            .dump(2));
      commit_dir(tmp, ckpt_dir);
    }
  }

  // Final numbers come from the best model (the last one when nothing was evaluated).
  if (best_epoch > 0) load_params(run + "/best", model->params(), false);
  nlohmann::json results = {{"model", cfg.model},
                            {"dataset", cfg.dataset},
                            {"device", dev.str()},
                            {"best_epoch", best_epoch},
                            {"selection_split", es.has_val ? "val" : "test"},
                            {"selection_metric", cfg.metric},
                            {"train_minutes",
                             std::chrono::duration<double>(Clock::now() - t_start).count() / 60},
                            {"build", build_info_json()}};
  if (es.has_val) results["val"] = metrics_json(evaluate(false), "");
  results["test"] = metrics_json(evaluate(true), "");
  write_file_atomic(run + "/results.json", results.dump(2));
  if (best_epoch <= 0) {
    const std::string tmp = make_temp_dir_for(run + "/best");
    save_params(tmp, model->params(), false);
    commit_dir(tmp, run + "/best");
  }
  log_info("test: {}", results["test"].dump());
  return results;
}

}  // namespace gnnrec
