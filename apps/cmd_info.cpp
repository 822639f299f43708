// gnnrec info: version, commit, build options, CUDA runtime/driver, devices, BLAS.
#include "apps/command.h"
#include "gnnrec/build_info.h"
#include "runtime/info.h"

namespace gnnrec::app {
namespace {

CommandRegistrar reg(0, [](CLI::App& root) {
  auto* sub = root.add_subcommand("info", "Print version, build options and the devices found");
  auto json = std::make_shared<bool>(false);
  sub->add_flag("--json", *json, "Print as JSON");
  sub->callback([json] { std::fputs(build_report(*json).c_str(), stdout); });
});

}  // namespace
}  // namespace gnnrec::app
