// gnnrec ab-report: click-through per A/B variant from a `gnnrec serve --feedback-log` file,
// with Wilson 95% intervals (runtime/serve/ab.h).
#include <cstdio>

#include "apps/command.h"
#include "runtime/serve/ab.h"

namespace gnnrec::app {
namespace {

CommandRegistrar reg(85, [](CLI::App& root) {
  auto* sub = root.add_subcommand(
      "ab-report", "Clicks / impressions per A/B variant from a feedback log, with 95% intervals");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  sub->add_option("FEEDBACK_LOG", *path, "JSONL written by gnnrec serve --feedback-log")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_flag("--json", *json, "Print as JSON");
  sub->callback([path, json] {
    std::fputs(serve::format_ab_report(serve::ab_report_from_log(*path), *json).c_str(), stdout);
  });
});

}  // namespace
}  // namespace gnnrec::app
