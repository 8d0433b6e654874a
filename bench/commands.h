#pragma once
// The `pmsdsen bench` subcommands (bench/cmd_bench.cpp dispatches to them).
#include <string>
#include <vector>

namespace pmsdsen::bench {

int bench_kernels_main(const std::vector<std::string>& argv);
int bench_model_main(const std::vector<std::string>& argv);

}  // namespace pmsdsen::bench
