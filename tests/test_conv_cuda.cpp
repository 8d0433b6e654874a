// CUDA convolutions against the CPU backend (float32) at realistic, awkward sizes that
// span several tiles, blocks and im2col chunks, and bit-identical gradients run after
// run. Skipped without a GPU.
#include <gtest/gtest.h>

#include "autograd/ops_conv.h"
#include "tests/test_conv_reference.h"
#include "tests/test_util.h"

using namespace pmsdsen;
using test::ConvRefCase;

namespace {

std::vector<ConvRefCase> gpu_cases() {
  std::vector<ConvRefCase> cases;
  // Depthwise 3x3 (LRMS, LDI): two tiles across, five down, 20 channels, batch 3.
  for (int64_t d = 1; d <= 4; ++d) cases.push_back(test::conv_case({3, 20, 67, 131}, {20, 1, 3, 3}, 1, d, d, 20));
  cases.push_back(test::conv_case({2, 6, 40, 50}, {6, 1, 3, 3}, 1, 8, 8, 6));     // largest tiled dilation
  cases.push_back(test::conv_case({2, 6, 40, 50}, {6, 1, 3, 3}, 1, 9, 9, 6));     // beyond it: general path
  cases.push_back(test::conv_case({1, 5, 9, 300}, {5, 1, 3, 3}, 1, 0, 2, 5, false));  // unpadded, wide
  // Dense 3x3: MSSE-like stride 1, the Down block (35 -> 29, stride 2), the stem.
  cases.push_back(test::conv_case({2, 16, 45, 70}, {24, 16, 3, 3}, 1, 1));
  cases.push_back(test::conv_case({3, 35, 33, 65}, {29, 35, 3, 3}, 2, 1, 1, 1, false));
  cases.push_back(test::conv_case({2, 3, 64, 97}, {16, 3, 3, 3}, 2, 1));
  // 1x1 on maps and on pooled vectors.
  cases.push_back(test::conv_case({3, 37, 30, 41}, {19, 37, 1, 1}, 1, 0));
  cases.push_back(test::conv_case({5, 64, 1, 1}, {8, 64, 1, 1}, 1, 0));
  // General paths: groups with dilation, depthwise stride 2, padded 1x1.
  cases.push_back(test::conv_case({2, 8, 20, 21}, {12, 2, 3, 3}, 1, 2, 2, 4));
  cases.push_back(test::conv_case({2, 6, 21, 30}, {6, 1, 3, 3}, 2, 1, 1, 6));
  cases.push_back(test::conv_case({2, 5, 7, 9}, {3, 5, 1, 1}, 1, 1));
  // The upsamplers.
  cases.push_back(test::transposed_case({2, 64, 17, 23}, {64, 32, 3, 3}, 2, 1, 1));
  cases.push_back(test::transposed_case({3, 9, 11, 6}, {9, 5, 3, 3}, 2, 1, 0, false));
  return cases;
}

}  // namespace

TEST(ConvCuda, MatchesCpu) {
  PMSDSEN_REQUIRE_CUDA();
  for (const ConvRefCase& c : gpu_cases()) {
    Generator gen(21);
    const test::ConvInputs in = test::random_conv_inputs(c, gen);
    const test::ConvResult cpu = test::run_conv(c, in.x, in.w, in.b, in.gy, DType::F32, Device::cpu());
    const test::ConvResult gpu = test::run_conv(c, in.x, in.w, in.b, in.gy, DType::F32, Device::cuda());
    EXPECT_LT(test::max_rel_diff(gpu.y, cpu.y), 1e-5) << test::describe(c) << " output";
    EXPECT_LT(test::max_rel_diff(gpu.gx, cpu.gx), 1e-5) << test::describe(c) << " input gradient";
    EXPECT_LT(test::max_rel_diff(gpu.gw, cpu.gw), 1e-4) << test::describe(c) << " weight gradient";
    if (c.bias) {
      EXPECT_LT(test::max_rel_diff(gpu.gb, cpu.gb), 1e-4) << test::describe(c) << " bias gradient";
    }
  }
}

