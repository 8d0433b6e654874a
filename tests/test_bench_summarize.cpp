// bench/summarize.py on a made-up run folder: the tables and the target verdicts.
// Skipped where python3 is not installed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace {

std::string repo_root() {
  std::string fixtures = PMSDSEN_FIXTURES_DIR;  // <root>/tests/fixtures
  return fixtures.substr(0, fixtures.rfind("/tests/fixtures"));
}

void write(const std::string& path, const nlohmann::json& j) { std::ofstream(path) << j.dump(); }

nlohmann::json model_record(const char* name, int batch, int h, int w, const char* mode, double ms, double peak_mib) {
  return {{"name", name},  {"batch", batch}, {"height", h}, {"width", w},
          {"mode", mode},  {"ms", ms},       {"fps", batch / (ms / 1e3)},
          {"peak_bytes", static_cast<int64_t>(peak_mib * 1048576)}};
}

TEST(BenchSummarize, TablesAndTargetsFromARunFolder) {
  if (std::system("python3 --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  const std::string dir = testing::TempDir() + "bench_summarize_run";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);

  nlohmann::json dw = {{"name", "dwconv3x3_d2.fwd"}, {"op", "conv2d"}, {"kernel", "depthwise conv 3x3"},
                       {"bandwidth_bound", true}, {"where", "LRMS x2"},
                       {"input", "1x3x512x1024"}, {"batch", 1}, {"channels", 4}, {"height", 256}, {"width", 512},
                       {"ms", 0.0123}, {"gbps", 2400.0}, {"copy_fraction", 0.8}, {"cudnn_ms", 0.02},
                       {"speedup_vs_cudnn", 1.3}, {"cudnn_rel_error", 3e-7}};
  nlohmann::json bn = dw;
  bn["name"] = "batchnorm_train.fwd";
  bn["op"] = "batch_norm";
  bn["kernel"] = "batch norm (training)";
  bn["copy_fraction"] = 0.5;
  bn["speedup_vs_cudnn"] = 0.9;
  write(dir + "/kernels_cuda.json", {{"device", "GPU X"}, {"device_type", "cuda"}, {"copy", {{"gbps", 3000}}},
                                     {"records", {dw, bn}}});
  write(dir + "/model_cuda.json", {{"device", "GPU X"}, {"records", {model_record("inference", 1, 512, 1024, "eager", 3, 200),
                                                                     model_record("inference", 1, 512, 1024, "fused", 2.5, 190),
                                                                     model_record("inference", 1, 512, 1024, "fused_graph", 2, 190),
                                                                     model_record("train_step", 12, 256, 512, "eager", 40, 3000)}}});
  write(dir + "/torch_cuda.json",
        {{"device", "GPU X"}, {"records", {model_record("inference", 1, 512, 1024, "eager", 12, 500),
                                           model_record("inference", 1, 512, 1024, "cuda_graph", 4, 500),
                                           model_record("train_step", 12, 256, 512, "eager", 50, 2000)}}});
  std::ofstream(dir + "/steps.tsv") << "build\tok\t200\tbuild.log\ntests\tFAILED (exit 8)\t90\ttests.log\n";

  const std::string out = dir + "/summary.md";
  ASSERT_EQ(std::system(("python3 " + repo_root() + "/bench/summarize.py " + dir + " > " + out).c_str()), 0);
  std::stringstream ss;
  ss << std::ifstream(out).rdbuf();
  const std::string md = ss.str();
  auto has = [&](const std::string& s) { return md.find(s) != std::string::npos; };
  EXPECT_TRUE(has("| tests | FAILED (exit 8) | 90 |")) << md;
  EXPECT_TRUE(has("Total: 290 s.")) << md;
  // Inference: 4x PyTorch eager (target 3x: met), 1.33x its CUDA graph (met); peak 200 <= 500.
  EXPECT_TRUE(has("| inference | 1x3x512x1024 | 3.00 | - | 12.0 | 4.00 | 333.3 | 4.00x | 1.33x | yes / yes | 200 | 500 | yes |")) << md;
  // The fused copy: its graph (2 ms) is 6x PyTorch eager and 2x its graph.
  EXPECT_TRUE(has("| inference (fused) | 1x3x512x1024 | 2.50 | 2.00 | 12.0 | 4.00 | 500.0 | 6.00x | 2.00x | yes / yes | 190 | 500 | yes |")) << md;
  // Training: 1.25x faster (target 1.5x: missed), peak 3000 > 2000 MiB (missed).
  EXPECT_TRUE(has("| train_step | 12x3x256x512 | 40.0 | - | 50.0 | - | 300.0 | 1.25x | - | **no** | 3000 | 2000 | **no** |")) << md;
  // Kernels: depthwise meets both targets, BN neither.
  EXPECT_TRUE(has("| dwconv3x3_d2.fwd | LRMS x2 | 1x4x256x512 | 0.0123 | 2400 | 80 | 0.0200 | 1.30x | 3.0e-07 | yes / yes |")) << md;
  EXPECT_TRUE(has("| batchnorm_train.fwd | LRMS x2 | 1x4x256x512 | 0.0123 | 2400 | 50 | 0.0200 | 0.90x | 3.0e-07 | **no** / **no** |")) << md;
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
