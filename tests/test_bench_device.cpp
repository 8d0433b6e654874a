// The benchmarks follow the one device rule (tests/test_cmd_device.cpp): auto by default,
// the CPU when the (emulated) GPU is hidden.
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/device.h"
#include "tests/test_model_cmd_util.h"

using namespace pmsdsen;

TEST(BenchDevice, DefaultsToAuto) {
  for (const std::string command : {"bench kernels", "bench model"}) {
    const auto r = test::run_tool(command + " --help");
    ASSERT_EQ(r.status, 0) << command << ":\n" << r.output;
    EXPECT_OUTPUT_HAS(r, "[--device auto|cpu|cuda]");
    const size_t flag = r.output.find("  --device auto|cpu|cuda ");
    ASSERT_NE(flag, std::string::npos) << command << ":\n" << r.output;
    const std::string line = r.output.substr(flag, r.output.find('\n', flag) - flag);
    EXPECT_NE(line.find("(default auto)"), std::string::npos) << command << ": " << line;
  }
}

// Without the GPU, auto benchmarks the CPU.
TEST(BenchDevice, WithoutAGpuAutoIsTheCpu) {
  const std::string json = test::temp_file("device_bench.json");
  const auto r = test::run_tool("bench kernels --filter global_avgpool.fwd --config 1x512x1024 --reps 1 --json " + json,
                                "PMSDSEN_EMU_DEVICES=0");
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream f(json);
  EXPECT_EQ(nlohmann::json::parse(f)["device_type"], cuda_emulated() || !cuda_available() ? "cpu" : "cuda");
}
