// Pooling: PyTorch's output sizes (floor mode), count_include_pad, the first-maximum
// tie-break and NaN propagation, gradients on hand-computed cases, bad inputs, and (with a
// GPU) CUDA/CPU parity at realistic sizes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <numeric>

#include "autograd/engine.h"
#include "autograd/ops_pool.h"
#include "core/safetensors.h"
#include "tests/test_op_fixtures.h"
#include "tests/test_util.h"
#include "autograd/ops_basic.h"

using namespace pmsdsen;

namespace {

// Average pooling straight from the definition, in double.
std::vector<double> avg_reference(const std::vector<double>& x, int H, int W, int k, int s, int p, int OH, int OW) {
  std::vector<double> y;
  for (int oh = 0; oh < OH; ++oh)
    for (int ow = 0; ow < OW; ++ow) {
      double acc = 0;
      for (int i = 0; i < k; ++i)
        for (int j = 0; j < k; ++j) {
          const int h = oh * s - p + i, w = ow * s - p + j;
          if (h >= 0 && h < H && w >= 0 && w < W) acc += x[h * W + w];
        }
      y.push_back(acc / (k * k));  // floor mode: windows stay inside the padded input
    }
  return y;
}

}  // namespace

TEST(Pooling, OutputSizesFollowFloorMode) {
  struct Case {
    int64_t H, W, k, s, p, OH, OW;
  } cases[] = {{7, 9, 2, 2, 0, 3, 4},   {7, 9, 3, 2, 1, 4, 5},   {7, 9, 5, 2, 2, 4, 5},
               {9, 13, 9, 4, 4, 3, 4},  {4, 8, 17, 8, 8, 1, 1},  {19, 21, 17, 8, 8, 3, 3},
               {32, 64, 17, 8, 8, 4, 8}, {64, 128, 3, 2, 1, 32, 64}};
  for (const Case& c : cases) {
    Tensor x = Tensor::zeros({1, 1, c.H, c.W});
    EXPECT_EQ(ops::avg_pool2d(x, c.k, c.s, c.p).shape(), (Shape{1, 1, c.OH, c.OW})) << c.H << "x" << c.W << " k" << c.k;
    EXPECT_EQ(ops::max_pool2d(x, c.k, c.s, c.p).shape(), (Shape{1, 1, c.OH, c.OW})) << c.H << "x" << c.W << " k" << c.k;
  }
}

TEST(AvgPool, CountsPaddedZerosInTheDivisor) {
  // 4x4 of 1..16, 3x3 / s2 / p1: the corner window holds 1 2 5 6 and divides by 9.
  Tensor y = ops::avg_pool2d(test::arange({1, 1, 4, 4}, 1), 3, 2, 1);
  const std::vector<double> want = {(1 + 2 + 5 + 6) / 9.0, (2 + 3 + 4 + 6 + 7 + 8) / 9.0,
                                    (5 + 6 + 9 + 10 + 13 + 14) / 9.0, (6 + 7 + 8 + 10 + 11 + 12 + 14 + 15 + 16) / 9.0};
  const auto got = test::values(y);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(got[i], want[i], 1e-14);
}

TEST(AvgPool, KernelLargerThanTheInput) {
  // MSSE's (17, 8, 8) pool on a 4x8 map: one output, the whole map over 17*17.
  Tensor x = test::arange({2, 3, 4, 8}, 1);
  x.set_requires_grad(true);
  Tensor y = ops::avg_pool2d(x, 17, 8, 8);
  ASSERT_EQ(y.shape(), (Shape{2, 3, 1, 1}));
  EXPECT_NEAR(test::values(y)[0], (32 * 33 / 2) / 289.0, 1e-14);
  backward(y, Tensor::ones(y.shape(), DType::F64));
  for (double g : test::values(x.grad())) EXPECT_NEAR(g, 1.0 / 289.0, 1e-16);
}

