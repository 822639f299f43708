// gnnrec: one binary, one subcommand per pipeline stage. Errors print one line and exit 1.
#include <algorithm>
#include <cstdio>
#include <vector>

#include "apps/command.h"
#include "runtime/error.h"
#include "runtime/log.h"

namespace gnnrec::app {
namespace {
std::vector<std::pair<int, CommandSetup>>& registry() {
  static std::vector<std::pair<int, CommandSetup>> r;
  return r;
}
}  // namespace

CommandRegistrar::CommandRegistrar(int order, CommandSetup setup) {
  registry().emplace_back(order, std::move(setup));
}

void setup_commands(CLI::App& root) {
  auto& r = registry();
  std::stable_sort(r.begin(), r.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (auto& [order, setup] : r) setup(root);
}

}  // namespace gnnrec::app

int main(int argc, char** argv) {
  CLI::App app{"gnnrec: GraphSAGE recommendation engine (CUDA with a CPU fallback)"};
  app.require_subcommand(1);
  std::string level = "info";
  app.add_option("--log-level", level, "debug, info, warn or error")->capture_default_str();
  app.set_version_flag("--version", std::string("gnnrec ") + "0.1.0");
  app.parse_complete_callback([&] { gnnrec::init_logging(level); });
  gnnrec::app::setup_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const gnnrec::Error& e) {
    std::fprintf(stderr, "gnnrec: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gnnrec: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
