// gnnrec eval: ranking metrics of a recommendations dir beside baselines, slices and an HTML
// report.
#include "apps/command.h"
#include "runtime/eval/report.h"

namespace gnnrec::app {
namespace {

CommandRegistrar reg(50, [](CLI::App& root) {
  auto* sub = root.add_subcommand(
      "eval", "Evaluate recommendations: metrics, baselines, slices, report.json + report.html");
  auto opt = std::make_shared<EvalOptions>();
  sub->add_option("--recommendations", opt->recommendations_dir,
                  "Recommendations dir (gnnrec recommend)")
      ->required();
  sub->add_option("--dataset", opt->dataset_dir,
                  "Dataset dir (default: the one named in recommendations.json)");
  sub->add_option("--split", opt->split, "Ground truth split")
      ->check(CLI::IsMember({"test", "val"}))
      ->capture_default_str();
  sub->add_option("--ks", opt->ks, "Cut-offs K, comma separated")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--run", opt->run_dir, "Run dir whose metrics.jsonl is plotted");
  sub->add_option("--out", opt->out_dir, "Output dir for report.json and report.html")->required();
  sub->add_option("--seed", opt->seed, "Seed of the Random baseline")->capture_default_str();
  sub->add_option("--examples", opt->examples, "Example users shown in the report")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->callback([opt] { evaluate_recommendations(*opt); });
});

}  // namespace
}  // namespace gnnrec::app
