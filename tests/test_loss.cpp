// Cross-entropy: PyTorch's weighted mean with ignored pixels, the all-ignored case,
// gradients by hand, the authors' OHEM selection on a hand-built case in each regime,
// argmax_channels, bad inputs, and (with a GPU) CUDA/CPU parity and reproducibility.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops_argmax.h"
#include "autograd/ops_loss.h"
#include "core/safetensors.h"
#include "tests/test_op_fixtures.h"
#include "tests/test_util.h"

using namespace pmsdsen;

namespace {

Tensor targets(std::vector<int64_t> v, Shape s) { return Tensor::from_vector(v, s); }

// Two-class logits [1, 2, 1, P] whose class-0 probability is p[i] (logits 0 and log((1-p)/p)).
Tensor logits_with_class0_probability(const std::vector<double>& p) {
  const int64_t P = static_cast<int64_t>(p.size());
  std::vector<double> v(2 * P);
  for (int64_t i = 0; i < P; ++i) {
    v[i] = 0.0;
    v[P + i] = std::log((1 - p[i]) / p[i]);
  }
  return Tensor::from_vector(v, {1, 2, 1, P});
}

}  // namespace

TEST(CrossEntropy, IgnoredPixelsAreLeftOut) {
  // Pixels: (2, 0) target 0, (1, 3) target 255.
  Tensor x = Tensor::from_vector<double>({2, 1, 0, 3}, {1, 2, 1, 2});
  x.set_requires_grad(true);
  Tensor loss = ops::cross_entropy(x, targets({0, 255}, {1, 1, 2}));
  EXPECT_EQ(loss.dim(), 0);
  EXPECT_NEAR(loss.item<double>(), std::log(1 + std::exp(-2.0)), 1e-15);
  backward(loss);
  const double p0 = 1 / (1 + std::exp(-2.0));
  const auto g = test::values(x.grad());  // layout [k][pixel]
  EXPECT_NEAR(g[0], p0 - 1, 1e-15);
  EXPECT_NEAR(g[2], 1 - p0, 1e-15);
  EXPECT_EQ(g[1], 0);
  EXPECT_EQ(g[3], 0);
}

TEST(CrossEntropy, WeightedMeanDividesByTheSumOfWeights) {
  // Three pixels with targets 0, 1, 1 and class weights 2, 0.5.
  Tensor x = Tensor::from_vector<double>({0, 1, 2, 1, 0, -1}, {1, 2, 1, 3});
  x.set_requires_grad(true);
  ops::CrossEntropyOptions o;
  o.class_weights = Tensor::from_vector<double>({2.0, 0.5}, {2});
  Tensor loss = ops::cross_entropy(x, targets({0, 1, 1}, {1, 1, 3}), o);
  auto nll = [](double xt, double xo) { return std::log(std::exp(xt) + std::exp(xo)) - xt; };
  const double want = (2 * nll(0, 1) + 0.5 * nll(0, 1) + 0.5 * nll(-1, 2)) / 3.0;
  EXPECT_NEAR(loss.item<double>(), want, 1e-15);
  backward(loss);
  // Pixel 0 (target 0, weight 2): d/dx0 = 2/3 * (softmax0 - 1).
  const double s0 = std::exp(0.0) / (std::exp(0.0) + std::exp(1.0));
  EXPECT_NEAR(test::values(x.grad())[0], 2.0 / 3.0 * (s0 - 1), 1e-15);
}

TEST(CrossEntropy, NothingCountedGivesZeroAndZeroGradient) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {1, 2, 1, 2});
  x.set_requires_grad(true);
  Tensor loss = ops::cross_entropy(x, targets({255, 255}, {1, 1, 2}));
  EXPECT_EQ(loss.item<float>(), 0.f);
  backward(loss);
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 0, 0, 0}));
}

TEST(CrossEntropy, Float32IsStableForLargeLogits) {
  Tensor x = Tensor::from_vector<float>({1000.f, 0.f, -1000.f, 10.f}, {1, 2, 1, 2});
  Tensor loss = ops::cross_entropy(x, targets({1, 0}, {1, 1, 2}));
  EXPECT_NEAR(loss.item<float>(), (1000.0 + 1010.0) / 2, 1e-3);
}

TEST(CrossEntropy, OtherIgnoreIndexInsideTheClassRange) {
  Tensor x = Tensor::from_vector<double>({2, 1, 0, 3}, {1, 2, 1, 2});
  ops::CrossEntropyOptions o;
  o.ignore_index = 1;
  EXPECT_NEAR(ops::cross_entropy(x, targets({0, 1}, {1, 1, 2}), o).item<double>(), std::log(1 + std::exp(-2.0)), 1e-15);
}

