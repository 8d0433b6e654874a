// The training loss of the three outputs, and the training-mode input checks.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/grad_mode.h"
#include "layers/batchnorm.h"
#include "models/loss.h"
#include "tests/test_util.h"

using namespace pmsdsen;

namespace {

// Mean (or class-weighted mean) cross-entropy in double, straight from the definition.
double reference_ce(const Tensor& logits, const Tensor& target, const std::vector<double>& w) {
  const std::vector<double> l = test::values(logits);
  const std::vector<int64_t> t = target.to_vector<int64_t>();
  const int64_t n = logits.size(0), k = logits.size(1), hw = logits.size(2) * logits.size(3);
  double num = 0, den = 0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t p = 0; p < hw; ++p) {
      const int64_t label = t[b * hw + p];
      if (label == 255) continue;
      double mx = -1e300, s = 0;
      for (int64_t c = 0; c < k; ++c) mx = std::max(mx, l[(b * k + c) * hw + p]);
      for (int64_t c = 0; c < k; ++c) s += std::exp(l[(b * k + c) * hw + p] - mx);
      const double nll = std::log(s) + mx - l[(b * k + label) * hw + p];
      const double wt = w.empty() ? 1.0 : w[label];
      num += wt * nll;
      den += wt;
    }
  return num / den;
}

}  // namespace

TEST(ModelLoss, SumOfTheThreeCrossEntropiesWithWeights) {
  Generator gen(7);
  PmsdsenOutput out{test::random_tensor({2, 5, 4, 6}, gen, DType::F32, -3, 3),
                    test::random_tensor({2, 5, 4, 6}, gen, DType::F32, -3, 3),
                    test::random_tensor({2, 5, 4, 6}, gen, DType::F32, -3, 3)};
  std::vector<int64_t> labels(2 * 4 * 6);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = i % 7 == 3 ? 255 : gen.randint(0, 4);
  const Tensor target = Tensor::from_vector(labels, {2, 4, 6});
  const std::vector<double> w = {0.5, 2.0, 1.0, 3.0, 0.25};

  SegLoss plain = segmentation_loss(out, target);
  SegLossOptions weighted;
  weighted.class_weights = Tensor::from_vector(std::vector<float>(w.begin(), w.end()), {5});
  SegLoss wl = segmentation_loss(out, target, weighted);
  double sum_plain = 0, sum_weighted = 0;
  const Tensor* o[3] = {&out.logits, &out.aux_x4, &out.aux_x8};
  for (int i = 0; i < 3; ++i) {
    const double p = reference_ce(*o[i], target, {}), q = reference_ce(*o[i], target, w);
    EXPECT_NEAR(plain.parts[i].item_double(), p, 1e-5 * p) << i;
    EXPECT_NEAR(wl.parts[i].item_double(), q, 1e-5 * q) << i;
    sum_plain += p;
    sum_weighted += q;
  }
  EXPECT_NEAR(plain.total.item_double(), sum_plain, 1e-5 * sum_plain);
  EXPECT_NEAR(wl.total.item_double(), sum_weighted, 1e-5 * sum_weighted);
  // Other integer label dtypes are accepted too.
  EXPECT_NEAR(segmentation_loss(out, target.to(DType::I32)).total.item_double(), sum_plain, 1e-5 * sum_plain);

  SegLossOptions ohem;
  ohem.ohem = true;
  const double ohem_loss = segmentation_loss(out, target, ohem).total.item_double();
  EXPECT_TRUE(std::isfinite(ohem_loss));
  EXPECT_GT(ohem_loss, 0.0);
}

TEST(ModelLoss, BadTargetsAreRejected) {
  PmsdsenOutput out{Tensor::zeros({1, 3, 8, 8}), Tensor::zeros({1, 3, 8, 8}), Tensor::zeros({1, 3, 8, 8})};
  EXPECT_THROW(segmentation_loss(out, Tensor::zeros({1, 8, 9}, DType::I64)), Error);
  PmsdsenOutput prediction_only{Tensor::zeros({1, 3, 8, 8}), Tensor(), Tensor()};
  EXPECT_THROW(segmentation_loss(prediction_only, Tensor::zeros({1, 8, 8}, DType::I64)), Error);
  Tensor t = Tensor::zeros({1, 8, 8}, DType::I64);
  t.data<int64_t>()[3] = 3;
  try {
    check_labels(t, 3, 255, "labels.png");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("labels.png: label 3 (element 3)"), std::string::npos) << e.what();
  }
  t.data<int64_t>()[3] = 255;
  check_labels(t, 3, 255, "labels.png");
}

TEST(ModelLoss, TrainingModeNeedsTwoImagesUnlessBatchNormIsFrozen) {
  PMSDSEN net;
  net.train();
  autograd::NoGradGuard no_grad;
  try {
    net.run(Tensor::zeros({1, 3, 16, 16}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at least 2 images"), std::string::npos) << e.what();
  }
  freeze_batch_norm(net);
  EXPECT_EQ(net.run(Tensor::zeros({1, 3, 16, 16})).logits.shape(), (Shape{1, 19, 16, 16}));
}
