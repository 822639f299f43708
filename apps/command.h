// Subcommands register themselves here (one apps/cmd_*.cpp each), so adding a command touches
// no other file. A subcommand's callback parses nothing itself: CLI11 fills its options, then it
// calls the runtime.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>

namespace gnnrec::app {

using CommandSetup = std::function<void(CLI::App& root)>;

struct CommandRegistrar {
  // `order` sorts the subcommands in --help (pipeline order).
  CommandRegistrar(int order, CommandSetup setup);
};

void setup_commands(CLI::App& root);

}  // namespace gnnrec::app
