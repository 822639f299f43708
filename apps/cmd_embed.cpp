// gnnrec embed: full-graph inference of a trained run -> embedding export dir.
#include "apps/command.h"
#include "runtime/export.h"

namespace gnnrec::app {
namespace {

CommandRegistrar reg(30, [](CLI::App& root) {
  auto o = std::make_shared<ExportOptions>();
  auto* sub = root.add_subcommand("embed", "Export user and item embeddings of a trained run");
  sub->add_option("--run", o->run_dir, "Run directory (gnnrec train --out)")->required();
  sub->add_option("--out", o->out_dir, "Export directory (default RUN/export)");
  sub->add_option("--device", o->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  sub->add_flag("!--no-f16", o->f16, "Skip the float16 copies");
  sub->add_flag("!--no-int8", o->int8, "Skip the int8 copies");
  sub->add_flag("--force", o->force, "Replace an existing export");
  sub->callback([o] { export_embeddings(*o); });
});

}  // namespace
}  // namespace gnnrec::app
