// The one device rule: "auto" (every command's default) is CUDA when a GPU is present,
// else the CPU. The emulated build has a GPU; PMSDSEN_EMU_DEVICES=0 hides it, so both
// machines are tried here (a real build ignores the variable: auto is then what it has).
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/device.h"
#include "core/error.h"
#include "data/image.h"
#include "models/pmsdsen.h"
#include "models/weights.h"
#include "tests/test_model_cmd_util.h"

using namespace pmsdsen;

namespace {

namespace fs = std::filesystem;

const std::string kHidden = "PMSDSEN_EMU_DEVICES=0";

// What auto should pick with the GPU shown and hidden.
std::string auto_device() { return cuda_available() ? "cuda" : "cpu"; }
std::string auto_device_hidden() { return cuda_emulated() ? "cpu" : auto_device(); }

const std::string& weights_file() {
  static const std::string path = [] {
    const std::string p = test::temp_file("device_weights.safetensors");
    save_weights(PMSDSEN({19, Activation::GELU}), p);
    return p;
  }();
  return path;
}

}  // namespace

TEST(DeviceRule, ParseDevice) {
  EXPECT_EQ(parse_device("auto"), cuda_available() ? Device::cuda() : Device::cpu());
  if (cuda_emulated()) {
    EXPECT_EQ(parse_device("auto"), Device::cuda());
  }
  EXPECT_EQ(parse_device("cpu"), Device::cpu());
  for (const char* cuda : {"cuda", "cuda:0", "gpu"}) EXPECT_EQ(parse_device(cuda), Device::cuda()) << cuda;
  for (const char* bad : {"", "Auto", "cuda:1", "tpu"}) {
    try {
      parse_device(bad);
      ADD_FAILURE() << "'" << bad << "' was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("unknown device '") + bad + "': expected auto, cpu or cuda"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(DeviceRule, EveryCommandDefaultsToAuto) {
  for (const std::string command : {"segment", "forward", "info", "eval", "train", "demo"}) {
    const auto r = test::run_tool(command + " --help");
    ASSERT_EQ(r.status, 0) << command << ":\n" << r.output;
    if (command != "train") {  // train's usage line says "[options]"
      EXPECT_OUTPUT_HAS(r, "[--device auto|cpu|cuda]");
    }
    const size_t flag = r.output.find("  --device auto|cpu|cuda ");
    ASSERT_NE(flag, std::string::npos) << command << ":\n" << r.output;
    const std::string line = r.output.substr(flag, r.output.find('\n', flag) - flag);
    EXPECT_NE(line.find("(default auto)"), std::string::npos) << command << ": " << line;
  }
}

TEST(DeviceRule, BadDeviceIsNamedByEveryCommand) {
  const std::string image = test::temp_file("device_bad.png");
  data::write_png(image, data::Image(8, 8, 90));
  for (const std::string& command : std::vector<std::string>{"segment --image " + image + " --weights " + weights_file(), "forward --input " + image + " --output " + test::temp_file("device_bad.safetensors") + " --weights " +
        weights_file(), "info", "eval --dataset synthetic --weights " + weights_file(), "demo"}) {
    const auto r = test::run_tool(command + " --device tpu");
    EXPECT_EQ(r.status, 1) << command;
    EXPECT_OUTPUT_HAS(r, command.substr(0, command.find(' ')) + ": --device: unknown device 'tpu': expected auto, "
                         "cpu or cuda");
  }
  const auto r = test::run_tool("train --dataset synthetic --device tpu --out " + test::temp_file("device_train_bad"));
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "train: --device: unknown device 'tpu': expected auto, cpu or cuda");
}

// The benchmarks' defaults: tests/test_bench_device.cpp.

// segment, forward, info (with --time) and eval say where they ran: auto, with and without
// the GPU.
TEST(DeviceRule, SegmentForwardInfoEvalRunWhereAutoSays) {
  const std::string image = test::temp_file("device_in.png");
  data::write_png(image, data::Image(20, 28, 90));
  const std::string input = test::temp_file("device_input.safetensors");
  save_safetensors(input, {{"input", Tensor::zeros({1, 3, 16, 24})}});
  for (const bool hidden : {false, true}) {
    const std::string env = hidden ? kHidden : "", expected = hidden ? auto_device_hidden() : auto_device();
    auto r = test::run_tool("segment --weights " + weights_file() + " --image " + image + " --output " +
                                test::temp_file("device_pred.png") + " --overlay " +
                                test::temp_file("device_overlay.png"),
                            env);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_OUTPUT_HAS(r, " s on " + expected + "\n");
    r = test::run_tool("forward --weights " + weights_file() + " --input " + input + " --output " +
                           test::temp_file("device_output.safetensors"),
                       env);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_OUTPUT_HAS(r, " mode, gelu, " + expected + ")");
    r = test::run_tool("info --height 16 --width 24 --time 1", env);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_OUTPUT_HAS(r, "forward (evaluation, no gradients) on " + expected);
    r = test::run_tool("eval --weights " + weights_file() + " --dataset synthetic --synthetic-size 32x16 "
                       "--synthetic-val 1", env);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_OUTPUT_HAS(r, "1 images of synthetic val at scale 1 on " + expected + "\n");
  }
}

// train records the device it resolved in config.json; demo trains there.
TEST(DeviceRule, TrainAndDemoRunWhereAutoSays) {
  for (const bool hidden : {false, true}) {
    const std::string env = hidden ? kHidden : "", expected = hidden ? auto_device_hidden() : auto_device();
    const fs::path out = test::temp_file(std::string("device_train_") + (hidden ? "hidden" : "shown"));
    fs::remove_all(out);
    auto r = test::run_tool("train --dataset synthetic --synthetic-size 32x32 --synthetic-train 2 --synthetic-val 1 "
                            "--crop 32x32 --batch 2 --iters 1 --val-every -1 --workers 1 --out " + out.string(),
                            env);
    ASSERT_EQ(r.status, 0) << r.output;
    std::ifstream config(out / "config.json");
    EXPECT_EQ(nlohmann::json::parse(config)["device"], expected);
    EXPECT_OUTPUT_HAS(r, "crops, " + expected + "; iterations 0 -> 1");

    const fs::path demo = test::temp_file(std::string("device_demo_") + (hidden ? "hidden" : "shown"));
    fs::remove_all(demo);
    r = test::run_tool("demo --iters 1 --scene 32x32 --train-scenes 2 --val-scenes 1 --crop 32x32 --batch 2 "
                       "--workers 1 --out " + demo.string(),
                       env);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_OUTPUT_HAS(r, "1 iterations of 2 crops 32x32 in ");
    EXPECT_OUTPUT_HAS(r, " on " + expected + ")");
    fs::remove_all(out);
    fs::remove_all(demo);
  }
}
