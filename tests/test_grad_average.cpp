// The leaf-gradient hook of backward() and GradAverager in one process (where it leaves
// the gradients as they are). Across ranks: tests/mpi/test_mpi_grad_average.cpp.
#include <gtest/gtest.h>

#include <vector>

#include "autograd/engine.h"
#include "autograd/grad_average.h"
#include "autograd/ops_basic.h"
#include "tests/test_util.h"

namespace pmsdsen {
namespace {

TEST(LeafGradReadyHook, CalledOnceALeafWithItsCompleteGradient) {
  Tensor a = Tensor::from_vector<double>({1, 2}, {2}).set_requires_grad(true);
  Tensor b = Tensor::from_vector<double>({3, 4}, {2}).set_requires_grad(true);
  std::vector<std::pair<const TensorImpl*, std::vector<double>>> calls;
  {
    autograd::LeafGradReadyHook hook([&](const Tensor& leaf) {
      calls.emplace_back(leaf.impl(), leaf.grad().to_vector<double>());
    });
    EXPECT_NE(test::error_of([] { autograd::LeafGradReadyHook second([](const Tensor&) {}); })
                  .find("LeafGradReadyHook: this thread has one already"),
              std::string::npos);
    backward(ops::sum(a * b + a * a));  // a is used three times
  }
  ASSERT_EQ(calls.size(), 2u);
  for (const auto& [impl, grad] : calls) {
    if (impl == a.impl()) EXPECT_EQ(grad, (std::vector<double>{3 + 2, 4 + 4}));
    else if (impl == b.impl()) EXPECT_EQ(grad, (std::vector<double>{1, 2}));
    else ADD_FAILURE() << "a leaf that is neither a nor b";
  }
  backward(ops::sum(a));  // the hook is gone with its scope
  EXPECT_EQ(calls.size(), 2u);
}

TEST(GradAverager, OneProcessLeavesGradientsAsTheyAre) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3}, {3}).set_requires_grad(true);
  auto single = comm::single_process();
  GradAverageOptions o;
  o.bucket_bytes = 4;
  GradAverager avg({a}, *single, o);
  EXPECT_EQ(avg.bucket_count(), 1);
  avg.begin();
  backward(ops::sum(a * a));
  const Tensor before = a.grad();
  avg.finish();
  EXPECT_TRUE(a.grad().same(before));
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{2, 4, 6}));
  EXPECT_EQ(avg.started_during_backward(), 0);
}

TEST(GradAverager, RefusesBadArguments) {
  auto single = comm::single_process();
  Tensor a = Tensor::zeros({2}).set_requires_grad(true);
  GradAverageOptions o;
  o.bucket_bytes = 0;
  EXPECT_NE(test::error_of([&] { GradAverager g({a}, *single, o); }).find("bucket_bytes must be positive, got 0"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { GradAverager g({a, a}, *single); }).find("parameter 0 is listed twice"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { GradAverager g({Tensor::zeros({2}, DType::I32)}, *single); })
                .find("GradAverager: parameter 0 is a"),
            std::string::npos);
  GradAverager g({a}, *single);
  EXPECT_NE(test::error_of([&] { g.finish(); }).find("finish without begin()"), std::string::npos);
  g.begin();
  EXPECT_NE(test::error_of([&] { g.begin(); }).find("the previous pass was not finished"), std::string::npos);
  g.finish();
}

}  // namespace
}  // namespace pmsdsen