TEST(AvgPool, MatchesTheDefinitionForEveryMsseConfiguration) {
  Generator gen(2);
  struct Case {
    int H, W, k, s, p;
  } cases[] = {{7, 9, 2, 2, 0}, {7, 9, 3, 2, 1}, {13, 11, 5, 2, 2}, {21, 19, 9, 4, 4}, {37, 29, 17, 8, 8}, {4, 8, 17, 8, 8}};
  for (const Case& c : cases) {
    Tensor x = test::random_tensor({1, 1, c.H, c.W}, gen);
    Tensor y = ops::avg_pool2d(x, c.k, c.s, c.p);
    const auto want = avg_reference(test::values(x), c.H, c.W, c.k, c.s, c.p, static_cast<int>(y.size(2)),
                                    static_cast<int>(y.size(3)));
    const auto got = test::values(y);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-14) << "k" << c.k << " element " << i;
  }
}

TEST(AvgPool, BackwardSpreadsEachWindowEvenly) {
  // 2x2 / s2 over a 3x3 map: the last row and column belong to no window.
  Tensor x = test::arange({1, 1, 3, 3}, 1);
  x.set_requires_grad(true);
  backward(ops::avg_pool2d(x, 2, 2, 0), Tensor::full({1, 1, 1, 1}, 4.0, DType::F64));
  EXPECT_EQ(test::values(x.grad()), (std::vector<double>{1, 1, 0, 1, 1, 0, 0, 0, 0}));
}

TEST(MaxPool, ValuesAndFirstMaximumGetsTheGradient) {
  // Window 2x2 with a tie between positions 1 and 2 (scan order): the first one wins.
  Tensor x = Tensor::from_vector<double>({1, 5, 5, 2, 0, 0, 3, 1}, {1, 1, 2, 4});
  x.set_requires_grad(true);
  Tensor y = ops::max_pool2d(x, 2, 2, 0);
  EXPECT_EQ(test::values(y), (std::vector<double>{5, 5}));
  backward(y, Tensor::from_vector<double>({1, 2}, {1, 1, 1, 2}));
  EXPECT_EQ(test::values(x.grad()), (std::vector<double>{0, 1, 2, 0, 0, 0, 0, 0}));
}

TEST(MaxPool, ThreeByThreeStrideTwoPadOne) {
  Tensor x = test::arange({1, 1, 5, 5}, 1);
  x.set_requires_grad(true);
  Tensor y = ops::max_pool2d(x, 3, 2, 1);
  EXPECT_EQ(test::values(y), (std::vector<double>{7, 9, 10, 17, 19, 20, 22, 24, 25}));
  backward(y, Tensor::ones(y.shape(), DType::F64));
  const auto g = test::values(x.grad());
  EXPECT_EQ(g[6], 1);    // 7
  EXPECT_EQ(g[24], 1);   // 25
  EXPECT_EQ(g[0], 0);
  EXPECT_EQ(std::accumulate(g.begin(), g.end(), 0.0), 9);
}

TEST(MaxPool, NanPropagates) {
  Tensor x = Tensor::from_vector<float>({1.f, NAN, 3.f, 2.f}, {1, 1, 2, 2});
  EXPECT_TRUE(std::isnan(ops::max_pool2d(x, 2, 2, 0).to_vector<float>()[0]));
}

TEST(GlobalAvgPool, MeanPerPlane) {
  Tensor x = test::arange({2, 2, 2, 3}, 1);
  x.set_requires_grad(true);
  Tensor y = ops::global_avg_pool(x);
  ASSERT_EQ(y.shape(), (Shape{2, 2, 1, 1}));
  EXPECT_EQ(test::values(y), (std::vector<double>{3.5, 9.5, 15.5, 21.5}));
  backward(y, Tensor::from_vector<double>({6, 12, 0, -6}, {2, 2, 1, 1}));
  const auto g = test::values(x.grad());
  EXPECT_EQ(g[0], 1);
  EXPECT_EQ(g[6], 2);
  EXPECT_EQ(g[12], 0);
  EXPECT_EQ(g[23], -1);
}