TEST(ConvCuda, GradientsAreBitIdenticalRunToRun) {
  PMSDSEN_REQUIRE_CUDA();
  for (const ConvRefCase& c : gpu_cases()) {
    Generator gen(22);
    const test::ConvInputs in = test::random_conv_inputs(c, gen);
    const test::ConvResult a = test::run_conv(c, in.x, in.w, in.b, in.gy, DType::F32, Device::cuda());
    const test::ConvResult b = test::run_conv(c, in.x, in.w, in.b, in.gy, DType::F32, Device::cuda());
    EXPECT_EQ(a.gw.cpu().to_vector<float>(), b.gw.cpu().to_vector<float>()) << test::describe(c);
    EXPECT_EQ(a.gx.cpu().to_vector<float>(), b.gx.cpu().to_vector<float>()) << test::describe(c);
    if (c.bias) {
      EXPECT_EQ(a.gb.cpu().to_vector<float>(), b.gb.cpu().to_vector<float>()) << test::describe(c);
    }
  }
}

TEST(ConvCuda, ChannelConv1dMatchesCpu) {
  PMSDSEN_REQUIRE_CUDA();
  for (auto [channels, k] : {std::pair<int64_t, int64_t>{64, 3}, {128, 5}, {3, 5}}) {
    Generator gen(23);
    Tensor x = test::random_tensor({6, channels, 1, 1}, gen, DType::F32);
    Tensor w = test::random_tensor({1, 1, k}, gen, DType::F32);
    Tensor gy = test::random_tensor({6, channels, 1, 1}, gen, DType::F32);
    std::vector<Tensor> grads[2];
    Tensor ys[2];
    for (int dev = 0; dev < 2; ++dev) {
      const Device device = dev ? Device::cuda() : Device::cpu();
      Tensor xd = x.to(device).clone(), wd = w.to(device).clone();
      xd.set_requires_grad(true);
      wd.set_requires_grad(true);
      ys[dev] = ops::channel_conv1d(xd, wd);
      backward(ys[dev], gy.to(device));
      grads[dev] = {xd.grad(), wd.grad()};
    }
    EXPECT_LT(test::max_rel_diff(ys[1], ys[0]), 1e-6) << channels << " channels, k " << k;
    EXPECT_LT(test::max_rel_diff(grads[1][0], grads[0][0]), 1e-6) << channels << " channels, k " << k;
    EXPECT_LT(test::max_rel_diff(grads[1][1], grads[0][1]), 1e-5) << channels << " channels, k " << k;
  }
}

TEST(ConvCuda, RejectsMixedDevicesAndFloat64) {
  PMSDSEN_REQUIRE_CUDA();
  Tensor x = Tensor::ones({1, 2, 5, 5}, DType::F32, Device::cuda());
  EXPECT_THROW(ops::conv2d(x, Tensor::ones({2, 2, 3, 3}), Tensor()), Error);
  Tensor x64 = Tensor::ones({1, 2, 5, 5}, DType::F64, Device::cuda());
  EXPECT_THROW(ops::conv2d(x64, Tensor::ones({2, 2, 3, 3}, DType::F64, Device::cuda()), Tensor()), Error);
}

// A transposed convolution accepts an input with no rows; its backward then runs the
// depthwise kernels on an empty plane (a zero-sized grid is a launch error on CUDA).
TEST(ConvCuda, EmptyInputPlaneMatchesCpu) {
  PMSDSEN_REQUIRE_CUDA();
  const ConvRefCase c = test::transposed_case({2, 1, 0, 5}, {1, 1, 3, 3}, 1, 0, 0);
  Generator gen(5);
  const test::ConvInputs in = test::random_conv_inputs(c, gen);
  const test::ConvResult cpu = test::run_conv(c, in.x, in.w, in.b, in.gy, DType::F32, Device::cpu());
  const test::ConvResult gpu = test::run_conv(c, in.x, in.w, in.b, in.gy, DType::F32, Device::cuda());
  EXPECT_EQ(gpu.y.shape(), cpu.y.shape());
  EXPECT_LT(test::max_rel_diff(gpu.y, cpu.y), 1e-6);
  EXPECT_EQ(gpu.gx.numel(), 0);
  EXPECT_LT(test::max_rel_diff(gpu.gw, cpu.gw), 1e-6);
  EXPECT_LT(test::max_rel_diff(gpu.gb, cpu.gb), 1e-6);
}
