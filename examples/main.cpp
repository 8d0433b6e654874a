// pmsdsen: one binary, one subcommand per job. `pmsdsen --help` lists them.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "core/error.h"
#include "examples/cli.h"

namespace {

void print_help() {
  std::cout << "pmsdsen: the PMSDSEN segmentation network in C++/CUDA, no framework.\n\n"
               "usage: pmsdsen <command> [options]    (pmsdsen <command> --help for its options)\n\n"
               "commands:\n";
  for (const auto& [name, cmd] : pmsdsen::cli::registry())
    std::cout << "  " << name << std::string(name.size() < 12 ? 12 - name.size() : 1, ' ')
              << cmd.summary << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  // OpenMP threads that spin while they wait cost several times the run time as soon as
  // anything else uses a core (measured: a 512x1024 forward took 7.3 s instead of 1.4 s
  // with one busy core). libgomp reads OMP_WAIT_POLICY when it loads, before main, so
  // set it and run this binary again, once; a user's own setting is kept.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);  // returns only on failure: then go on as we are
  }
  // Past a file-size limit (ulimit -f) a write then fails with EFBIG, which the writers
  // report naming the file, instead of the process dying from SIGXFSZ mid-write.
  std::signal(SIGXFSZ, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help();
    return args.empty() ? 2 : 0;
  }
  auto& commands = pmsdsen::cli::registry();
  auto it = commands.find(args[0]);
  if (it == commands.end()) {
    std::cerr << "pmsdsen: unknown command '" << args[0] << "'\n\n";
    print_help();
    return 2;
  }
  try {
    return it->second.run(std::vector<std::string>(args.begin() + 1, args.end()));
  } catch (const pmsdsen::Error& e) {
    std::cerr << "pmsdsen " << args[0] << ": error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "pmsdsen " << args[0] << ": error: out of memory (smaller sizes, batches or images need less)\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "pmsdsen " << args[0] << ": unexpected error: " << e.what() << "\n";
    return 1;
  }
}
