// Batch normalisation: PyTorch's semantics on hand-computed cases, the running-statistic
// update, float32 accuracy, thread-count independence, bad inputs, and (with a GPU)
// CUDA/CPU parity and bit-identical gradients at realistic sizes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops_norm.h"
#include "core/parallel.h"
#include "core/safetensors.h"
#include "tests/test_op_fixtures.h"
#include "tests/test_util.h"

using namespace pmsdsen;

namespace {

Tensor f64(std::vector<double> v, Shape s) { return Tensor::from_vector(v, s); }

// Reference in double: y, and for upstream gy the gradients of x, weight, bias.
struct BnReference {
  std::vector<double> y, gx, gw, gb, mean, var;
};

BnReference bn_reference(const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>& b,
                         const std::vector<double>& gy, int64_t N, int64_t C, int64_t S, double eps) {
  BnReference r;
  r.y.resize(x.size());
  r.gx.resize(x.size());
  const double M = static_cast<double>(N * S);
  for (int64_t c = 0; c < C; ++c) {
    double mean = 0, var = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) mean += x[(n * C + c) * S + s];
    mean /= M;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) var += std::pow(x[(n * C + c) * S + s] - mean, 2);
    var /= M;
    const double is = 1.0 / std::sqrt(var + eps);
    double sg = 0, sgx = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t i = (n * C + c) * S + s;
        const double xh = (x[i] - mean) * is;
        r.y[i] = xh * w[c] + b[c];
        sg += gy[i];
        sgx += gy[i] * xh;
      }
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t i = (n * C + c) * S + s;
        const double xh = (x[i] - mean) * is;
        r.gx[i] = w[c] * is * (gy[i] - sg / M - xh * sgx / M);
      }
    r.gw.push_back(sgx);
    r.gb.push_back(sg);
    r.mean.push_back(mean);
    r.var.push_back(var);
  }
  return r;
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

}  // namespace

TEST(BatchNorm, TrainingNormalisesWithBiasedVarianceAndUpdatesRunningStats) {
  // One channel, values 1 2 3 6: mean 3, biased variance 3.5, unbiased 14/3.
  Tensor x = f64({1, 2, 3, 6}, {2, 1, 1, 2});
  Tensor w = f64({2.0}, {1}), b = f64({0.5}, {1});
  Tensor rm = f64({0.0}, {1}), rv = f64({1.0}, {1});
  Tensor y = ops::batch_norm(x, w, b, rm, rv, true, 0.1, 1e-5);
  const double is = 1.0 / std::sqrt(3.5 + 1e-5);
  const std::vector<double> expected = {-2 * 2 * is + 0.5, -1 * 2 * is + 0.5, 0.5, 3 * 2 * is + 0.5};
  const auto got = test::values(y);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(got[i], expected[i], 1e-12);
  EXPECT_NEAR(rm.item<double>(), 0.3, 1e-15);
  EXPECT_NEAR(rv.item<double>(), 0.9 + 0.1 * 14.0 / 3.0, 1e-15);
}

TEST(BatchNorm, RunningStatsFollowMomentumOverSeveralSteps) {
  Generator gen(3);
  Tensor rm = f64({0.5, -1.0, 2.0}, {3}), rv = f64({1.0, 2.0, 0.5}, {3});
  std::vector<double> erm = {0.5, -1.0, 2.0}, erv = {1.0, 2.0, 0.5};
  for (int step = 0; step < 3; ++step) {
    Tensor x = test::random_tensor({4, 3, 5, 3}, gen, DType::F64, -2, 3);
    const auto xv = test::values(x);
    const BnReference r = bn_reference(xv, {1, 1, 1}, {0, 0, 0}, xv, 4, 3, 15, 1e-5);
    for (int c = 0; c < 3; ++c) {
      erm[c] = 0.9 * erm[c] + 0.1 * r.mean[c];
      erv[c] = 0.9 * erv[c] + 0.1 * r.var[c] * 60.0 / 59.0;
    }
    ops::batch_norm(x, Tensor(), Tensor(), rm, rv, true, 0.1, 1e-5);
  }
  EXPECT_LT(max_abs_diff(test::values(rm), erm), 1e-12);
  EXPECT_LT(max_abs_diff(test::values(rv), erv), 1e-12);
}

