#include <gtest/gtest.h>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "autograd/node.h"
#include "autograd/ops_basic.h"
#include "core/allocator.h"
#include "tests/test_util.h"

#ifdef PMSDSEN_CUDA_EMULATE
#include "emu/hooks.h"
#endif

using namespace pmsdsen;

namespace {
Tensor leaf(std::vector<float> v, Shape s) {
  Tensor t = Tensor::from_vector(v, s);
  t.set_requires_grad(true);
  return t;
}
}  // namespace

TEST(Autograd, GradientsAccumulateOverThreeBranches) {
  // y = sum(x*2 + x*x + x) -> dy/dx = 2 + 2x + 1
  Tensor x = leaf({1, -2, 3}, {3});
  Tensor y = ops::sum(ops::add(ops::add(ops::scale(x, 2.0), ops::mul(x, x)), x));
  EXPECT_FLOAT_EQ(y.item<float>(), (2 - 4 + 6) + (1 + 4 + 9) + (1 - 2 + 3));
  backward(y);
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{5, -1, 9}));
}

TEST(Autograd, LeafGradAccumulatesAcrossBackwardCallsUntilCleared) {
  Tensor x = leaf({1, 2}, {2});
  backward(ops::sum(ops::scale(x, 3.0)));
  backward(ops::sum(ops::scale(x, 3.0)));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{6, 6}));
  x.set_grad(Tensor());
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, NoGradRecordsNothingAndFreesIntermediates) {
  Tensor x = leaf(std::vector<float>(1 << 16, 1.f), {1 << 16});
  const size_t before = memory_stats(Device::cpu()).current_bytes;
  Tensor y;
  {
    autograd::NoGradGuard guard;
    y = ops::sum(ops::mul(ops::scale(x, 2.0), x));
  }
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
  // Only the scalar result stays alive: the two 256 KiB intermediates are gone.
  EXPECT_LT(memory_stats(Device::cpu()).current_bytes, before + 1024);
  EXPECT_THROW(backward(y), Error);
}

TEST(Autograd, GraphKeepsOnlyWhatBackwardNeeds) {
  Tensor x = leaf(std::vector<float>(1 << 16, 1.f), {1 << 16});
  const size_t before = memory_stats(Device::cpu()).current_bytes;
  // add and scale save nothing: the intermediate a dies with its last reference.
  Tensor y = ops::sum(ops::scale(ops::add(x, x), 2.0));
  EXPECT_LT(memory_stats(Device::cpu()).current_bytes, before + 1024);
  backward(y);
  EXPECT_EQ(x.grad().to_vector<float>()[7], 4.f);
}

TEST(Autograd, BackwardOnNonScalarNeedsAnExplicitGradient) {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor y = ops::scale(x, 2.0);
  try {
    backward(y);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("non-scalar"), std::string::npos) << e.what();
  }
  backward(y, Tensor::from_vector<float>({1, 0, -1}, {3}));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 0, -2}));
}

TEST(Autograd, SecondBackwardThroughFreedGraphIsAnError) {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = ops::sum(ops::mul(x, x));
  backward(y);
  EXPECT_THROW(backward(y), Error);
}

TEST(Autograd, MismatchedShapesNameTheOpAndShapes) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({3, 2});
  try {
    ops::add(a, b);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("add"), std::string::npos) << m;
    EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[3, 2]"), std::string::npos) << m;
  }
  EXPECT_THROW(ops::matmul(a, a), Error);
  EXPECT_THROW(ops::mul_channel(Tensor::zeros({2, 3, 4, 4}), Tensor::zeros({2, 4, 1, 1})), Error);
  EXPECT_THROW(ops::slice_channels(a, 2, 2), Error);
  EXPECT_THROW(ops::concat_channels({Tensor::zeros({2, 3, 4}), Tensor::zeros({2, 3, 5})}), Error);
}

TEST(Autograd, MixedDtypesAndDevicesAreErrors) {
  Tensor a = Tensor::zeros({2}), b = Tensor::zeros({2}, DType::F64);
  EXPECT_THROW(ops::add(a, b), Error);
  EXPECT_THROW(ops::add(Tensor::zeros({2}, DType::I64), Tensor::zeros({2}, DType::I64)), Error);
  if (cuda_available()) {
    Tensor c = Tensor::zeros({2}, DType::F32, Device::cuda());
    try {
      ops::add(a, c);
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("different devices"), std::string::npos) << e.what();
    }
  }
}

TEST(Autograd, MatmulMatchesHandComputedProduct) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector<float>({7, 8, 9, 10, 11, 12}, {3, 2});
  EXPECT_EQ(ops::matmul(a, b).to_vector<float>(), (std::vector<float>{58, 64, 139, 154}));
}

// An empty inner dimension: [3, 0] x [0, 4] is a [3, 4] of zeros, and so are the
// gradients' shapes empty and the backward valid.
void expect_empty_inner_product(Device device) {
  Tensor a = Tensor::zeros({3, 0}).to(device), b = Tensor::zeros({0, 4}).to(device);
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  Tensor c = ops::matmul(a, b);
  ASSERT_EQ(c.shape(), (Shape{3, 4}));
  for (float v : c.cpu().to_vector<float>()) EXPECT_EQ(v, 0.0f);
  backward(c, Tensor::full({3, 4}, 1.0).to(device));
  EXPECT_EQ(a.grad().shape(), (Shape{3, 0}));
  EXPECT_EQ(b.grad().shape(), (Shape{0, 4}));
}

