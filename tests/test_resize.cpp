// Bilinear resizing: PyTorch's known outputs for align_corners false and true, the
// scale-factor path's ratio, a double-precision reference of the x8 logit upsampling, the
// backward as the exact adjoint of the forward, bad inputs, and (with a GPU) CUDA/CPU
// parity and reproducible gradients.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <numeric>

#include "autograd/engine.h"
#include "autograd/ops_resize.h"
#include "core/safetensors.h"
#include "tests/test_op_fixtures.h"
#include "tests/test_util.h"

using namespace pmsdsen;

namespace {

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

// PyTorch's upsample_bilinear2d (align_corners=false, size path) written out in double.
std::vector<double> bilinear_reference(const std::vector<double>& x, int64_t planes, int H, int W, int OH, int OW) {
  std::vector<double> y;
  auto source = [](int d, int in, int out, int& i0, int& i1, double& l1) {
    double src = (d + 0.5) * in / out - 0.5;
    if (src < 0) src = 0;
    i0 = std::min(static_cast<int>(std::floor(src)), in - 1);
    i1 = std::min(i0 + 1, in - 1);
    l1 = std::min(src - i0, 1.0);
  };
  for (int64_t p = 0; p < planes; ++p)
    for (int oh = 0; oh < OH; ++oh)
      for (int ow = 0; ow < OW; ++ow) {
        int h0, h1, w0, w1;
        double a, b;
        source(oh, H, OH, h0, h1, a);
        source(ow, W, OW, w0, w1, b);
        const double* xp = x.data() + p * H * W;
        y.push_back((1 - a) * ((1 - b) * xp[h0 * W + w0] + b * xp[h0 * W + w1]) +
                    a * ((1 - b) * xp[h1 * W + w0] + b * xp[h1 * W + w1]));
      }
  return y;
}

double dot(const Tensor& a, const Tensor& b) {
  const auto x = test::values(a), y = test::values(b);
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += x[i] * y[i];
  return s;
}

}  // namespace

TEST(Bilinear, UpsampleByTwoHalfPixelCentres) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4}, {1, 1, 2, 2});
  expect_near(test::values(ops::bilinear_scale(x, 2.0, false)),
              {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4}, 1e-15);
  expect_near(test::values(ops::bilinear(x, 4, 4, false)),
              {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4}, 1e-15);
}

TEST(Bilinear, AlignCornersKeepsTheCorners) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4}, {1, 1, 2, 2});
  expect_near(test::values(ops::bilinear(x, 3, 3, true)), {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4}, 1e-15);
  // One output with align_corners: ratio 0, the top-left input.
  expect_near(test::values(ops::bilinear(test::arange({1, 1, 3, 4}, 5), 1, 1, true)), {5}, 0);
}

TEST(Bilinear, DownsampleByTwoAveragesBlocks) {
  expect_near(test::values(ops::bilinear(test::arange({1, 1, 4, 4}, 1), 2, 2, false)), {3.5, 5.5, 11.5, 13.5}, 1e-15);
  // align_corners=True by 0.5 (the authors' evaluation resize): 2x5 -> 1x2 picks row 0, columns 0 and 4.
  expect_near(test::values(ops::bilinear_scale(test::arange({1, 1, 2, 5}), 0.5, true)), {0, 4}, 1e-15);
}

TEST(Bilinear, ScaleFactorPathUsesOneOverScale) {
  // A ramp reproduces the source coordinate. Width 5 by 1.5 -> 7 outputs: ratio 1/1.5,
  // while the size path (5 -> 7) uses 5/7, as PyTorch's scale_factor vs size.
  Tensor x = test::arange({1, 1, 1, 5});
  std::vector<double> scale_path, size_path;
  for (int d = 0; d < 7; ++d) {
    scale_path.push_back(std::max(0.0, (d + 0.5) / 1.5 - 0.5));
    size_path.push_back(std::min(4.0, std::max(0.0, (d + 0.5) * 5.0 / 7.0 - 0.5)));
  }
  Tensor by_scale = ops::bilinear_scale(x, 1.5, false);
  ASSERT_EQ(by_scale.shape(), (Shape{1, 1, 1, 7}));
  expect_near(test::values(by_scale), scale_path, 1e-14);
  expect_near(test::values(ops::bilinear(x, 1, 7, false)), size_path, 1e-14);
  EXPECT_GT(std::abs(scale_path[5] - size_path[5]), 0.1);
}

TEST(Bilinear, OneByOneSourceIsConstant) {
  Tensor x = Tensor::from_vector<double>({2.5, -1}, {1, 2, 1, 1});
  for (bool ac : {false, true}) {
    const auto y = test::values(ops::bilinear(x, 3, 5, ac));
    for (int i = 0; i < 15; ++i) EXPECT_EQ(y[i], 2.5);
    for (int i = 15; i < 30; ++i) EXPECT_EQ(y[i], -1);
  }
}

TEST(Bilinear, LogitUpsamplingByEightMatchesDoubleReference) {
  Generator gen(4);
  Tensor x = test::random_tensor({1, 19, 8, 16}, gen, DType::F64, -5, 5);
  const auto want = bilinear_reference(test::values(x), 19, 8, 16, 64, 128);
  expect_near(test::values(ops::bilinear(x, 64, 128, false)), want, 1e-13);
  // float32, scale-factor path (1/8 is exact, so the same coordinates).
  EXPECT_LT(test::max_rel_diff(ops::bilinear_scale(x.to(DType::F32), 8.0, false), Tensor::from_vector(want, {1, 19, 64, 128})),
            1e-6);
}

