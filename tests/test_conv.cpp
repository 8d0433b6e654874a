// CPU convolutions: values and gradients against direct loops (every fast path and the
// general one, sizes that cross the GEMM's block boundaries), hand-computed cases for
// the semantics, output sizes, the im2col/col2im helpers, and argument errors.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops_conv.h"
#include "core/cpu/conv.h"
#include "core/parallel.h"
#include "tests/test_conv_reference.h"
#include "tests/test_util.h"

using namespace pmsdsen;
using test::ConvRefCase;

namespace {

void expect_matches_reference(const ConvRefCase& c, DType dtype, double tol, uint64_t seed = 7) {
  Generator gen(seed);
  const test::ConvInputs in = test::random_conv_inputs(c, gen);
  const test::ConvResult ref = test::reference_conv(c, in.x, in.w, in.b, in.gy);
  const test::ConvResult got = test::run_conv(c, in.x, in.w, in.b, in.gy, dtype, Device::cpu());
  ASSERT_EQ(got.y.shape(), ref.y.shape()) << test::describe(c);
  EXPECT_LT(test::max_rel_diff(got.y, ref.y), tol) << test::describe(c) << " output";
  EXPECT_LT(test::max_rel_diff(got.gx, ref.gx), tol) << test::describe(c) << " input gradient";
  EXPECT_LT(test::max_rel_diff(got.gw, ref.gw), tol) << test::describe(c) << " weight gradient";
  if (c.bias) {
    EXPECT_LT(test::max_rel_diff(got.gb, ref.gb), tol) << test::describe(c) << " bias gradient";
  }
}

// Configurations covering each path: depthwise direct loops, fused-im2col GEMM (one and
// several column/row/depth blocks, K split for weight gradients), flipped-kernel and
// col2im input gradients, transposed convolutions.
std::vector<ConvRefCase> reference_cases() {
  return {
      test::conv_case({2, 5, 9, 11}, {5, 1, 3, 3}, 1, 1, 1, 5),          // depthwise, dilation 1
      test::conv_case({2, 6, 17, 35}, {6, 1, 3, 3}, 1, 2, 2, 6),         // dilation 2
      test::conv_case({1, 4, 13, 40}, {4, 1, 3, 3}, 1, 3, 3, 4, false),  // dilation 3
      test::conv_case({3, 4, 19, 37}, {4, 1, 3, 3}, 1, 4, 4, 4),         // dilation 4
      test::conv_case({1, 3, 6, 5}, {3, 1, 3, 3}, 1, 4, 4, 3),           // narrower than the dilated kernel
      test::conv_case({1, 3, 9, 9}, {3, 1, 3, 3}, 1, 0, 2, 3),           // unpadded (output shrinks)
      test::conv_case({1, 3, 9, 9}, {3, 1, 3, 3}, 1, 5, 1, 3),           // padding beyond the reach
      test::conv_case({2, 4, 9, 8}, {4, 1, 3, 3}, 2, 1, 1, 4),           // depthwise stride 2 (general path)
      test::conv_case({2, 3, 33, 47}, {16, 3, 3, 3}, 2, 1),              // stem conv, stride 2
      test::conv_case({2, 16, 20, 23}, {32, 16, 3, 3}, 1, 1),            // dense 3x3, several column blocks
      test::conv_case({1, 35, 14, 17}, {29, 35, 3, 3}, 2, 1, 1, 1, false),  // Down block: K = 315 > one depth block
      test::conv_case({2, 37, 9, 70}, {130, 37, 1, 1}, 1, 0),            // 1x1, M = 130 > one row block
      test::conv_case({2, 6, 1, 1}, {5, 6, 1, 1}, 1, 0),                 // 1x1 on pooled vectors
      test::conv_case({1, 3, 96, 90}, {4, 3, 3, 3}, 1, 1),               // weight gradient with K split (8640 pixels)
      test::conv_case({2, 4, 6, 7}, {6, 2, 3, 3}, 1, 2, 2, 2),           // groups + dilation
      test::conv_case({1, 3, 6, 7}, {6, 1, 3, 3}, 1, 1, 1, 3),           // channel multiplier 2
      test::conv_case({1, 2, 8, 9}, {3, 2, 3, 5}, 1, 1),                 // rectangular kernel
      test::conv_case({1, 3, 4, 5}, {2, 3, 1, 1}, 1, 1, 1, 1, false),    // 1x1 with padding (col2im path)
      test::conv_case({2, 2, 8, 10}, {3, 2, 3, 3}, 3, 2),                // stride 3
      test::transposed_case({2, 8, 9, 13}, {8, 5, 3, 3}, 2, 1, 1),       // the upsampler
      test::transposed_case({1, 3, 4, 5}, {3, 2, 3, 3}, 2, 1, 0, false),
      test::transposed_case({1, 2, 3, 4}, {2, 3, 2, 2}, 2, 0, 0),
      test::transposed_case({2, 3, 5, 4}, {3, 2, 3, 3}, 1, 1, 0),
  };
}

}  // namespace