TEST(BatchNorm, EvaluationUsesRunningStatsAndLeavesThemAlone) {
  Tensor x = f64({1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 2, 2});
  Tensor w = f64({1.5, -1.0}, {2}), b = f64({0.25, 1.0}, {2});
  Tensor rm = f64({2.0, 6.0}, {2}), rv = f64({4.0, 0.25}, {2});
  Tensor y = ops::batch_norm(x, w, b, rm, rv, false, 0.1, 1e-3);
  const auto got = test::values(y);
  for (int i = 0; i < 8; ++i) {
    const int c = i / 4;
    const double mean = c ? 6.0 : 2.0, var = c ? 0.25 : 4.0, ww = c ? -1.0 : 1.5, bb = c ? 1.0 : 0.25;
    EXPECT_NEAR(got[i], (i + 1 - mean) / std::sqrt(var + 1e-3) * ww + bb, 1e-12);
  }
  EXPECT_EQ(test::values(rm), (std::vector<double>{2.0, 6.0}));
  EXPECT_EQ(test::values(rv), (std::vector<double>{4.0, 0.25}));
}

TEST(BatchNorm, FrozenModeGradientIsTheEvaluationFormula) {
  // training=false while the network trains: gx = gy * w / sqrt(rv + eps), gw = sum gy xhat.
  Tensor x = f64({1, 2, 3, 4}, {2, 1, 1, 2});
  x.set_requires_grad(true);
  Tensor w = f64({3.0}, {1});
  w.set_requires_grad(true);
  Tensor b = f64({0.0}, {1});
  b.set_requires_grad(true);
  Tensor rm = f64({1.0}, {1}), rv = f64({3.0}, {1});
  Tensor y = ops::batch_norm(x, w, b, rm, rv, false, 0.1, 1.0);
  backward(y, f64({1, -1, 2, 0.5}, {2, 1, 1, 2}));
  const double is = 0.5;  // 1 / sqrt(3 + 1)
  const auto gx = test::values(x.grad());
  EXPECT_NEAR(gx[0], 3 * is, 1e-15);
  EXPECT_NEAR(gx[1], -3 * is, 1e-15);
  EXPECT_NEAR(gx[2], 6 * is, 1e-15);
  EXPECT_NEAR(test::values(w.grad())[0], (0 * 1 + 1 * -1 + 2 * 2 + 3 * 0.5) * is, 1e-15);
  EXPECT_NEAR(test::values(b.grad())[0], 2.5, 1e-15);
  EXPECT_EQ(rm.item<double>(), 1.0);
}

TEST(BatchNorm, TrainingMatchesReferenceAcrossSeveralPiecesPerPlane) {
  // 130 x 131 = 17030 elements per plane: two reduction pieces, uneven.
  Generator gen(11);
  const int64_t N = 2, C = 3, S = 130 * 131;
  Tensor x = test::random_tensor({N, C, 130, 131}, gen, DType::F64, -1, 2);
  Tensor w = test::random_tensor({C}, gen, DType::F64, 0.5, 1.5);
  Tensor b = test::random_tensor({C}, gen, DType::F64);
  Tensor gy = test::random_tensor(x.shape(), gen, DType::F64);
  Tensor rm = Tensor::zeros({C}, DType::F64), rv = Tensor::ones({C}, DType::F64);
  x.set_requires_grad(true);
  w.set_requires_grad(true);
  b.set_requires_grad(true);
  Tensor y = ops::batch_norm(x, w, b, rm, rv, true, 0.1, 1e-5);
  backward(y, gy);
  const BnReference r = bn_reference(test::values(x), test::values(w), test::values(b), test::values(gy), N, C, S, 1e-5);
  EXPECT_LT(max_abs_diff(test::values(y), r.y), 1e-11);
  EXPECT_LT(max_abs_diff(test::values(x.grad()), r.gx), 1e-11);
  EXPECT_LT(max_abs_diff(test::values(w.grad()), r.gw), 1e-9);
  EXPECT_LT(max_abs_diff(test::values(b.grad()), r.gb), 1e-9);
}

