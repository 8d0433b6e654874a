// The benchmarks are a program of their own: `pmsdsen bench` runs pmsdsen-bench from
// beside the pmsdsen binary, says so when it is missing, and pmsdsen links no cuDNN.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/test_model_cmd_util.h"
#include "tests/test_util.h"

namespace pmsdsen::test {
namespace {

namespace fs = std::filesystem;

TEST(BenchProgram, PmsdsenBenchRunsTheBenchmarkProgram) {
  const CommandResult help = run_tool("bench --help");
  EXPECT_EQ(help.status, 0) << help.output;
  EXPECT_OUTPUT_HAS(help, "usage: pmsdsen-bench kernels");
  const CommandResult bad = run_tool("bench nosuch");
  EXPECT_EQ(bad.status, 2) << bad.output;
  EXPECT_OUTPUT_HAS(bad, "pmsdsen-bench: unknown benchmark 'nosuch'");
}

TEST(BenchProgram, AMissingBenchProgramIsNamed) {
  const fs::path dir = temp_dir("bench_program");
  fs::copy_file(PMSDSEN_TOOL_PATH, dir / "pmsdsen");
  fs::permissions(dir / "pmsdsen", fs::perms::owner_all);
  const CommandResult r = run_command("'" + (dir / "pmsdsen").string() + "' bench kernels");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_OUTPUT_HAS(r, "pmsdsen bench: error: the benchmarks are the program pmsdsen-bench, not found");
  EXPECT_OUTPUT_HAS(r, (dir / "pmsdsen-bench").string());
  fs::remove_all(dir);
}

TEST(BenchProgram, OnlyTheBenchProgramLinksCudnn) {
  const CommandResult tool = run_command(std::string("ldd '") + PMSDSEN_TOOL_PATH + "'");
  ASSERT_EQ(tool.status, 0) << tool.output;
  EXPECT_NE(tool.output.find("libc.so"), std::string::npos) << tool.output;  // ldd listed something
  EXPECT_EQ(tool.output.find("cudnn"), std::string::npos) << tool.output;
#if defined(PMSDSEN_WITH_CUDNN)
  const fs::path bench = fs::path(PMSDSEN_TOOL_PATH).parent_path() / "pmsdsen-bench";
  const CommandResult b = run_command("ldd '" + bench.string() + "'");
  EXPECT_NE(b.output.find("cudnn"), std::string::npos) << b.output;
#endif
}

}  // namespace
}  // namespace pmsdsen::test