TEST(Conv, MatchesDirectLoopsInFloat64) {
  for (const ConvRefCase& c : reference_cases()) expect_matches_reference(c, DType::F64, 1e-12);
}

TEST(Conv, MatchesDirectLoopsInFloat32) {
  for (const ConvRefCase& c : reference_cases()) expect_matches_reference(c, DType::F32, 2e-5);
}

// An input with no rows: the output is the bias alone, the gradients are zero or empty.
TEST(Conv, TransposedOfAnEmptyInputPlane) {
  const ConvRefCase c = test::transposed_case({2, 1, 0, 5}, {1, 1, 3, 3}, 1, 0, 0);
  Generator gen(5);
  const test::ConvInputs in = test::random_conv_inputs(c, gen);
  const test::ConvResult got = test::run_conv(c, in.x, in.w, in.b, in.gy, DType::F64, Device::cpu());
  ASSERT_EQ(got.y.shape(), (Shape{2, 1, 2, 7}));
  const double bias = test::values(in.b)[0];
  for (double v : test::values(got.y)) EXPECT_EQ(v, bias);
  EXPECT_EQ(got.gx.shape(), (Shape{2, 1, 0, 5}));
  for (double v : test::values(got.gw)) EXPECT_EQ(v, 0.0);
  double gy_sum = 0;
  for (double v : test::values(in.gy)) gy_sum += v;
  EXPECT_NEAR(test::values(got.gb)[0], gy_sum, 1e-12);
}

TEST(Conv, DepthwiseOnAWideMapMatchesDirectLoops) {
  // 64 columns: the branch-free interior loops carry most of the work.
  expect_matches_reference(test::conv_case({2, 3, 16, 64}, {3, 1, 3, 3}, 1, 3, 3, 3), DType::F32, 2e-5);
}

TEST(Conv, WeightGradientsDoNotDependOnThreadCount) {
  const std::vector<ConvRefCase> cases = {test::conv_case({2, 5, 40, 61}, {5, 1, 3, 3}, 1, 2, 2, 5),
                                          test::conv_case({1, 3, 96, 90}, {8, 3, 3, 3}, 1, 1),
                                          test::conv_case({2, 9, 64, 130}, {7, 9, 1, 1}, 1, 0)};
  const int threads = num_threads();
  for (const ConvRefCase& c : cases) {
    Generator gen(3);
    const test::ConvInputs in = test::random_conv_inputs(c, gen);
    set_num_threads(1);
    const test::ConvResult one = test::run_conv(c, in.x, in.w, in.b, in.gy, DType::F32, Device::cpu());
    set_num_threads(2);
    const test::ConvResult two = test::run_conv(c, in.x, in.w, in.b, in.gy, DType::F32, Device::cpu());
    set_num_threads(threads);
    EXPECT_EQ(one.gw.to_vector<float>(), two.gw.to_vector<float>()) << test::describe(c);
    EXPECT_EQ(one.gb.to_vector<float>(), two.gb.to_vector<float>()) << test::describe(c);
    EXPECT_EQ(one.y.to_vector<float>(), two.y.to_vector<float>()) << test::describe(c);
  }
}

TEST(Conv, OnesKernelCountsTheWindowInsideTheImage) {
  // 3x3 of ones over a 3x4 image of ones, padding 1: each output counts its in-image taps.
  Tensor x = Tensor::ones({1, 1, 3, 4});
  Tensor w = Tensor::ones({1, 1, 3, 3});
  Tensor y = ops::conv2d(x, w, Tensor(), {1, 1, 1, 1});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 3, 4}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{4, 6, 6, 4, 6, 9, 9, 6, 4, 6, 6, 4}));
  // Same through the depthwise path (two channels, groups 2) with a bias per channel.
  Tensor x2 = Tensor::ones({1, 2, 3, 4});
  Tensor w2 = Tensor::ones({2, 1, 3, 3});
  Tensor b2 = Tensor::from_vector<float>({10, -1}, {2});
  Tensor y2 = ops::conv2d(x2, w2, b2, {1, 1, 1, 2});
  const std::vector<float> v = y2.to_vector<float>();
  EXPECT_EQ(v[0], 14.f);
  EXPECT_EQ(v[5], 19.f);
  EXPECT_EQ(v[12], 3.f);
  EXPECT_EQ(v[17], 8.f);
}