TEST(BatchNorm, Float32StatisticsStayAccurateWithALargeMean) {
  // Mean 1000, std 0.5: a one-pass E[x^2] - E[x]^2 in float would lose the variance.
  Generator gen(5);
  Tensor x64 = test::random_tensor({12, 2, 64, 96}, gen, DType::F64, 999.0, 1001.0);
  const auto xv = test::values(x64);
  Tensor rm = Tensor::zeros({2}), rv = Tensor::zeros({2});
  Tensor y = ops::batch_norm(x64.to(DType::F32), Tensor(), Tensor(), rm, rv, true, 1.0, 1e-5);
  const BnReference r = bn_reference(xv, {1, 1}, {0, 0}, xv, 12, 2, 64 * 96, 1e-5);
  const auto var = test::values(rv);
  const double M = 12.0 * 64 * 96;
  for (int c = 0; c < 2; ++c) EXPECT_NEAR(var[c], r.var[c] * M / (M - 1), 1e-4 * r.var[c]);
  EXPECT_LT(max_abs_diff(test::values(y), r.y), 2e-3);  // inputs themselves carry float rounding of 1000
}

TEST(BatchNorm, ResultsDoNotDependOnTheThreadCount) {
  Generator gen(8);
  Tensor x = test::random_tensor({3, 4, 150, 120}, gen, DType::F32);
  Tensor gy = test::random_tensor(x.shape(), gen, DType::F32);
  auto run = [&](int threads) {
    const int saved = num_threads();
    set_num_threads(threads);
    Tensor xx = x.clone();
    xx.set_requires_grad(true);
    Tensor w = Tensor::ones({4});
    w.set_requires_grad(true);
    Tensor rm = Tensor::zeros({4}), rv = Tensor::ones({4});
    Tensor y = ops::batch_norm(xx, w, Tensor(), rm, rv, true, 0.1, 1e-5);
    backward(y, gy);
    set_num_threads(saved);
    return std::vector<std::vector<float>>{y.to_vector<float>(), xx.grad().to_vector<float>(),
                                           w.grad().to_vector<float>(), rv.to_vector<float>()};
  };
  EXPECT_EQ(run(1), run(2));
}

