// The evaluator against hand-computed confusion matrices, its JSON and table, and the
// colour-only baseline.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "autograd/ops_resize.h"
#include "data/baseline.h"
#include "data/evaluate.h"
#include "tests/test_data_util.h"

namespace pmsdsen::data {
namespace {

// A dataset of samples given in full.
class ListDataset : public Dataset {
 public:
  ListDataset(std::vector<Sample> samples, int classes, std::set<int64_t> bad = {}, bool skip_bad = false)
      : Dataset(skip_bad), samples_(std::move(samples)), bad_(std::move(bad)) {
    for (int c = 0; c < classes; ++c) {
      names_.push_back("class" + std::to_string(c));
      palette_.push_back(test::class_colour(c));
    }
  }
  std::string name() const override { return "list"; }
  std::string split() const override { return "val"; }
  int64_t size() const override { return static_cast<int64_t>(samples_.size()); }
  std::string sample_id(int64_t i) const override { return samples_[i].id; }
  Sample sample(int64_t i) const override {
    check_index(i);
    if (bad_.count(i)) PMSDSEN_FAIL("cannot read image broken_", i, ".png: bad zlib");
    return samples_[i];
  }
  const std::vector<std::string>& class_names() const override { return names_; }
  const std::vector<Rgb>& palette() const override { return palette_; }