TEST(Conv, DilationSkipsPixels) {
  // x = 0..24 on 5x5; a kernel with a single 1 at tap (2, 2), dilation 2, padding 2:
  // y[oy, ox] = x[oy + 2, ox + 2] where inside, else 0.
  std::vector<float> xv(25);
  for (int i = 0; i < 25; ++i) xv[i] = float(i);
  Tensor x = Tensor::from_vector(xv, {1, 1, 5, 5});
  std::vector<float> wv(9, 0.f);
  wv[8] = 1.f;
  Tensor y = ops::conv2d(x, Tensor::from_vector(wv, {1, 1, 3, 3}), Tensor(), {1, 2, 2, 1});
  ASSERT_EQ(y.shape(), (Shape{1, 1, 5, 5}));
  const std::vector<float> v = y.to_vector<float>();
  EXPECT_EQ(v[0], 12.f);  // x[2, 2]
  EXPECT_EQ(v[1 * 5 + 2], 19.f);  // x[3, 4]
  EXPECT_EQ(v[2 * 5 + 2], 24.f);  // x[4, 4]
  EXPECT_EQ(v[2 * 5 + 3], 0.f);   // x[4, 5] is padding
  EXPECT_EQ(v[3 * 5 + 0], 0.f);
}

TEST(Conv, StrideTwoRoundsOutputSizesDown) {
  EXPECT_EQ(ops::conv_output_size(7, 3, 2, 1), 4);
  EXPECT_EQ(ops::conv_output_size(8, 3, 2, 1), 4);
  EXPECT_EQ(ops::conv_output_size(9, 3, 2, 1, 1), 5);
  EXPECT_EQ(ops::conv_output_size(9, 3, 1, 4, 4), 9);  // PMSDSEN: padding = dilation keeps size
  Tensor y = ops::conv2d(Tensor::ones({2, 3, 7, 10}), Tensor::ones({4, 3, 3, 3}), Tensor(), {2, 1, 1, 1});
  EXPECT_EQ(y.shape(), (Shape{2, 4, 4, 5}));
  // Top-left output of stride 2: rows/cols -1..1 of which 2x2 inside, 3 channels.
  EXPECT_EQ(y.to_vector<float>()[0], 12.f);
}

TEST(Conv, TransposedHasPyTorchsOutputSizeAndValues) {
  // x = [[1, 2], [3, 4]], weight ones 3x3, stride 2, padding 1, output padding 1 -> 4x4:
  // y[oy, ox] = sum of x[iy, ix] with oy = 2 iy - 1 + ky, ox = 2 ix - 1 + kx, ky, kx in 0..2.
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor y = ops::conv_transpose2d(x, Tensor::ones({1, 1, 3, 3}), Tensor::from_vector<float>({0.5f}, {1}),
                                   {2, 1, 1});
  ASSERT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
  const std::vector<float> expected = {1, 3, 2, 2, 4, 10, 6, 6, 3, 7, 4, 4, 3, 7, 4, 4};
  std::vector<float> v = y.to_vector<float>();
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i], expected[i] + 0.5f) << "pixel " << i;
  // The decoder's upsampler doubles the size: (H - 1) * 2 - 2 + 3 + 1 = 2H.
  Tensor up = ops::conv_transpose2d(Tensor::ones({1, 4, 5, 7}), Tensor::ones({4, 3, 3, 3}), Tensor(), {2, 1, 1});
  EXPECT_EQ(up.shape(), (Shape{1, 3, 10, 14}));
}

TEST(Conv, ChannelConv1dSlidesAcrossChannelsWithZeroPadding) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 10, 20, 30, 40}, {2, 4, 1, 1});
  Tensor w = Tensor::from_vector<float>({1, 10, 100}, {1, 1, 3});
  Tensor y = ops::channel_conv1d(x, w);
  ASSERT_EQ(y.shape(), (Shape{2, 4, 1, 1}));
  // y[c] = x[c-1] + 10 x[c] + 100 x[c+1]
  EXPECT_EQ(y.to_vector<float>(),
            (std::vector<float>{210, 321, 432, 43, 2100, 3210, 4320, 430}));
  Tensor w5 = Tensor::from_vector<float>({1, 0, 0, 0, 2}, {1, 1, 5});
  // y[c] = x[c-2] + 2 x[c+2] within each sample
  EXPECT_EQ(ops::channel_conv1d(x, w5).to_vector<float>(),
            (std::vector<float>{6, 8, 1, 2, 60, 80, 10, 20}));
}

