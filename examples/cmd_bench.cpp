// pmsdsen bench: runs pmsdsen-bench, the benchmark program installed beside this one
// (bench/main.cpp). The benchmarks and cuDNN stay out of the binary every user runs.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "examples/cli.h"

namespace pmsdsen::cli {
namespace {

namespace fs = std::filesystem;

int run_bench(const std::vector<std::string>& args) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  PMSDSEN_CHECK(!ec, "cannot find this program's own path (/proc/self/exe): ", ec.message());
  const fs::path bench = self.parent_path() / "pmsdsen-bench";
  PMSDSEN_CHECK(fs::exists(bench), "the benchmarks are the program pmsdsen-bench, not found beside this one (",
                bench.string(), "); build it with: tools/build.sh --target pmsdsen-bench");
  std::vector<std::string> words = {bench.string()};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  PMSDSEN_FAIL("cannot run ", bench.string(), ": ", std::strerror(errno));
}

}  // namespace

PMSDSEN_COMMAND("bench", "kernel and network benchmarks (kernels, model): runs pmsdsen-bench", run_bench);

}  // namespace pmsdsen::cli