TEST(Bilinear, BackwardIsTheAdjointOfTheForward) {
  struct Case {
    Shape x;
    int64_t oh, ow;
    bool ac;
    double scale;
  } cases[] = {{{2, 3, 8, 16}, 64, 128, false, 0},    {{1, 2, 19, 23}, 7, 9, false, 0},
               {{1, 2, 6, 7}, 13, 15, true, 0},        {{1, 2, 21, 17}, 10, 8, true, 0},
               {{1, 3, 10, 14}, 15, 21, false, 1.5},   {{1, 2, 1, 1}, 5, 6, false, 0},
               {{1, 1, 5, 40}, 20, 3, false, 0}};
  Generator gen(6);
  for (const Case& c : cases) {
    Tensor x = test::random_tensor(c.x, gen);
    x.set_requires_grad(true);
    Tensor y = c.scale > 0 ? ops::bilinear_scale(x, c.scale, c.ac) : ops::bilinear(x, c.oh, c.ow, c.ac);
    Tensor gy = test::random_tensor(y.shape(), gen);
    backward(y, gy);
    EXPECT_NEAR(dot(y, gy), dot(x, x.grad()), 1e-11 * std::max(1.0, std::abs(dot(y, gy))))
        << shape_str(c.x) << " to " << shape_str(y.shape()) << (c.ac ? " align_corners" : "");
  }
}

TEST(Bilinear, BadInputsNameTheOp) {
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  Tensor x = Tensor::zeros({1, 2, 4, 4});
  EXPECT_NE(message([&] { ops::bilinear(x, 0, 4, false); }).find("bilinear: output size 0x4"), std::string::npos);
  EXPECT_NE(message([&] { ops::bilinear(Tensor::zeros({2, 4, 4}), 8, 8, false); }).find("bilinear: x must be [N, C, H, W]"),
            std::string::npos);
  EXPECT_NE(message([&] { ops::bilinear_scale(x, -2.0, false); }).find("bilinear_scale: scale"), std::string::npos);
  EXPECT_NE(message([&] { ops::bilinear_scale(x, 0.1, false); }).find("empty output"), std::string::npos);
}

TEST(BilinearCuda, MatchesCpuAndGradientsAreReproducible) {
  PMSDSEN_REQUIRE_CUDA();
  Generator gen(51);
  struct Case {
    Shape x;
    int64_t oh, ow;
    bool ac;
    double scale;
  } cases[] = {{{2, 19, 64, 128}, 0, 0, false, 8.0},   // seg_head_x8 logits to full resolution
               {{2, 19, 256, 512}, 0, 0, false, 2.0},  // seg_head_x2
               {{12, 64, 8, 16}, 64, 128, false, 0},   // MSSE branch resize
               {{1, 3, 513, 1025}, 0, 0, true, 0.5},   // evaluation down, odd sizes
               {{1, 19, 256, 512}, 0, 0, true, 2.0}};  // evaluation up
  for (const Case& c : cases) {
    Tensor x = test::random_tensor(c.x, gen, DType::F32);
    std::vector<Tensor> out;
    for (int run = 0; run < 3; ++run) {
      const Device d = run == 0 ? Device::cpu() : Device::cuda();
      Tensor xx = x.detach().to(d);  // a leaf of its own: on the CPU, to() returns x itself
      xx.set_requires_grad(true);
      Tensor y = c.scale > 0 ? ops::bilinear_scale(xx, c.scale, c.ac) : ops::bilinear(xx, c.oh, c.ow, c.ac);
      Generator g(3);
      backward(y, test::random_tensor(y.shape(), g, DType::F32).to(d));
      out.push_back(y);
      out.push_back(xx.grad());
    }
    EXPECT_LT(test::max_rel_diff(out[2], out[0]), 1e-5) << shape_str(c.x) << " output";
    EXPECT_LT(test::max_rel_diff(out[3], out[1]), 1e-5) << shape_str(c.x) << " gradient";
    EXPECT_EQ(out[3].cpu().to_vector<float>(), out[5].cpu().to_vector<float>()) << shape_str(c.x) << " gradient differs run to run";
  }
}

// ---- golden values from PyTorch (tests/fixtures/ops.safetensors) ----------------------------

TEST(BilinearFixtures, MatchPyTorch) {
  std::vector<std::string> names = test::fixture_cases("bilinear");
  for (const std::string& name : test::fixture_cases("bilinear_scale")) names.push_back(name);
  EXPECT_GE(names.size(), 8u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const auto p = test::fixture_params(name);
    ASSERT_EQ(p.at("op") == "bilinear_scale", !p.at("scale_factor").is_null());
    const bool ac = p.at("align_corners");
    Tensor x = test::fixture(name, "x", true);
    Tensor y = p.at("scale_factor").is_null()
                   ? ops::bilinear(x, p.at("size")[0], p.at("size")[1], ac)
                   : ops::bilinear_scale(x, p.at("scale_factor").get<double>(), ac);
    ASSERT_EQ(y.size(2), p.at("out_size")[0].get<int64_t>());
    ASSERT_EQ(y.size(3), p.at("out_size")[1].get<int64_t>());
    backward(y, test::fixture(name, "gy"));
    test::expect_matches_fixture(y, name, "y");
    test::expect_matches_fixture(x.grad(), name, "gx");
  }
}