TEST(Conv, Col2imIsTheAdjointOfIm2colAndMatchesTheGather) {
  for (const ConvShape& s : {ConvShape{1, 3, 7, 9, 1, 4, 5, 3, 3, 2, 1, 1, 1},
                             ConvShape{1, 2, 9, 8, 1, 5, 4, 3, 3, 1, 0, 2, 1},
                             ConvShape{1, 2, 6, 5, 1, 7, 5, 2, 3, 1, 1, 1, 1}}) {
    ASSERT_EQ(s.out_h, conv_out_size(s.in_h, s.kernel_h, s.stride, s.padding, s.dilation));
    ASSERT_EQ(s.out_w, conv_out_size(s.in_w, s.kernel_w, s.stride, s.padding, s.dilation));
    Generator gen(11);
    const std::vector<double> x = test::values(test::random_tensor({s.in_channels * s.in_plane()}, gen));
    const std::vector<double> c = test::values(test::random_tensor({s.col_rows() * s.out_plane()}, gen));
    std::vector<double> col(c.size()), img(x.size());
    cpu::im2col(s, x.data(), col.data());
    cpu::col2im(s, c.data(), img.data());
    double lhs = 0, rhs = 0;  // <im2col(x), c> = <x, col2im(c)>
    for (size_t i = 0; i < c.size(); ++i) lhs += col[i] * c[i];
    for (size_t i = 0; i < x.size(); ++i) rhs += x[i] * img[i];
    EXPECT_NEAR(lhs, rhs, 1e-10 * std::abs(lhs) + 1e-12);
    // The GPU's gather (col2im_pixel) gives the same image as the CPU's scatter.
    for (int64_t ch = 0; ch < s.in_channels; ++ch)
      for (int64_t iy = 0; iy < s.in_h; ++iy)
        for (int64_t ix = 0; ix < s.in_w; ++ix)
          EXPECT_NEAR(col2im_pixel(s, c.data(), ch, iy, ix),
                      img[static_cast<size_t>((ch * s.in_h + iy) * s.in_w + ix)], 1e-12);
  }
}

TEST(Conv, RejectsBadArguments) {
  auto expect_error = [](auto&& f, const std::string& needle) {
    try {
      f();
      ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  Tensor x = Tensor::ones({1, 4, 5, 5});
  expect_error([&] { ops::conv2d(x, Tensor::ones({2, 3, 3, 3}), Tensor()); }, "conv2d: weight [2, 3, 3, 3]");
  expect_error([&] { ops::conv2d(x, Tensor::ones({3, 2, 3, 3}), Tensor(), {1, 1, 1, 2}); }, "groups 2");
  expect_error([&] { ops::conv2d(x, Tensor::ones({2, 4, 3, 3}), Tensor::ones({3})); }, "bias must be [2]");
  expect_error([&] { ops::conv2d(x, Tensor::ones({2, 4, 3, 3}, DType::F64), Tensor()); }, "conv2d");
  expect_error([&] { ops::conv2d(Tensor::ones({4, 5, 5}), Tensor::ones({2, 4, 3, 3}), Tensor()); }, "x");
  expect_error([&] { ops::conv2d(x, Tensor::ones({2, 4, 7, 7}), Tensor()); }, "too small");
  expect_error([&] { ops::conv2d(x, Tensor::ones({2, 4, 3, 3}), Tensor(), {0, 1, 1, 1}); }, "stride");
  expect_error([&] { ops::conv_transpose2d(x, Tensor::ones({3, 2, 3, 3}), Tensor(), {2, 1, 1}); },
               "conv_transpose2d: weight [3, 2, 3, 3]");
  expect_error([&] { ops::conv_transpose2d(x, Tensor::ones({4, 2, 3, 3}), Tensor(), {2, 1, 2}); },
               "output_padding");
  expect_error([&] { ops::conv_transpose2d(x, Tensor::ones({4, 2, 3, 3}), Tensor::ones({4}), {2, 1, 1}); },
               "bias must be [2]");
  expect_error([&] { ops::channel_conv1d(Tensor::ones({2, 8, 1, 1}), Tensor::ones({1, 1, 4})); }, "k odd");
  expect_error([&] { ops::channel_conv1d(Tensor::ones({2, 8, 2, 1}), Tensor::ones({1, 1, 3})); },
               "channel_conv1d: x must be [N, C, 1, 1]");
  expect_error([&] {
    ops::conv2d(Tensor::ones({1, 2, 4, 4}, DType::I64), Tensor::ones({1, 2, 1, 1}, DType::I64), Tensor());
  }, "float32 or float64");
}
