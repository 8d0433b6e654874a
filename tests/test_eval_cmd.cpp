// pmsdsen eval: weights or a training checkpoint in, IoU table and JSON out.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "examples/cli.h"
#include "models/pmsdsen.h"
#include "models/weights.h"
#include "tests/test_util.h"

namespace pmsdsen::train {
namespace {

namespace fs = std::filesystem;

TEST(EvalCommand, WritesJsonWithValuesInRange) {
  const std::string dir = test::temp_dir("eval_cmd");
  PMSDSEN model(PmsdsenConfig{19, Activation::GELU});
  save_weights(model, dir + "/w.safetensors");
  // 64x32 scenes at scale 0.6 give 38x19 inputs: padded to 40x24 and cropped back.
  const int rc = cli::registry().at("eval").run({"--weights", dir + "/w.safetensors", "--dataset", "synthetic",
                                                 "--synthetic-size", "64x32", "--synthetic-val", "3", "--split",
                                                 "val", "--scale", "0.6", "--device", "cpu", "--json",
                                                 dir + "/eval.json"});
  EXPECT_EQ(rc, 0);
  std::ifstream in(dir + "/eval.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  ASSERT_TRUE(j["miou"].is_number());
  EXPECT_GE(j["miou"].get<double>(), 0.0);
  EXPECT_LE(j["miou"].get<double>(), 1.0);
  EXPECT_GE(j["pixel_accuracy"].get<double>(), 0.0);
  EXPECT_LE(j["pixel_accuracy"].get<double>(), 1.0);
  ASSERT_TRUE(j["iou"].is_object());
  EXPECT_EQ(j["iou"].size() + j["absent_classes"].size(), 19u);
  for (const auto& [name, v] : j["iou"].items()) {
    EXPECT_GE(v.get<double>(), 0.0) << name;
    EXPECT_LE(v.get<double>(), 1.0) << name;
  }
  EXPECT_EQ(j["images"], 3);
  EXPECT_EQ(j["scale"], 0.6);
  EXPECT_EQ(j["device"], "cpu");
  fs::remove_all(dir);
}

TEST(EvalCommand, ClearErrors) {
  EXPECT_THROW(cli::registry().at("eval").run({"--dataset", "synthetic"}), Error);  // no --weights
  EXPECT_THROW(cli::registry().at("eval").run({"--weights", "/nonexistent.safetensors", "--dataset", "cityscapes"}),
               Error);  // no --root
  try {
    cli::registry().at("eval").run({"--weights", "/nonexistent/w.safetensors", "--dataset", "synthetic",
                                     "--synthetic-size", "64x32", "--synthetic-val", "1"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/w.safetensors"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pmsdsen::train
