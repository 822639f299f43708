// gnnrec prepare: raw interaction logs -> a dataset directory (runtime/data/prepare.h).
// gnnrec describe DIR (or prepare --describe DIR): print a dataset's summary.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "apps/command.h"
#include "runtime/data/prepare.h"

namespace gnnrec::app {
namespace {

// The command line as typed, for the manifest (Linux: /proc/self/cmdline).
std::string own_command_line() {
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::string out;
  for (char c : raw) out.push_back(c == '\0' ? ' ' : c);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

void describe(const std::string& dir) {
  std::fputs(describe_dataset(load_dataset(dir)).c_str(), stdout);
}

CommandRegistrar reg(10, [](CLI::App& root) {
  auto* sub = root.add_subcommand(
      "prepare",
      "Parse raw interactions (+ item metadata) into a dataset directory: dedupe, "
      "filter, id maps, split, training graph, features");
  auto o = std::make_shared<PrepareOptions>();
  auto format = std::make_shared<std::string>("auto");
  auto describe_dir = std::make_shared<std::string>();
  auto min_rating = std::make_shared<double>(std::numeric_limits<double>::quiet_NaN());
  auto& r = o->read;
  sub->add_option("--input,-i", r.inputs, "Interaction file or folder (repeatable); plain or gzip");
  sub->add_option("--meta", r.meta, "Item metadata file (Amazon meta_*.jsonl/.json; repeatable)");
  sub->add_option("--out,-o", o->out, "Dataset directory to create");
  sub->add_option("--format", *format,
                  "auto, amazon2023, amazon2018, amazon2023-csv, lightgcn, movielens or csv")
      ->capture_default_str();
  sub->add_flag("--force", o->force, "Replace an existing --out directory");
  sub->add_option("--split", o->split.rule,
                  "auto, user-temporal, global-temporal, leave-last-out, random or predefined "
                  "(auto: predefined when the inputs define a split, else user-temporal)")
      ->capture_default_str();
  sub->add_option("--val-frac", o->split.val_frac, "Validation fraction (user-temporal, random)")
      ->capture_default_str();
  sub->add_option("--test-frac", o->split.test_frac, "Test fraction (user-temporal, random)")
      ->capture_default_str();
  sub->add_option("--val-from", o->split.val_from,
                  "global-temporal: first validation timestamp (s; values > 1e11 read as ms)")
      ->capture_default_str();
  sub->add_option("--test-from", o->split.test_from,
                  "global-temporal: first test timestamp (s; values > 1e11 read as ms)")
      ->capture_default_str();
  sub->add_option("--seed", o->split.seed, "Seed of the random split")->capture_default_str();
  sub->add_option("--min-rating", *min_rating, "Keep only interactions rated at least this");
  sub->add_option("--kcore", o->kcore, "Iterative k-core filter (0: off)")->capture_default_str();
  sub->add_option("--ml-fold", r.ml_fold, "MovieLens: use u{N}.base/u{N}.test as the split");
  sub->add_option("--user-col", r.user_col, "csv: user column name");
  sub->add_option("--item-col", r.item_col, "csv: item column name");
  sub->add_option("--rating-col", r.rating_col, "csv: rating column name");
  sub->add_option("--time-col", r.time_col, "csv: timestamp column name");
  sub->add_option("--time-unit", r.time_unit, "csv: timestamp unit, s or ms")
      ->capture_default_str();
  sub->add_flag("--skip-bad-lines", r.bad_lines.skip,
                "Count and skip malformed lines instead of stopping at the first");
  sub->add_option("--max-bad-lines", r.bad_lines.max,
                  "With --skip-bad-lines: more bad lines than this is an error")
      ->capture_default_str();
  auto& f = o->features;
  sub->add_option("--top-categories", f.top_categories, "Item features: category one-hots")
      ->capture_default_str();
  sub->add_option("--title-dims", f.title_dims, "Item features: title projection size")
      ->capture_default_str();
  sub->add_option("--min-df", f.min_df, "Item features: minimum title-token document count")
      ->capture_default_str();
  sub->add_option("--max-vocab", f.max_vocab, "Item features: title vocabulary cap")
      ->capture_default_str();
  sub->add_option("--top-brands", f.top_brands, "Item features: brand one-hots")
      ->capture_default_str();
  sub->add_option("--feature-seed", f.seed, "Item features: seed of the title projection")
      ->capture_default_str();
  sub->add_option("--describe", *describe_dir, "Print the summary of an existing dataset DIR");
  sub->callback([o, format, describe_dir, min_rating] {
    if (!describe_dir->empty()) {
      describe(*describe_dir);
      return;
    }
    if (o->read.inputs.empty()) throw CLI::RequiredError("--input");
    if (o->out.empty()) throw CLI::RequiredError("--out");
    o->read.format = parse_input_format(*format);
    o->min_rating = *min_rating;
    o->command_line = own_command_line();
    prepare_dataset(*o);
    describe(o->out);
  });

  auto* desc = root.add_subcommand("describe", "Print the summary of a prepared dataset");
  auto dir = std::make_shared<std::string>();
  desc->add_option("dir", *dir, "Dataset directory")->required();
  desc->callback([dir] { describe(*dir); });
});

}  // namespace
}  // namespace gnnrec::app
