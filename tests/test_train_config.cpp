// Training settings (defaults, JSON, flags overriding JSON) and the learning-rate schedule.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "examples/train_config.h"
#include "examples/train_schedule.h"
#include "tests/test_util.h"

namespace pmsdsen::train {
namespace {

cli::Args parse(const std::vector<std::string>& argv) { return cli::Args("train", train_flag_specs(), argv); }

TEST(TrainConfig, DefaultsAreTheAuthorsCityscapesStage1) {
  TrainConfig c;
  c.root = "/data/cityscapes";
  c.device = "cpu";
  resolve(c);
  EXPECT_EQ(c.dataset, "cityscapes");
  EXPECT_EQ(c.crop_width, 512);
  EXPECT_EQ(c.crop_height, 256);
  EXPECT_EQ(c.batch, 12);
  EXPECT_EQ(c.epochs, 500);
  EXPECT_EQ(c.iters, 0);
  EXPECT_DOUBLE_EQ(c.lr, 0.045);
  EXPECT_DOUBLE_EQ(c.poly_power, 0.9);
  EXPECT_DOUBLE_EQ(c.momentum, 0.9);
  EXPECT_DOUBLE_EQ(c.weight_decay, 1e-4);
  EXPECT_EQ(c.loss, "ce");
  EXPECT_FALSE(c.freeze_bn);
  const auto [lo, hi] = scale_range_values(c);
  EXPECT_DOUBLE_EQ(lo, 0.25);
  EXPECT_DOUBLE_EQ(hi, 0.5);
  EXPECT_TRUE(jitter_on(c));
  EXPECT_DOUBLE_EQ(c.val_scale, 0.5);
}

TEST(TrainConfig, CityscapesNeedsARootAndSyntheticDoesNot) {
  TrainConfig c;
  c.device = "cpu";
  const std::string message = test::error_of([&] { resolve(c); });
  EXPECT_NE(message.find("--root"), std::string::npos) << message;
  c.dataset = "synthetic";
  EXPECT_NO_THROW(resolve(c));
  // The data issue's preset for the synthetic scenes.
  const auto [lo, hi] = scale_range_values(c);
  EXPECT_DOUBLE_EQ(lo, 0.75);
  EXPECT_DOUBLE_EQ(hi, 1.5);
  EXPECT_TRUE(jitter_on(c));
  EXPECT_DOUBLE_EQ(c.val_scale, 1.0);
}

TEST(TrainConfig, Stage2ScaleRange) {
  TrainConfig c;
  c.root = "x";
  c.device = "cpu";
  c.crop_width = 1024;
  c.crop_height = 512;
  resolve(c);
  const auto [lo, hi] = scale_range_values(c);
  EXPECT_DOUBLE_EQ(lo, 0.35);
  EXPECT_DOUBLE_EQ(hi, 1.0);
}

TEST(TrainConfig, FlagsOverrideTheConfigFile) {
  TrainConfig c;
  update_from_json(c, nlohmann::json::parse(R"({"dataset": "camvid", "batch": 4, "lr": 0.01, "crop": "480x360",
                                                "freeze-bn": true, "flip": false})"),
                   "test.json");
  EXPECT_EQ(c.dataset, "camvid");
  EXPECT_EQ(c.batch, 4);
  EXPECT_EQ(c.crop_width, 480);
  EXPECT_EQ(c.crop_height, 360);
  EXPECT_TRUE(c.freeze_bn);
  EXPECT_FALSE(c.flip);
  const auto given = apply_flags(c, parse({"--batch", "6", "--lr=0.02", "--crop", "960x720", "--flip", "on",
                                           "--loss", "ohem"}));
  EXPECT_EQ(given.size(), 5u);
  EXPECT_EQ(c.batch, 6);
  EXPECT_DOUBLE_EQ(c.lr, 0.02);
  EXPECT_EQ(c.crop_width, 960);
  EXPECT_TRUE(c.flip);
  EXPECT_EQ(c.loss, "ohem");
  EXPECT_EQ(c.dataset, "camvid");  // from the file, not overridden
}

TEST(TrainConfig, JsonRoundTrip) {
  TrainConfig c;
  c.dataset = "synthetic";
  c.crop_width = 64;
  c.crop_height = 32;
  c.class_weights = "1,2,3";
  c.val_every = 7;
  c.freeze_bn = true;
  const nlohmann::json j = to_json(c);
  EXPECT_EQ(j["crop"], "64x32");
  const TrainConfig d = config_from_json(j, "roundtrip");
  EXPECT_EQ(to_json(d), j);
}

TEST(TrainConfig, BadSettingsNameTheSetting) {
  TrainConfig c;
  auto message = [&](const char* text) {
    try {
      update_from_json(c, nlohmann::json::parse(text), "cfg.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(R"({"batchsize": 4})").find("unknown setting 'batchsize'"), std::string::npos);
  EXPECT_NE(message(R"({"batch": "4"})").find("'batch' has the wrong type"), std::string::npos);
  EXPECT_NE(message(R"({"crop": "512"})").find("WIDTHxHEIGHT"), std::string::npos);
  EXPECT_THROW(apply_flags(c, parse({"--batch", "four"})), Error);
  EXPECT_THROW(apply_flags(c, parse({"--flip", "maybe"})), Error);

  TrainConfig bad;
  bad.dataset = "synthetic";
  bad.device = "cpu";
  bad.crop_width = 60;
  EXPECT_THROW(resolve(bad), Error);  // not a multiple of 8
}

TEST(TrainConfig, ClassWeights) {
  TrainConfig c;
  c.root = "x";
  c.device = "cpu";
  c.class_weights = "authors";
  resolve(c);
  const std::vector<double> w = class_weight_values(c, 19);
  ASSERT_EQ(w.size(), 19u);
  EXPECT_DOUBLE_EQ(w[0], 2.8149);
  EXPECT_DOUBLE_EQ(w[18], 10.1381);
  EXPECT_THROW(class_weight_values(c, 11), Error);
  c.class_weights = "none";
  EXPECT_TRUE(class_weight_values(c, 19).empty());
}

TEST(PolySchedule, ValuesAtChosenIterations) {
  const PolySchedule s{0.045, 1000, 0.9, 0};
  EXPECT_DOUBLE_EQ(s.lr(0), 0.045);
  // 0.045 * 0.5^0.9 = 0.0241149...
  EXPECT_NEAR(s.lr(500), 0.045 * std::pow(0.5, 0.9), 1e-15);
  EXPECT_NEAR(s.lr(500), 0.0241149, 1e-7);
  EXPECT_NEAR(s.lr(999), 0.045 * std::pow(0.001, 0.9), 1e-15);
  EXPECT_DOUBLE_EQ(s.lr(1000), 0.0);
}

TEST(PolySchedule, LinearWarmupThenPoly) {
  const PolySchedule s{0.01, 110, 0.9, 10};
  EXPECT_DOUBLE_EQ(s.lr(0), 0.0);
  EXPECT_DOUBLE_EQ(s.lr(5), 0.005);
  EXPECT_DOUBLE_EQ(s.lr(10), 0.01);
  EXPECT_NEAR(s.lr(60), 0.01 * std::pow(0.5, 0.9), 1e-15);
  EXPECT_THROW((PolySchedule{0.01, 10, 0.9, 10}.lr(0)), Error);
}

}  // namespace
}  // namespace pmsdsen::train
