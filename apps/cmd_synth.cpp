// gnnrec synth: writes synthetic Amazon Reviews 2023 files (reviews + item metadata) from a
// seeded generative model with planted taste clusters (docs/synth.md).
#include "apps/command.h"
#include "runtime/data/synth.h"
#include "runtime/log.h"

namespace gnnrec::app {
namespace {

struct SynthArgs {
  std::string preset = "tiny", out, category = "Electronics";
  uint64_t seed = 0;
  bool gzip = false;
  int64_t users = 0, items = 0, interactions = 0;
  int clusters = 0;
};

CommandRegistrar reg(5, [](CLI::App& root) {
  auto* sub = root.add_subcommand(
      "synth",
      "Write synthetic Amazon Reviews 2023 files (<Category>.jsonl + meta_<Category>.jsonl)");
  auto a = std::make_shared<SynthArgs>();
  sub->add_option("--preset", a->preset, "tiny (20k interactions), small (1M) or electronics (15M)")
      ->capture_default_str()
      ->check(CLI::IsMember(synth_preset_names()));
  sub->add_option("--out", a->out, "Output folder (created if needed)")->required();
  sub->add_option("--seed", a->seed, "Random seed; same seed and options give identical files")
      ->capture_default_str();
  sub->add_flag("--gzip", a->gzip, "Write .jsonl.gz (multi-member gzip) instead of .jsonl");
  sub->add_option("--users", a->users, "Override the preset's number of users")
      ->check(CLI::PositiveNumber);
  sub->add_option("--items", a->items, "Override the preset's number of items")
      ->check(CLI::PositiveNumber);
  sub->add_option("--interactions", a->interactions, "Override the preset's number of interactions")
      ->check(CLI::PositiveNumber);
  sub->add_option("--clusters", a->clusters, "Override the preset's number of taste clusters")
      ->check(CLI::PositiveNumber);
  sub->add_option("--category", a->category, "Category name: file names and category root")
      ->capture_default_str();
  sub->callback([a] {
    SynthConfig cfg = synth_preset(a->preset);
    cfg.seed = a->seed;
    cfg.gzip = a->gzip;
    cfg.category = a->category;
    if (a->users > 0) cfg.users = a->users;
    if (a->items > 0) cfg.items = a->items;
    if (a->interactions > 0) cfg.interactions = a->interactions;
    if (a->clusters > 0) cfg.clusters = a->clusters;
    const SynthSummary s = write_synth(cfg, a->out);
    log_info(
        "synth: {} users, {} items, {} interactions ({} duplicate draws dropped) in {:.2f}s "
        "({:.2f}M interactions/s)",
        s.users, s.items, s.interactions, s.dropped_duplicates, s.seconds,
        s.interactions / std::max(s.seconds, 1e-9) / 1e6);
    log_info("synth: wrote {}, {}, {}", s.reviews_path, s.meta_path, s.truth_path);
  });
});

}  // namespace
}  // namespace gnnrec::app