 private:
  std::vector<Sample> samples_;
  std::set<int64_t> bad_;
  std::vector<std::string> names_;
  std::vector<Rgb> palette_;
};

Sample make_sample(const std::string& id, int64_t h, int64_t w, uint8_t grey,
                   const std::vector<uint8_t>& labels) {
  Sample s;
  s.id = id;
  s.image = Image(h, w, grey);
  s.label = LabelMap(h, w);
  s.label.ids = labels;
  return s;
}

// Logits [1, K, h, w] that are 1 for the given class of each pixel and 0 elsewhere.
Tensor one_hot_logits(const std::vector<int64_t>& pred, int64_t k, int64_t h, int64_t w) {
  std::vector<float> v(k * h * w, 0.f);
  for (int64_t i = 0; i < h * w; ++i) v[pred[i] * h * w + i] = 1.f;
  return Tensor::from_vector(v, {1, k, h, w});
}

ListDataset two_images() {
  return ListDataset({make_sample("a", 2, 3, 10, {0, 1, 2, 255, 1, 1}),
                      make_sample("b", 2, 3, 20, {2, 2, 0, 0, 255, 1})},
                     3);
}

// What the network "predicts" for the two images.
Predictor two_predictions(int* calls) {
  return Predictor([calls](const Tensor& image) {
    EXPECT_EQ(image.shape(), (Shape{1, 3, 2, 3}));
    const float r = image.to_vector<float>()[0];
    const bool first = std::abs(r - (10 / 255.f - 0.485f) / 0.229f) < 1e-5f;
    EXPECT_TRUE(first || std::abs(r - (20 / 255.f - 0.485f) / 0.229f) < 1e-5f) << r;
    ++*calls;
    return first ? one_hot_logits({0, 1, 1, 2, 1, 0}, 3, 2, 3) : one_hot_logits({2, 0, 0, 1, 1, 1}, 3, 2, 3);
  }, 3);
}

TEST(DataEvaluate, ConfusionMatrixMatchesTheHandCount) {
  const ListDataset ds = two_images();
  int calls = 0;
  const EvalResult r = evaluate(ds, two_predictions(&calls));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(r.images, 2);
  // (label, prediction): a: (0,0) (1,1) (2,1) (1,1) (1,0); b: (2,2) (2,0) (0,0) (0,1) (1,1).
  EXPECT_EQ(r.confusion.counts(), (std::vector<int64_t>{2, 1, 0, 1, 3, 0, 1, 1, 1}));
  const std::vector<double> iou = r.confusion.iou();
  EXPECT_DOUBLE_EQ(iou[0], 2.0 / 5.0);  // 2 / (3 + 4 - 2)
  EXPECT_DOUBLE_EQ(iou[1], 3.0 / 6.0);  // 3 / (4 + 5 - 3)
  EXPECT_DOUBLE_EQ(iou[2], 1.0 / 3.0);  // 1 / (3 + 1 - 1)
  EXPECT_DOUBLE_EQ(r.confusion.miou(), (0.4 + 0.5 + 1.0 / 3.0) / 3.0);
  EXPECT_DOUBLE_EQ(r.confusion.pixel_accuracy(), 0.6);
}

TEST(DataEvaluate, JsonAndTable) {
  ListDataset ds({make_sample("a", 1, 4, 10, {0, 0, 1, 255})}, 4);
  const EvalResult r = evaluate(ds, Predictor([](const Tensor&) { return one_hot_logits({0, 1, 1, 3}, 4, 1, 4); }, 4));
  test::TempDir dir;
  write_eval_json(dir / "eval.json", r);
  std::ifstream f(dir / "eval.json");
  const nlohmann::json j = nlohmann::json::parse(f);
  // Class 0: 1 / (2 + 1 - 1) = 0.5; class 1: 1 / (1 + 2 - 1) = 0.5; class 2 absent;
  // class 3 predicted only on the ignored pixel, so absent too.
  EXPECT_DOUBLE_EQ(j["miou"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["pixel_accuracy"].get<double>(), 2.0 / 3.0);
  EXPECT_EQ(j["iou"].size(), 2u);
  EXPECT_DOUBLE_EQ(j["iou"]["class0"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["iou"]["class1"].get<double>(), 0.5);
  for (const auto& [name, v] : j["iou"].items()) {
    EXPECT_GE(v.get<double>(), 0.0) << name;
    EXPECT_LE(v.get<double>(), 1.0) << name;
  }
  EXPECT_EQ(j["absent_classes"], nlohmann::json({"class2", "class3"}));
  EXPECT_EQ(j["images"], 1);
  EXPECT_EQ(j["pixels"], 3);
  EXPECT_EQ(j["confusion_matrix"][0], nlohmann::json({1, 1, 0, 0}));

  const std::string table = format_iou_table(r);
  EXPECT_NE(table.find("class0             50.00"), std::string::npos) << table;
  EXPECT_NE(table.find("class2                 -"), std::string::npos) << table;
  EXPECT_NE(table.find("mIoU               50.00  (mean over 2 of 4 classes)"), std::string::npos) << table;
}

TEST(DataEvaluate, SkipBadLeavesOutAndCounts) {
  ListDataset ds({make_sample("a", 2, 3, 10, {0, 1, 2, 255, 1, 1}), make_sample("x", 2, 3, 10, {0, 0, 0, 0, 0, 0}),
                  make_sample("b", 2, 3, 20, {2, 2, 0, 0, 255, 1})},
                 3, {1}, /*skip_bad=*/true);
  int calls = 0;
  const EvalResult r = evaluate(ds, two_predictions(&calls));
  EXPECT_EQ(r.images, 2);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_NE(r.skipped[0].find("broken_1.png"), std::string::npos);
  EXPECT_EQ(r.confusion.counts(), (std::vector<int64_t>{2, 1, 0, 1, 3, 0, 1, 1, 1}));
  EXPECT_NE(format_iou_table(r).find("1 skipped"), std::string::npos);

  ListDataset strict({make_sample("a", 2, 3, 10, {0, 1, 2, 255, 1, 1}), make_sample("x", 2, 3, 10, {0, 0, 0, 0, 0, 0})},
                     3, {1}, false);
  test::expect_error_naming([&] { evaluate(strict, two_predictions(&calls)); }, {"broken_1.png"});
}

TEST(DataEvaluate, BadLogitsAreReported) {
  const ListDataset ds = two_images();
  test::expect_error_naming(
      [&] { evaluate(ds, Predictor([](const Tensor&) { return Tensor::zeros({3, 2, 3}); }, 3)); },
      {"expected logits [1, classes, h, w]"});
  // Logits of another number of classes than the network says, or smaller than the image.
  test::expect_error_naming(
      [&] { evaluate(ds, Predictor([](const Tensor&) { return one_hot_logits({0, 1, 1, 2, 1, 0}, 4, 2, 3); }, 3)); },
      {"returned float32[1, 4, 2, 3]", "expected logits [1, classes, h, w] with 3 classes"});
  test::expect_error_naming(
      [&] { evaluate(ds, Predictor([](const Tensor&) { return one_hot_logits({0, 1}, 3, 1, 2); }, 3)); },
      {"returned float32[1, 3, 1, 2]", "at least 2 x 3"});
  // A network of another number of classes than the dataset.
  test::expect_error_naming(
      [&] { evaluate(ds, Predictor([](const Tensor&) { return one_hot_logits({0, 1, 1, 2, 1, 0}, 4, 2, 3); }, 4)); },
      {"4 classes", "has 3"});
}

bool resize_ops_available() {
  try {
    ops::bilinear(Tensor::zeros({1, 1, 2, 2}), 4, 4, true);
    return true;
  } catch (const Error& e) {
    if (std::string(e.what()).find("not implemented") == std::string::npos) throw;
    return false;
  }
}

// --scale 0.5: the network sees the half-size image; its logits, a ramp over x against
// the constant 0.3, come back at full size with align_corners=True, where the ramp
// X * 11 / 23 crosses 0.3 between X = 0 and X = 1 (align_corners=False would put the
// crossing between X = 1 and X = 2).
TEST(DataEvaluate, ScaleResizesTheImageAndTheLogitsBack) {
  if (!resize_ops_available()) GTEST_SKIP() << "ops::bilinear is not implemented yet";
  std::vector<uint8_t> labels(16 * 24);
  for (int64_t i = 0; i < 16 * 24; ++i) labels[i] = (i % 24) >= 1 ? 1 : 0;
  ListDataset ds({make_sample("a", 16, 24, 90, labels)}, 2);
  EvalOptions o;
  o.scale = 0.5;
  const EvalResult r = evaluate(ds, Predictor([](const Tensor& image) {
    EXPECT_EQ(image.shape(), (Shape{1, 3, 8, 12}));
    const std::vector<float> v = image.to_vector<float>();
    EXPECT_NEAR(v[0], (90 / 255.f - 0.485f) / 0.229f, 1e-5f);
    std::vector<float> logits(2 * 8 * 12);
    for (int64_t i = 0; i < 8 * 12; ++i) {
      logits[i] = 0.3f;
      logits[8 * 12 + i] = static_cast<float>(i % 12);
    }
    return Tensor::from_vector(logits, {1, 2, 8, 12});
  }, 2), o);
  EXPECT_EQ(r.confusion.counts(), (std::vector<int64_t>{16, 0, 0, 16 * 23}));
}

TEST(DataBaseline, ColourAloneSolvesPlantedColours) {
  test::PatternDataset train(3, 16, 16), val(2, 16, 16);
  const ColourBaseline model = fit_colour_baseline(train);
  for (int c = 0; c < 5; ++c) {
    ASSERT_TRUE(model.seen[c]);
    EXPECT_DOUBLE_EQ(model.means[c][0], test::class_colour(c)[0]);
  }
  EXPECT_DOUBLE_EQ(colour_baseline_miou(train, val), 1.0);
  EXPECT_DOUBLE_EQ(colour_histogram_confusion(train, val).miou(), 1.0);
}

TEST(DataBaseline, HistogramVotesTheMostFrequentClassOfAColour) {
  // One colour, labelled 0 on 3 pixels and 1 on 1 pixel: the rule says 0 everywhere.
  Sample s;
  s.image = Image(1, 4, 50);
  s.label = LabelMap(1, 4);
  s.label.ids = {0, 0, 1, 0};
  ListDataset train({s}, 2), val({s}, 2);
  const ConfusionMatrix cm = colour_histogram_confusion(train, val);
  EXPECT_EQ(cm.counts(), (std::vector<int64_t>{3, 0, 1, 0}));
}

}  // namespace
}  // namespace pmsdsen::data