TEST(Pooling, BadInputsNameTheOp) {
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  Tensor x = Tensor::zeros({1, 2, 3, 3});
  EXPECT_NE(message([&] { ops::avg_pool2d(x, 3, 2, 2); }).find("avg_pool2d: padding 2"), std::string::npos);
  EXPECT_NE(message([&] { ops::max_pool2d(x, 5, 1, 0); }).find("max_pool2d: kernel 5"), std::string::npos);
  EXPECT_NE(message([&] { ops::avg_pool2d(Tensor::zeros({2, 3, 3}), 2, 2, 0); }).find("avg_pool2d: x must be [N, C, H, W]"),
            std::string::npos);
  EXPECT_NE(message([&] { ops::max_pool2d(x, 2, 0, 0); }).find("max_pool2d"), std::string::npos);
  EXPECT_NE(message([&] { ops::global_avg_pool(Tensor::zeros({2, 3})); }).find("global_avg_pool"), std::string::npos);
}

TEST(PoolingCuda, MatchesCpuAtRealisticSizes) {
  PMSDSEN_REQUIRE_CUDA();
  Generator gen(41);
  struct Case {
    bool max;
    int64_t k, s, p;
  } cases[] = {{false, 2, 2, 0}, {false, 3, 2, 1}, {false, 5, 2, 2}, {false, 9, 4, 4},
               {false, 17, 8, 8}, {true, 2, 2, 0},  {true, 3, 2, 1}};
  for (const Shape& shape : {Shape{2, 67, 65, 129}, Shape{3, 5, 4, 8}}) {
    Tensor x = test::random_tensor(shape, gen, DType::F32);
    for (const Case& c : cases) {
      std::vector<Tensor> out;
      for (Device d : {Device::cpu(), Device::cuda()}) {
        Tensor xx = x.detach().to(d);  // a leaf of its own: on the CPU, to() returns x itself
        xx.set_requires_grad(true);
        Tensor y = c.max ? ops::max_pool2d(xx, c.k, c.s, c.p) : ops::avg_pool2d(xx, c.k, c.s, c.p);
        Generator g(7);
        backward(y, test::random_tensor(y.shape(), g, DType::F32).to(d));
        out.push_back(y);
        out.push_back(xx.grad());
      }
      EXPECT_LT(test::max_rel_diff(out[2], out[0]), 1e-5) << (c.max ? "max" : "avg") << " k" << c.k << " output";
      EXPECT_LT(test::max_rel_diff(out[3], out[1]), 1e-5) << (c.max ? "max" : "avg") << " k" << c.k << " gradient";
    }
    Tensor xx = x.to(Device::cuda());
    xx.set_requires_grad(true);
    Tensor y = ops::global_avg_pool(xx);
    EXPECT_LT(test::max_rel_diff(y, ops::global_avg_pool(x)), 1e-5);
  }
}

// ---- golden values from PyTorch (tests/fixtures/ops.safetensors) ----------------------------

TEST(PoolingFixtures, MatchPyTorch) {
  std::vector<std::string> names;
  for (const char* op : {"avg_pool2d", "max_pool2d", "global_avg_pool"})
    for (const std::string& name : test::fixture_cases(op)) names.push_back(name);
  EXPECT_GE(names.size(), 11u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const auto p = test::fixture_params(name);
    const std::string op = p.at("op");
    Tensor x = test::fixture(name, "x", true);
    Tensor y;
    if (op == "avg_pool2d" || op == "max_pool2d") {
      const int64_t k = p.at("kernel")[0], s = p.at("stride")[0], pad = p.at("padding")[0];
      ASSERT_EQ(p.at("kernel")[1].get<int64_t>(), k);
      y = op == "avg_pool2d" ? ops::avg_pool2d(x, k, s, pad) : ops::max_pool2d(x, k, s, pad);
    } else {
      y = ops::global_avg_pool(x);
    }
    backward(y, test::fixture(name, "gy"));
    test::expect_matches_fixture(y, name, "y");
    test::expect_matches_fixture(x.grad(), name, "gx");
  }
}