TEST(Autograd, MatmulWithEmptyInnerDimensionIsZero) { expect_empty_inner_product(Device::cpu()); }

TEST(AutogradCuda, MatmulWithEmptyInnerDimensionIsZero) {
  PMSDSEN_REQUIRE_CUDA();
  expect_empty_inner_product(Device::cuda());
}

TEST(Autograd, ConcatAndSliceRoundTrip) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4}, {1, 2, 2});
  Tensor b = Tensor::from_vector<float>({5, 6}, {1, 1, 2});
  Tensor c = ops::concat_channels({a, b});
  EXPECT_EQ(c.shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(c.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(ops::slice_channels(c, 1, 2).to_vector<float>(), (std::vector<float>{3, 4, 5, 6}));
}

TEST(Autograd, CpuGemmMatchesNaiveProductOnAwkwardSizes) {
  Generator g(1);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const int64_t M = 37, N = 1029, K = 131;
      Tensor A = test::random_tensor(ta ? Shape{K, M} : Shape{M, K}, g);
      Tensor B = test::random_tensor(tb ? Shape{N, K} : Shape{K, N}, g);
      Tensor Am = ta ? Tensor() : A, Bm = tb ? Tensor() : B;
      // Build op(A), op(B) by hand and compare matmul against a naive loop.
      std::vector<double> a = test::values(A), b = test::values(B), ref(M * N, 0.0);
      for (int64_t i = 0; i < M; ++i)
        for (int64_t k = 0; k < K; ++k) {
          const double aik = ta ? a[k * M + i] : a[i * K + k];
          for (int64_t j = 0; j < N; ++j) ref[i * N + j] += aik * (tb ? b[j * K + k] : b[k * N + j]);
        }
      std::vector<double> opa(M * K), opb(K * N);
      for (int64_t i = 0; i < M; ++i)
        for (int64_t k = 0; k < K; ++k) opa[i * K + k] = ta ? a[k * M + i] : a[i * K + k];
      for (int64_t k = 0; k < K; ++k)
        for (int64_t j = 0; j < N; ++j) opb[k * N + j] = tb ? b[j * K + k] : b[k * N + j];
      Tensor out = ops::matmul(Tensor::from_vector(opa, {M, K}), Tensor::from_vector(opb, {K, N}));
      EXPECT_LT(test::max_rel_diff(out, Tensor::from_vector(ref, {M, N})), 1e-12);
    }
}

TEST(GradCheck, CatchesAWrongBackward) {
  // x^2 with a backward that forgets the factor 2: the checker must reject it.
  auto wrong_square = [](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    Tensor y;
    {
      autograd::NoGradGuard g;
      y = ops::mul(x, x);
    }
    Tensor sx = x.detach();
    return autograd::record("wrong_square", y, {x}, [sx](const Tensor& g, const autograd::Node&) {
      return autograd::GradList{ops::mul(g, sx)};
    });
  };
  Generator gen(3);
  Tensor x = test::random_tensor({4, 3}, gen);
  x.set_requires_grad(true);
  const autograd::GradCheckReport bad = autograd::gradcheck(wrong_square, {x});
  EXPECT_FALSE(bad.passed());
  EXPECT_GT(bad.max_rel_error, 0.4);
  const autograd::GradCheckReport good =
      autograd::gradcheck([](const std::vector<Tensor>& in) { return ops::mul(in[0], in[0]); }, {x});
  EXPECT_TRUE(good.passed()) << good.worst;
  EXPECT_LT(good.max_rel_error, 1e-7);
}

// Channel copies whose per-sample stride exceeds cudaMemcpy2D's pitch limit (2^31 bytes
// on an H100): two samples of 2 channels of 16384 x 16384 floats, 10 GB of device memory.
// The emulated GPU lowers its limit instead and copies 64 x 64 planes.
TEST(AutogradCuda, ConcatAndSliceBeyondTheCopyPitchLimit) {
  PMSDSEN_REQUIRE_CUDA();
  int64_t side = 16384;
#ifdef PMSDSEN_CUDA_EMULATE
  side = 64;
  emu::set_max_pitch(20000);  // one 16384-byte plane fits, the 32768-byte pitch of two does not
#endif
  const Shape half = {2, 1, side, side};
  Tensor c = ops::concat_channels({Tensor::full(half, 1.0).to(Device::cuda()),
                                   Tensor::full(half, 2.0).to(Device::cuda())});
  ASSERT_EQ(c.shape(), (Shape{2, 2, side, side}));
  for (int64_t ch : {0, 1}) {
    const std::vector<float> v = ops::slice_channels(c, ch, 1).cpu().to_vector<float>();
    ASSERT_EQ(v.size(), size_t(2 * side * side));
    size_t wrong = 0;
    for (float x : v) wrong += x != static_cast<float>(ch + 1);
    EXPECT_EQ(wrong, 0u) << "channel " << ch;
  }
#ifdef PMSDSEN_CUDA_EMULATE
  emu::set_max_pitch(0);
#endif
}
