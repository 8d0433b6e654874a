// pmsdsen: one binary, one subcommand per job. `pmsdsen --help` lists them.
#include <iostream>
#include <string>
#include <vector>

#include "examples/cli.h"
#include "examples/program.h"

namespace {

void print_help() {
  std::cout << "pmsdsen: the PMSDSEN segmentation network in C++/CUDA, no framework.\n\n"
               "usage: pmsdsen <command> [options]    (pmsdsen <command> --help for its options)\n\n"
               "commands:\n";
  for (const auto& [name, cmd] : pmsdsen::cli::registry())
    std::cout << "  " << name << std::string(name.size() < 12 ? 12 - name.size() : 1, ' ')
              << cmd.summary << "\n";
}

int dispatch(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help();
    return args.empty() ? 2 : 0;
  }
  const auto& commands = pmsdsen::cli::registry();
  const auto it = commands.find(args[0]);
  if (it == commands.end()) {
    std::cerr << "pmsdsen: unknown command '" << args[0] << "'\n\n";
    print_help();
    return 2;
  }
  return it->second.run(std::vector<std::string>(args.begin() + 1, args.end()));
}

}  // namespace

int main(int argc, char** argv) { return pmsdsen::cli::run_program(argc, argv, "pmsdsen", dispatch); }
