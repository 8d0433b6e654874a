// The confusion matrix and the metrics derived from it, checked against hand counts.
#include <gtest/gtest.h>

#include <cmath>

#include "data/metrics.h"
#include "tests/test_data_util.h"
#include "tests/test_util.h"

namespace pmsdsen::data {
namespace {

// 3 classes; 12 pixels, 2 of them ignored:
//   label: 0 0 0 0 1 1 1 2 2 255 255 0
//   pred : 0 0 1 2 1 1 0 2 1  0   2  0
// counts [label][pred]: row 0: 3 1 1; row 1: 1 2 0; row 2: 0 1 1.
const std::vector<int64_t> kLabels = {0, 0, 0, 0, 1, 1, 1, 2, 2, 255, 255, 0};
const std::vector<int64_t> kPreds = {0, 0, 1, 2, 1, 1, 0, 2, 1, 0, 2, 0};

TEST(DataMetrics, HandComputedConfusionIouAndAccuracy) {
  ConfusionMatrix cm(3);
  cm.add(kLabels.data(), kPreds.data(), static_cast<int64_t>(kLabels.size()));
  EXPECT_EQ(cm.counts(), (std::vector<int64_t>{3, 1, 1, 1, 2, 0, 0, 1, 1}));
  EXPECT_EQ(cm.total(), 10);
  // IoU = TP / (row + col - TP): class 0: 3 / (5 + 4 - 3) = 1/2; class 1: 2 / (3 + 4 - 2)
  // = 2/5; class 2: 1 / (2 + 2 - 1) = 1/3.
  const std::vector<double> iou = cm.iou();
  EXPECT_DOUBLE_EQ(iou[0], 0.5);
  EXPECT_DOUBLE_EQ(iou[1], 0.4);
  EXPECT_DOUBLE_EQ(iou[2], 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(cm.miou(), (0.5 + 0.4 + 1.0 / 3.0) / 3.0);
  EXPECT_DOUBLE_EQ(cm.pixel_accuracy(), 6.0 / 10.0);
}

TEST(DataMetrics, TensorsAccumulateOverCalls) {
  ConfusionMatrix cm(3);
  const Tensor l = Tensor::from_vector(kLabels, {2, 2, 3});
  const Tensor p = Tensor::from_vector(kPreds, {2, 2, 3});
  cm.add(l, p);
  cm.add(l, p);
  EXPECT_EQ(cm.count(0, 0), 6);
  EXPECT_EQ(cm.count(1, 0), 2);
  EXPECT_EQ(cm.total(), 20);
  ConfusionMatrix other(3);
  other.add(l, p);
  cm.merge(other);
  EXPECT_EQ(cm.count(2, 1), 3);
  cm.reset();
  EXPECT_EQ(cm.total(), 0);
  EXPECT_TRUE(std::isnan(cm.miou()));
  EXPECT_TRUE(std::isnan(cm.pixel_accuracy()));
}

TEST(DataMetrics, AbsentClassIsNanAndLeftOutOfTheMean) {
  // Class 3 is neither labelled nor predicted; class 2 is predicted but never labelled.
  ConfusionMatrix cm(4);
  const std::vector<int64_t> l = {0, 0, 1, 1};
  const std::vector<int64_t> p = {0, 2, 1, 1};
  cm.add(l.data(), p.data(), 4);
  const std::vector<double> iou = cm.iou();
  EXPECT_DOUBLE_EQ(iou[0], 0.5);
  EXPECT_DOUBLE_EQ(iou[1], 1.0);
  EXPECT_DOUBLE_EQ(iou[2], 0.0);
  EXPECT_TRUE(std::isnan(iou[3]));
  EXPECT_DOUBLE_EQ(cm.miou(), 0.5);  // (0.5 + 1 + 0) / 3
}

TEST(DataMetrics, OutOfRangeValuesAreErrors) {
  ConfusionMatrix cm(3);
  const std::vector<int64_t> l = {0, 3}, p = {0, 0};
  test::expect_error_naming([&] { cm.add(l.data(), p.data(), 2); }, {"label 3"});
  const std::vector<int64_t> l2 = {0, 1}, p2 = {0, -1};
  test::expect_error_naming([&] { cm.add(l2.data(), p2.data(), 2); }, {"prediction -1"});
  EXPECT_EQ(cm.total(), 0);  // a call that fails counts nothing
  const std::vector<int64_t> l3 = {255, 2}, p3 = {7, 1};  // ignored: the prediction is not looked at
  cm.add(l3.data(), p3.data(), 2);
  EXPECT_EQ(cm.total(), 1);
  EXPECT_EQ(cm.count(2, 1), 1);
}

TEST(DataMetrics, CudaCountsMatchCpu) {
  PMSDSEN_REQUIRE_CUDA();
  Generator gen(5);
  std::vector<int64_t> l(100000), p(100000);
  for (size_t i = 0; i < l.size(); ++i) {
    l[i] = gen.bernoulli(0.1) ? 255 : gen.randint(0, 18);
    p[i] = gen.randint(0, 18);
  }
  ConfusionMatrix cpu(19), gpu(19);
  cpu.add(l.data(), p.data(), static_cast<int64_t>(l.size()));
  gpu.add(Tensor::from_vector(l, {100000}).to(Device::cuda()),
          Tensor::from_vector(p, {100000}).to(Device::cuda()));
  EXPECT_EQ(gpu.counts(), cpu.counts());
  l[7] = 40;
  test::expect_error_naming([&] {
    gpu.add(Tensor::from_vector(l, {100000}).to(Device::cuda()),
            Tensor::from_vector(p, {100000}).to(Device::cuda()));
  }, {"outside"});
}

}  // namespace
}  // namespace pmsdsen::data
