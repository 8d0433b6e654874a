// Activations and softmax_groups: values against closed forms, PyTorch's branch at 0,
// the PReLU slope gradient, bad inputs, and (with a GPU) CUDA/CPU parity at realistic sizes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>

#include "autograd/engine.h"
#include "autograd/ops_activation.h"
#include "core/cpu/vec_math.h"
#include "core/safetensors.h"
#include "tests/test_op_fixtures.h"
#include "tests/test_util.h"

using namespace pmsdsen;

namespace {

Tensor leaf64(std::vector<double> v, Shape s) {
  Tensor t = Tensor::from_vector(v, s);
  t.set_requires_grad(true);
  return t;
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

}  // namespace

TEST(Gelu, ValuesAndDerivativeMatchTheErfForm) {
  Tensor x = leaf64({-3, -1, 0, 0.5, 1, 2}, {6});
  Tensor y = ops::gelu(x);
  // x * Phi(x), Phi from the standard normal table.
  expect_near(test::values(y),
              {-0.004049694094890317, -0.15865525393145707, 0.0, 0.34573123063700656, 0.8413447460685429, 1.9544997361036416},
              1e-9);
  backward(y, Tensor::ones({6}, DType::F64));
  // Phi(x) + x phi(x)
  std::vector<double> want;
  for (double v : {-3.0, -1.0, 0.0, 0.5, 1.0, 2.0})
    want.push_back(0.5 * (1 + std::erf(v / std::sqrt(2.0))) + v * std::exp(-v * v / 2) / std::sqrt(2 * M_PI));
  expect_near(test::values(x.grad()), want, 1e-14);
  EXPECT_NEAR(want[4], 1.0833154705876864, 1e-12);
}

TEST(Gelu, Float32IsAccurate) {
  Generator gen(1);
  Tensor x = test::random_tensor({4096}, gen, DType::F64, -6, 6);
  Tensor y64 = ops::gelu(x), y32 = ops::gelu(x.to(DType::F32));
  EXPECT_LT(test::max_rel_diff(y32, y64), 1e-6);
}

TEST(LeakyRelu, SlopeAppliesAtAndBelowZero) {
  Tensor x = leaf64({-2, -0.5, 0, 0.5, 3}, {5});
  Tensor y = ops::leaky_relu(x, 0.2);
  expect_near(test::values(y), {-0.4, -0.1, 0, 0.5, 3}, 1e-15);
  backward(y, Tensor::full({5}, 2.0, DType::F64));
  expect_near(test::values(x.grad()), {0.4, 0.4, 0.4, 2, 2}, 1e-15);  // x == 0 takes the slope, as PyTorch
}

TEST(Sigmoid, ValuesAndSaturation) {
  Tensor x = leaf64({-100, -1, 0, 2, 100}, {5});
  Tensor y = ops::sigmoid(x);
  expect_near(test::values(y), {0, 0.2689414213699951, 0.5, 0.8807970779778823, 1}, 1e-15);
  backward(y, Tensor::ones({5}, DType::F64));
  expect_near(test::values(x.grad()), {0, 0.19661193324148185, 0.25, 0.10499358540350662, 0}, 1e-15);
  Tensor y32 = ops::sigmoid(Tensor::from_vector<float>({-200.f, 200.f}, {2}));
  EXPECT_EQ(y32.to_vector<float>(), (std::vector<float>{0.f, 1.f}));
}

TEST(Prelu, PerChannelSlopeAndItsGradient) {
  // x [2, 2, 1, 2], slopes 0.25 and -0.5.
  Tensor x = leaf64({-1, 2, -3, 0, 4, -2, 1, -1}, {2, 2, 1, 2});
  Tensor a = leaf64({0.25, -0.5}, {2});
  Tensor y = ops::prelu(x, a);
  expect_near(test::values(y), {-0.25, 2, 1.5, 0, 4, -0.5, 1, 0.5}, 1e-15);
  Tensor gy = Tensor::from_vector<double>({1, 1, 2, 3, 1, 2, 1, -1}, {2, 2, 1, 2});
  backward(y, gy);
  expect_near(test::values(x.grad()), {0.25, 1, -1, -1.5, 1, 0.5, 1, 0.5}, 1e-15);
  // d/da[c] = sum over x <= 0 of x * gy: c0: -1*1 + -2*2 = -5; c1: -3*2 + 0*3 + -1*-1 = -5
  expect_near(test::values(a.grad()), {-5, -5}, 1e-15);
}

TEST(Prelu, SharedSlope) {
  Tensor x = leaf64({-1, 2, -3, 4}, {1, 2, 1, 2});
  Tensor a = leaf64({0.1}, {1});
  backward(ops::prelu(x, a), Tensor::ones({1, 2, 1, 2}, DType::F64));
  expect_near(test::values(a.grad()), {-4}, 1e-15);
}

TEST(SoftmaxGroups, SoftmaxAcrossTheTwoHalvesPerChannel) {
  // [1, 4, 1, 1], G = 2: pairs (x0, x2) and (x1, x3).
  Tensor x = leaf64({1, 0, 3, 0}, {1, 4, 1, 1});
  Tensor y = ops::softmax_groups(x, 2);
  const double e = 1.0 / (1.0 + std::exp(2.0));
  expect_near(test::values(y), {e, 0.5, 1 - e, 0.5}, 1e-15);
  backward(y, Tensor::from_vector<double>({1, 0, 0, 0}, {1, 4, 1, 1}));
  // d y0 / d x0 = y0 (1 - y0), d y0 / d x2 = -y0 y2
  expect_near(test::values(x.grad()), {e * (1 - e), 0, -e * (1 - e), 0}, 1e-15);
}

TEST(SoftmaxGroups, LargeLogitsDoNotOverflow) {
  Tensor y = ops::softmax_groups(Tensor::from_vector<float>({1000.f, 0.f, 999.f, 0.f}, {1, 4, 1, 1}), 2);
  const auto v = y.to_vector<float>();
  EXPECT_NEAR(v[0], 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(v[2], 1.0 / (1.0 + std::exp(1.0)), 1e-6);
}

TEST(Activations, BadInputsNameTheOp) {
  Tensor x = Tensor::zeros({2, 3, 4, 4});
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([&] { ops::prelu(x, Tensor::zeros({4})); }).find("prelu: slope must have shape [3]"), std::string::npos);
  EXPECT_NE(message([&] { ops::prelu(x, Tensor::zeros({3}, DType::F64)); }).find("prelu"), std::string::npos);
  EXPECT_NE(message([&] { ops::softmax_groups(x, 2); }).find("softmax_groups: 3 channels"), std::string::npos);
  EXPECT_NE(message([&] { ops::gelu(Tensor::zeros({3}, DType::I64)); }).find("gelu"), std::string::npos);
  EXPECT_NE(message([&] { ops::sigmoid(Tensor()); }).find("sigmoid"), std::string::npos);
}

TEST(ActivationsCuda, MatchCpuAtRealisticSizes) {
  PMSDSEN_REQUIRE_CUDA();
  Generator gen(31);
  const Shape shape = {3, 37, 65, 129};  // numel not a multiple of 4: the scalar path
  const Shape even = {2, 32, 64, 128};   // the float4 path
  for (const Shape& s : {shape, even}) {
    Tensor x = test::random_tensor(s, gen, DType::F32, -4, 4);
    Tensor gy = test::random_tensor(s, gen, DType::F32);
    Tensor slope = test::random_tensor({s[1]}, gen, DType::F32, 0, 0.5);
    auto run = [&](Device d, int which) {
      Tensor xx = x.detach().to(d), a = slope.detach().to(d);  // leaves of their own on the CPU too
      xx.set_requires_grad(true);
      a.set_requires_grad(true);
      Tensor y = which == 0   ? ops::gelu(xx)
                 : which == 1 ? ops::leaky_relu(xx, 0.2)
                 : which == 2 ? ops::sigmoid(xx)
                 : which == 3 ? ops::prelu(xx, a)
                              : ops::softmax_groups(xx, s[1] % 2 == 0 ? 2 : 1);
      backward(y, gy.to(d));
      return std::vector<Tensor>{y, xx.grad(), which == 3 ? a.grad() : Tensor()};
    };
    for (int which = 0; which < 5; ++which) {
      auto c = run(Device::cpu(), which), g = run(Device::cuda(), which);
      EXPECT_LT(test::max_rel_diff(g[0], c[0]), 1e-5) << "op " << which << " output " << shape_str(s);
      EXPECT_LT(test::max_rel_diff(g[1], c[1]), 1e-5) << "op " << which << " gx " << shape_str(s);
      if (which == 3) {
        EXPECT_LT(test::max_rel_diff(g[2], c[2]), 1e-4) << "prelu slope gradient";
        EXPECT_EQ(g[2].cpu().to_vector<float>(), run(Device::cuda(), 3)[2].cpu().to_vector<float>())
            << "prelu slope gradient is not reproducible";
      }
    }
  }
}

TEST(CpuVecMath, FloatExpAndErfAreAccurate) {
  double worst_exp = 0, worst_erf = 0;
  for (float x = -87.3f; x < 88.37f; x += 0.00731f) {
    const double want = std::exp(static_cast<double>(x));
    worst_exp = test::worse(worst_exp, std::abs(cpu::vexp(x) - want) / want);
  }
  for (float x = -7.f; x < 7.f; x += 0.000973f)
    worst_erf = test::worse(worst_erf, std::abs(cpu::verf(x) - std::erf(static_cast<double>(x))));
  EXPECT_LT(worst_exp, 2.5e-7);
  EXPECT_LT(worst_erf, 1e-6);
  EXPECT_EQ(cpu::vexp(0.f), 1.f);
  EXPECT_EQ(cpu::vexp(-1000.f), 0.f);
  EXPECT_EQ(cpu::vexp(-INFINITY), 0.f);
  EXPECT_EQ(cpu::vexp(1000.f), INFINITY);
  EXPECT_EQ(cpu::verf(0.f), 0.f);
  EXPECT_EQ(cpu::verf(10.f), 1.f);
  EXPECT_EQ(cpu::verf(-10.f), -1.f);
}

// ---- golden values from PyTorch (tests/fixtures/ops.safetensors) ----------------------------

TEST(ActivationFixtures, MatchPyTorch) {
  using Params = nlohmann::json;
  struct Op {
    const char* name;
    std::function<Tensor(const Tensor&, const Tensor&, const Params&)> run;
    bool slope;
  } table[] = {{"gelu", [](const Tensor& x, const Tensor&, const Params&) { return ops::gelu(x); }, false},
               {"leaky_relu", [](const Tensor& x, const Tensor&, const Params& p) { return ops::leaky_relu(x, p.at("negative_slope")); }, false},
               {"sigmoid", [](const Tensor& x, const Tensor&, const Params&) { return ops::sigmoid(x); }, false},
               {"prelu", [](const Tensor& x, const Tensor& w, const Params&) { return ops::prelu(x, w); }, true},
               {"softmax_groups", [](const Tensor& x, const Tensor&, const Params& p) { return ops::softmax_groups(x, p.at("groups")); }, false}};
  int checked = 0;
  for (const Op& op : table) {
    for (const std::string& name : test::fixture_cases(op.name)) {
      SCOPED_TRACE(name);
      Tensor x = test::fixture(name, "x", true);
      Tensor w = op.slope ? test::fixture(name, "w", true) : Tensor();
      Tensor y = op.run(x, w, test::fixture_params(name));
      backward(y, test::fixture(name, "gy"));
      test::expect_matches_fixture(y, name, "y");
      test::expect_matches_fixture(x.grad(), name, "gx");
      if (op.slope) test::expect_matches_fixture(w.grad(), name, "gw");
      ++checked;
    }
  }
  EXPECT_GE(checked, 6);
  EXPECT_EQ(test::fixture_params("softmax_groups_g3").at("groups").get<int>(), 3);
}
