// The SGD update against steps computed by hand (PyTorch semantics: weight decay added
// to the gradient, momentum buffer = gradient on the first step, dampening 0).
#include <gtest/gtest.h>

#include "autograd/sgd.h"

namespace pmsdsen {
namespace {

TEST(TrainSgd, TwoStepsMatchTheHandComputation) {
  Tensor p = Tensor::from_vector<double>({1.0, -2.0}, {2});
  p.set_requires_grad(true);
  Tensor untouched = Tensor::from_vector<double>({3.0}, {1});
  untouched.set_requires_grad(true);  // never gets a gradient: skipped, no buffer
  Sgd sgd({p, untouched}, {0.9, 0.01});

  // Step 1, lr 0.1, g = [0.5, 0.25]:
  //   d = g + 0.01 p = [0.51, 0.23];  buf = d;  p = p - 0.1 buf = [0.949, -2.023].
  p.set_grad(Tensor::from_vector<double>({0.5, 0.25}, {2}));
  sgd.step(0.1);
  std::vector<double> v = p.to_vector<double>();
  EXPECT_NEAR(v[0], 0.949, 1e-15);
  EXPECT_NEAR(v[1], -2.023, 1e-15);
  std::vector<double> b = sgd.momentum_buffers()[0].to_vector<double>();
  EXPECT_NEAR(b[0], 0.51, 1e-15);
  EXPECT_NEAR(b[1], 0.23, 1e-15);
  EXPECT_FALSE(sgd.momentum_buffers()[1].defined());
  EXPECT_EQ(untouched.to_vector<double>()[0], 3.0);

  // Step 2, lr 0.05, g = [-0.1, 0.3]:
  //   d = g + 0.01 p = [-0.09051, 0.27977];  buf = 0.9 [0.51, 0.23] + d = [0.36849, 0.48677];
  //   p = p - 0.05 buf = [0.9305755, -2.0473385].
  sgd.zero_grad();
  EXPECT_FALSE(p.grad().defined());
  p.set_grad(Tensor::from_vector<double>({-0.1, 0.3}, {2}));
  sgd.step(0.05);
  v = p.to_vector<double>();
  b = sgd.momentum_buffers()[0].to_vector<double>();
  EXPECT_NEAR(b[0], 0.36849, 1e-14);
  EXPECT_NEAR(b[1], 0.48677, 1e-14);
  EXPECT_NEAR(v[0], 0.9305755, 1e-14);
  EXPECT_NEAR(v[1], -2.0473385, 1e-14);
}

TEST(TrainSgd, RestoredMomentumContinuesExactly) {
  // What --resume does: a fresh optimiser given the saved buffers steps exactly as the
  // original one (float32, bit for bit).
  auto make = [] {
    Tensor p = Tensor::from_vector<float>({0.3f, -0.7f, 1.1f}, {3});
    p.set_requires_grad(true);
    return p;
  };
  Tensor a = make(), b = make();
  Sgd sa({a}), sb({b});
  const std::vector<std::vector<float>> grads = {{0.1f, -0.2f, 0.3f}, {0.05f, 0.4f, -0.6f}, {-0.3f, 0.2f, 0.1f}};
  for (int s = 0; s < 3; ++s) {
    a.set_grad(Tensor::from_vector<float>(grads[s], {3}));
    sa.step(0.1 * (s + 1));
  }
  for (int s = 0; s < 2; ++s) {
    b.set_grad(Tensor::from_vector<float>(grads[s], {3}));
    sb.step(0.1 * (s + 1));
  }
  Tensor c = Tensor::from_vector<float>(b.to_vector<float>(), {3});
  c.set_requires_grad(true);
  Sgd sc({c});
  sc.momentum_buffers()[0] = sb.momentum_buffers()[0].clone();
  c.set_grad(Tensor::from_vector<float>(grads[2], {3}));
  sc.step(0.3);
  EXPECT_EQ(c.to_vector<float>(), a.to_vector<float>());
}

}  // namespace
}  // namespace pmsdsen