TEST(OhemCrossEntropy, ThresholdDecidesWhenEnoughPixelsAreHard) {
  // Target probabilities 0.1 0.3 0.5 0.75 0.9 and one ignored pixel. min_kept 2: the
  // sorted[2] = 0.5 < 0.7, so the threshold is 0.7 and 0.1, 0.3, 0.5 are kept.
  Tensor x = logits_with_class0_probability({0.1, 0.3, 0.5, 0.75, 0.9, 0.2});
  x.set_requires_grad(true);
  ops::CrossEntropyOptions o;
  o.ohem = true;
  o.ohem_threshold = 0.7;
  o.ohem_min_kept = 2;
  Tensor loss = ops::cross_entropy(x, targets({0, 0, 0, 0, 0, 255}, {1, 1, 6}), o);
  EXPECT_NEAR(loss.item<double>(), -(std::log(0.1) + std::log(0.3) + std::log(0.5)) / 3, 1e-14);
  backward(loss);
  const auto g = test::values(x.grad());
  EXPECT_NEAR(g[0], (0.1 - 1) / 3, 1e-14);  // kept
  EXPECT_EQ(g[3], 0);                       // 0.75: easy, dropped
  EXPECT_EQ(g[5], 0);                       // ignored
}

TEST(OhemCrossEntropy, MinKeptRaisesTheThreshold) {
  // min_kept 4: sorted[4] = 0.9 > 0.7 becomes the threshold; p < 0.9 keeps four pixels.
  Tensor x = logits_with_class0_probability({0.1, 0.3, 0.5, 0.75, 0.9, 0.2});
  ops::CrossEntropyOptions o;
  o.ohem = true;
  o.ohem_min_kept = 4;
  const double want = -(std::log(0.1) + std::log(0.3) + std::log(0.5) + std::log(0.75)) / 4;
  EXPECT_NEAR(ops::cross_entropy(x, targets({0, 0, 0, 0, 0, 255}, {1, 1, 6}), o).item<double>(), want, 1e-14);
  // min_kept beyond the counted pixels: the largest probability (0.9) is the threshold.
  o.ohem_min_kept = 100;
  EXPECT_NEAR(ops::cross_entropy(x, targets({0, 0, 0, 0, 0, 255}, {1, 1, 6}), o).item<double>(), want, 1e-14);
}

TEST(OhemCrossEntropy, WeightsScaleThePixelLossesButTheMeanIsPlain) {
  // Targets 0 0 1 with weights 3 and 0.5; probabilities of the targets 0.2, 0.4, 0.6.
  Tensor x = logits_with_class0_probability({0.2, 0.4, 0.4});  // pixel 2: class 1 has 0.6
  ops::CrossEntropyOptions o;
  o.ohem = true;
  o.ohem_min_kept = 0;
  o.class_weights = Tensor::from_vector<double>({3.0, 0.5}, {2});
  const double want = (3 * -std::log(0.2) + 3 * -std::log(0.4) + 0.5 * -std::log(0.6)) / 3;
  EXPECT_NEAR(ops::cross_entropy(x, targets({0, 0, 1}, {1, 1, 3}), o).item<double>(), want, 1e-14);
}

TEST(OhemCrossEntropy, NothingKeptGivesZero) {
  Tensor x = logits_with_class0_probability({0.9, 0.95});
  x.set_requires_grad(true);
  ops::CrossEntropyOptions o;
  o.ohem = true;
  o.ohem_min_kept = 0;  // sorted[0] = 0.9 -> threshold 0.9: nothing below it
  Tensor loss = ops::cross_entropy(x, targets({0, 0}, {1, 1, 2}), o);
  EXPECT_EQ(loss.item<double>(), 0.0);
  backward(loss);
  for (double g : test::values(x.grad())) EXPECT_EQ(g, 0.0);
}

TEST(ArgmaxChannels, FirstMaximumAndNan) {
  Tensor x = Tensor::from_vector<float>({1, 5, 2, NAN,  //
                                         3, 5, 2, 0,    //
                                         3, 1, 7, 9},
                                        {1, 3, 2, 2});
  Tensor a = ops::argmax_channels(x);
  EXPECT_EQ(a.dtype(), DType::I64);
  EXPECT_EQ(a.shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(a.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 2, 0}));
}

