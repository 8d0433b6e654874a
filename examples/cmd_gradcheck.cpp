// pmsdsen gradcheck: runs the gradient-check suite and prints one row per op and
// configuration; exits non-zero if any row fails.
#include <cstdio>
#include <iostream>

#include "autograd/gradcheck_suite.h"
#include "examples/cli.h"

namespace pmsdsen::cli {
namespace {

int run_gradcheck(const std::vector<std::string>& argv) {
  Args args("gradcheck",
            {{"device", "cpu|cuda", "where the analytic gradients are computed (float64 on the CPU, "
                                    "float32 on CUDA); finite differences always run in float64 on the CPU",
              "cpu"},
             {"filter", "TEXT", "only the cases whose op name contains TEXT", ""}},
            argv);
  if (args.help_requested()) {
    std::cout << "usage: pmsdsen gradcheck [--device cpu|cuda] [--filter TEXT]\n\n"
                 "Checks every differentiable op's backward against central finite differences.\n\n"
              << args.usage();
    return 0;
  }
  const Device device = parse_device(args.get("device"));
  require_device(device, "gradcheck");
  const std::string filter = args.get("filter");

  std::printf("%-18s %-40s %12s %12s  %s\n", "op", "configuration", "max abs err", "max rel err",
              "result");
  int failed = 0, run = 0;
  for (const autograd::GradCase& c : autograd::gradcheck_suite()) {
    if (!filter.empty() && c.op.find(filter) == std::string::npos) continue;
    ++run;
    autograd::GradCheckReport r;
    std::string error;
    try {
      r = autograd::run_grad_case(c, device);
    } catch (const std::exception& e) {
      error = e.what();
    }
    const bool ok = error.empty() && r.passed();
    failed += ok ? 0 : 1;
    std::printf("%-18s %-40s %12.3e %12.3e  %s\n", c.op.c_str(), c.config.c_str(), r.max_abs_error,
                r.max_rel_error, ok ? "pass" : "FAIL");
    if (!error.empty()) std::printf("    error: %s\n", error.c_str());
    else if (!ok) std::printf("    worst: %s\n", r.worst.c_str());
    std::fflush(stdout);
  }
  PMSDSEN_CHECK(run > 0, "gradcheck: no case matches --filter '", filter, "'");
  std::printf("\n%d of %d cases passed on %s\n", run - failed, run, device.str().c_str());
  return failed == 0 ? 0 : 1;
}

}  // namespace

PMSDSEN_COMMAND("gradcheck", "check every op's gradient against finite differences", run_gradcheck);

}  // namespace pmsdsen::cli