TEST(BatchNorm, BadInputsNameTheOp) {
  Tensor x = Tensor::zeros({2, 3, 4, 4});
  Tensor rm = Tensor::zeros({3}), rv = Tensor::ones({3});
  Tensor none;
  auto expect_error = [](auto&& f, const char* fragment) {
    try {
      f();
      ADD_FAILURE() << "expected an error mentioning " << fragment;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("batch_norm"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_error([&] { Tensor w = Tensor::ones({4}); ops::batch_norm(x, w, Tensor(), rm, rv, true); }, "[2, 3, 4, 4]");
  expect_error([&] { ops::batch_norm(x, Tensor(), Tensor(), none, none, false); }, "running_mean");
  expect_error([&] {
    Tensor one = Tensor::zeros({1, 3, 1, 1});
    ops::batch_norm(one, Tensor(), Tensor(), rm, rv, true);
  }, "more than 1 value");
  expect_error([&] {
    Tensor r64 = Tensor::zeros({3}, DType::F64);
    ops::batch_norm(x, Tensor(), Tensor(), r64, rv, true);
  }, "running_mean");
  expect_error([&] { Tensor v = Tensor::zeros({3}); ops::batch_norm(v, Tensor(), Tensor(), rm, rv, true); }, "[N, C");
}

TEST(BatchNormCuda, MatchesCpuAtRealisticSizes) {
  PMSDSEN_REQUIRE_CUDA();
  Generator gen(21);
  for (bool training : {true, false}) {
    const Shape shape = {3, 37, 65, 129};
    Tensor x = test::random_tensor(shape, gen, DType::F32, -2, 3);
    Tensor w = test::random_tensor({37}, gen, DType::F32, 0.5, 1.5);
    Tensor b = test::random_tensor({37}, gen, DType::F32);
    Tensor gy = test::random_tensor(shape, gen, DType::F32);
    Tensor rm0 = test::random_tensor({37}, gen, DType::F32), rv0 = test::random_tensor({37}, gen, DType::F32, 0.5, 2);
    std::vector<std::vector<Tensor>> results;
    for (Device d : {Device::cpu(), Device::cuda()}) {
      Tensor xx = x.detach().to(d), ww = w.detach().to(d), bb = b.detach().to(d), rm = rm0.clone().to(d), rv = rv0.clone().to(d);
      xx.set_requires_grad(true);
      ww.set_requires_grad(true);
      bb.set_requires_grad(true);
      Tensor y = ops::batch_norm(xx, ww, bb, rm, rv, training, 0.1, 1e-5);
      backward(y, gy.to(d));
      results.push_back({y, xx.grad(), ww.grad(), bb.grad(), rm, rv});
    }
    const char* names[] = {"y", "gx", "gweight", "gbias", "running_mean", "running_var"};
    for (int i = 0; i < 6; ++i)
      EXPECT_LT(test::max_rel_diff(results[1][i], results[0][i]), i == 2 || i == 3 ? 1e-4 : 1e-5)
          << names[i] << (training ? " training" : " eval");
  }
}

TEST(BatchNormCuda, GradientsAreBitIdenticalRunToRun) {
  PMSDSEN_REQUIRE_CUDA();
  Generator gen(22);
  Tensor x = test::random_tensor({12, 32, 128, 256}, gen, DType::F32).to(Device::cuda());
  Tensor gy = test::random_tensor(x.shape(), gen, DType::F32).to(Device::cuda());
  auto run = [&] {
    Tensor xx = x.detach().clone();
    xx.set_requires_grad(true);
    Tensor w = Tensor::ones({32}, DType::F32, Device::cuda()), b = Tensor::zeros({32}, DType::F32, Device::cuda());
    w.set_requires_grad(true);
    b.set_requires_grad(true);
    Tensor rm = Tensor::zeros({32}, DType::F32, Device::cuda()), rv = Tensor::ones({32}, DType::F32, Device::cuda());
    backward(ops::batch_norm(xx, w, b, rm, rv, true, 0.1, 1e-5), gy);
    return std::vector<std::vector<float>>{w.grad().to_vector<float>(), b.grad().to_vector<float>(),
                                           xx.grad().to_vector<float>(), rv.to_vector<float>()};
  };
  EXPECT_EQ(run(), run());
}

// ---- golden values from PyTorch (tests/fixtures/ops.safetensors) ----------------------------

TEST(BatchNormFixtures, MatchPyTorch) {
  const std::vector<std::string> names = test::fixture_cases("batch_norm");
  EXPECT_GE(names.size(), 5u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const auto p = test::fixture_params(name);
    Tensor x = test::fixture(name, "x", true), w = test::fixture(name, "w", true), b = test::fixture(name, "b", true);
    Tensor rm = test::fixture(name, "running_mean"), rv = test::fixture(name, "running_var");
    Tensor y = ops::batch_norm(x, w, b, rm, rv, p.at("training").get<bool>(), p.at("momentum").get<double>(),
                               p.at("eps").get<double>());
    backward(y, test::fixture(name, "gy"));
    test::expect_matches_fixture(y, name, "y");
    test::expect_matches_fixture(x.grad(), name, "gx");
    test::expect_matches_fixture(w.grad(), name, "gw");
    test::expect_matches_fixture(b.grad(), name, "gb");
    test::expect_matches_fixture(rm, name, "running_mean_out");
    test::expect_matches_fixture(rv, name, "running_var_out");
  }
}