TEST(CrossEntropy, BadInputsNameTheOp) {
  Tensor x = Tensor::zeros({2, 5, 3, 4});
  Tensor t = Tensor::zeros({2, 3, 4}, DType::I64);
  ops::CrossEntropyOptions o;
  EXPECT_NE(test::error_of([&] { ops::cross_entropy(x, Tensor::zeros({2, 3, 4}, DType::F32)); }).find("cross_entropy: target must be int64"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { ops::cross_entropy(x, Tensor::zeros({2, 4, 3}, DType::I64)); }).find("does not match logits [2, 5, 3, 4]"),
            std::string::npos);
  o.class_weights = Tensor::ones({4});
  EXPECT_NE(test::error_of([&] { ops::cross_entropy(x, t, o); }).find("class_weights must be a float tensor of shape [5]"),
            std::string::npos);
  Tensor bad = targets(std::vector<int64_t>(24, 255), {2, 3, 4});
  bad.data<int64_t>()[7] = 5;
  bad.data<int64_t>()[9] = -1;
  const std::string msg = test::error_of([&] { ops::cross_entropy(x, bad); });
  EXPECT_NE(msg.find("cross_entropy: 2 target values"), std::string::npos) << msg;
  o = {};
  o.ohem = true;
  o.ohem_min_kept = -1;
  EXPECT_NE(test::error_of([&] { ops::cross_entropy(x, t, o); }).find("cross_entropy (ohem): ohem_min_kept"), std::string::npos);
}

TEST(CrossEntropyCuda, MatchesCpuAndIsReproducible) {
  PMSDSEN_REQUIRE_CUDA();
  Generator gen(61);
  const Shape shape = {3, 19, 65, 129};
  Tensor x = test::random_tensor(shape, gen, DType::F32, -4, 4);
  std::vector<int64_t> tv(3 * 65 * 129);
  for (int64_t& t : tv) t = gen.uniform() < 0.1 ? 255 : gen.randint(0, 18);
  Tensor t = Tensor::from_vector(tv, {3, 65, 129});
  std::vector<double> w(19);
  for (double& v : w) v = gen.uniform(0.5, 10);
  for (int mode = 0; mode < 4; ++mode) {
    ops::CrossEntropyOptions o;
    if (mode == 1 || mode == 3) o.class_weights = Tensor::from_vector(w, {19});
    o.ohem = mode >= 2;
    o.ohem_min_kept = 3 * 65 * 129 / 16;
    std::vector<Tensor> out;
    for (int run = 0; run < 3; ++run) {
      const Device d = run == 0 ? Device::cpu() : Device::cuda();
      Tensor xx = x.detach().to(d);  // a leaf of its own: on the CPU, to() returns x itself
      xx.set_requires_grad(true);
      Tensor loss = ops::cross_entropy(xx, t.to(d), o);
      backward(loss);
      out.push_back(loss);
      out.push_back(xx.grad());
    }
    EXPECT_LT(test::max_rel_diff(out[2], out[0]), 1e-5) << "mode " << mode << " loss";
    EXPECT_LT(test::max_rel_diff(out[3], out[1]), 1e-4) << "mode " << mode << " gradient";
    EXPECT_EQ(out[2].cpu().item<float>(), out[4].cpu().item<float>()) << "mode " << mode;
    EXPECT_EQ(out[3].cpu().to_vector<float>(), out[5].cpu().to_vector<float>()) << "mode " << mode;
  }
  EXPECT_EQ(ops::argmax_channels(x.to(Device::cuda())).cpu().to_vector<int64_t>(),
            ops::argmax_channels(x).to_vector<int64_t>());
  Tensor bad = t.clone();
  bad.data<int64_t>()[5] = 19;
  EXPECT_NE(test::error_of([&] { ops::cross_entropy(x.to(Device::cuda()), bad.to(Device::cuda())); }).find("1 target values"),
            std::string::npos);
}

// ---- golden values from PyTorch (tests/fixtures/ops.safetensors) ----------------------------

TEST(CrossEntropyFixtures, MatchPyTorchAndTheAuthorsOhem) {
  const std::vector<std::string> names = test::fixture_cases("cross_entropy");
  EXPECT_GE(names.size(), 4u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const auto p = test::fixture_params(name);
    ops::CrossEntropyOptions o;
    o.ignore_index = p.at("ignore_index");
    if (p.at("ohem").get<bool>()) {
      o.ohem = true;
      o.ohem_threshold = p.at("thresh");
      o.ohem_min_kept = p.at("min_kept");
    }
    if (p.at("tensors").dump().find("\"weight\"") != std::string::npos) o.class_weights = test::fixture(name, "weight");
    Tensor x = test::fixture(name, "x", true);
    Tensor loss = ops::cross_entropy(x, test::fixture(name, "target"), o);
    backward(loss, test::fixture(name, "gy").view({}));
    test::expect_matches_fixture(loss, name, "y");
    test::expect_matches_fixture(x.grad(), name, "gx");
  }
  // The two OHEM cases really are in different regimes.
  EXPECT_EQ(test::fixture_params("ohem_threshold").at("regime"), "threshold");
  EXPECT_EQ(test::fixture_params("ohem_min_kept").at("regime"), "min_kept");
}
