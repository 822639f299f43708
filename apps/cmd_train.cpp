// gnnrec train: config.yaml + --set overrides -> a run directory (see runtime/trainer.h).
#include <cstdio>

#include "apps/command.h"
#include "runtime/config.h"
#include "runtime/trainer.h"

namespace gnnrec::app {
namespace {

struct TrainArgs {
  std::string config, dataset, out, device;
  std::vector<std::string> sets;
  bool resume = false, force = false, quiet = false, print_docs = false, print_config = false;
};

CommandRegistrar reg(20, [](CLI::App& root) {
  auto a = std::make_shared<TrainArgs>();
  auto* sub = root.add_subcommand("train", "Train a model on a prepared dataset");
  sub->add_option("--config", a->config, "config.yaml (options: docs/config.md)");
  sub->add_option("--dataset", a->dataset, "Prepared dataset directory (overrides the config)");
  sub->add_option("--out", a->out, "Run directory (overrides run_dir)");
  sub->add_option("--device", a->device, "auto, cpu, cuda or cuda:N (overrides device)");
  sub->add_option("--set", a->sets, "Override an option: key=value (repeatable)");
  sub->add_flag("--resume", a->resume, "Continue the run from RUN_DIR/checkpoint");
  sub->add_flag("--force", a->force, "Start over in an existing run directory");
  sub->add_flag("--quiet", a->quiet, "No progress line");
  sub->add_flag("--print-config", a->print_config, "Print the resolved config and exit");
  sub->add_flag("--print-config-docs", a->print_docs, "Print docs/config.md and exit");
  sub->callback([a] {
    if (a->print_docs) {
      std::fputs(config_markdown().c_str(), stdout);
      return;
    }
    TrainConfig cfg;
    if (a->resume && a->config.empty() && !a->out.empty()) {
      cfg = load_run_config(a->out);
    } else if (!a->config.empty()) {
      load_config_file(a->config, cfg);
    }
    if (!a->dataset.empty()) cfg.dataset = a->dataset;
    if (!a->out.empty()) cfg.run_dir = a->out;
    if (!a->device.empty()) cfg.device = a->device;
    for (const auto& s : a->sets) apply_override(s, cfg);
    if (a->print_config) {
      std::fputs(config_to_yaml(cfg).c_str(), stdout);
      return;
    }
    TrainOptions opts;
    opts.resume = a->resume;
    opts.force = a->force;
    opts.progress = !a->quiet;
    train(cfg, opts);
  });
});

}  // namespace
}  // namespace gnnrec::app
