// pmsdsen bench: kernel and whole-network benchmarks.
#include <iostream>

#include "bench/commands.h"
#include "examples/cli.h"

namespace pmsdsen::cli {
namespace {

void usage(std::ostream& os) {
  os << "usage: pmsdsen bench kernels [--device auto|cpu|cuda] [--json out.json] [options]\n"
        "       pmsdsen bench model   [--device auto|cpu|cuda] [--json out.json] [options]\n\n"
        "  kernels  every kernel at PMSDSEN's shapes: median time, effective bandwidth and its\n"
        "           fraction of the measured copy bandwidth, cuDNN on the same data (CUDA)\n"
        "  model    the whole network: inference frames/s, training step time, peak memory\n\n"
        "'pmsdsen bench kernels --help' and 'pmsdsen bench model --help' list the options.\n";
}

int run_bench(const std::vector<std::string>& argv) {
  if (argv.empty()) {
    usage(std::cerr);
    return 2;
  }
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "kernels") return bench::bench_kernels_main(rest);
  if (argv[0] == "model") return bench::bench_model_main(rest);
  if (argv[0] == "--help" || argv[0] == "-h") {
    usage(std::cout);
    return 0;
  }
  std::cerr << "pmsdsen bench: unknown benchmark '" << argv[0] << "'\n\n";
  usage(std::cerr);
  return 2;
}

}  // namespace

PMSDSEN_COMMAND("bench", "kernel and network benchmarks (kernels, model)", run_bench);

}  // namespace pmsdsen::cli
