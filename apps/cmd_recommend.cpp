// gnnrec recommend: top-K items per user from exported embeddings, seen items masked.
#include "apps/command.h"
#include "runtime/eval/recommend.h"

namespace gnnrec::app {
namespace {

CommandRegistrar reg(40, [](CLI::App& root) {
  auto* sub = root.add_subcommand(
      "recommend", "Top-K recommendations per user from exported embeddings (seen items masked)");
  auto opt = std::make_shared<RecommendOptions>();
  sub->add_option("--embeddings", opt->embeddings_dir, "Embedding export dir (gnnrec embed)")
      ->required();
  sub->add_option("--dataset", opt->dataset_dir,
                  "Dataset dir (default: the one named in embeddings.json)");
  sub->add_option("--k", opt->k, "Items per user")->capture_default_str();
  sub->add_option("--out", opt->out_dir, "Output dir")->required();
  sub->add_option("--mask", opt->mask,
                  "Items never recommended: what the model was allowed to see (train+val when "
                  "evaluating on test, train when evaluating on val)")
      ->check(CLI::IsMember({"train", "train+val", "none"}))
      ->capture_default_str();
  sub->add_option("--users", opt->users_file, "File of raw user ids, one per line (default: all)");
  sub->add_option("--device", opt->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  sub->add_option("--batch-users", opt->batch_users, "Users per top-K batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->callback([opt] { recommend(*opt); });
});

}  // namespace
}  // namespace gnnrec::app
