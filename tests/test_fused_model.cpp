// Fused inference (models/fused_model.h): the fused copy of PMSDSEN against the eager
// evaluation forward, in double on the CPU (the fusion's algebra, to 1e-9), in float on
// the CPU and on CUDA (1e-4 relative, the same classes wherever the top-2 margin exceeds
// 1e-3), both activations, odd feature-map sizes, batches > 1, all three heads; the copy
// is independent of the original; with gradients recorded it runs the eager path.
#include <gtest/gtest.h>

#include "autograd/grad_mode.h"
#include "models/fused_model.h"
#include "tests/test_plan_util.h"
#include "tests/test_util.h"

namespace pmsdsen {
namespace {

using test::max_rel_diff;

PmsdsenOutput eval_run(PMSDSEN& model, const Tensor& x) {
  autograd::NoGradGuard no_grad;
  return model.run(x);
}

void expect_close(const PmsdsenOutput& got, const PmsdsenOutput& ref, double tol, const std::string& what) {
  EXPECT_LT(max_rel_diff(got.logits, ref.logits), tol) << what << " logits";
  EXPECT_LT(max_rel_diff(got.aux_x4, ref.aux_x4), tol) << what << " aux_x4";
  EXPECT_LT(max_rel_diff(got.aux_x8, ref.aux_x8), tol) << what << " aux_x8";
}

void expect_same_classes(const Tensor& got, const Tensor& ref) {
  const test::ClassAgreement a = test::class_agreement(got.cpu(), ref.cpu(), 1e-3);
  EXPECT_GT(a.compared, a.pixels / 2) << "too few pixels with a clear margin to judge";
  EXPECT_EQ(a.disagree, 0) << "of " << a.compared << " pixels";
}

struct Case {
  Activation act;
  int64_t n, h, w;
};

const Case kCases[] = {{Activation::GELU, 2, 40, 56}, {Activation::PReLU, 1, 24, 40}, {Activation::PReLU, 3, 8, 8}};

TEST(FusedModel, EqualsTheEagerForwardInDouble) {
  for (const Case& c : kCases) {
    std::unique_ptr<PMSDSEN> model = test::trained_looking_model(c.act, 7, 3);
    model->to(DType::F64);
    Generator gen(4);
    const Tensor x = test::random_tensor({c.n, 3, c.h, c.w}, gen, DType::F64, -2, 2);
    std::unique_ptr<PMSDSEN> fused = fused_copy(*model, Device::cpu());
    expect_close(eval_run(*fused, x), eval_run(*model, x), 1e-9, activation_name(c.act));
  }
}

TEST(FusedModel, MatchesTheEagerForwardInFloatWithTheSameClasses) {
  for (const Case& c : kCases) {
    std::unique_ptr<PMSDSEN> model = test::trained_looking_model(c.act, 19, 5);
    Generator gen(6);
    const Tensor x = test::random_tensor({c.n, 3, c.h, c.w}, gen, DType::F32, -2, 2);
    std::unique_ptr<PMSDSEN> fused = fused_copy(*model, Device::cpu());
    const PmsdsenOutput ref = eval_run(*model, x), got = eval_run(*fused, x);
    expect_close(got, ref, 1e-4, activation_name(c.act));
    expect_same_classes(got.logits, ref.logits);
  }
}

TEST(FusedModel, IsACopyAndFallsBackToEagerWithGradients) {
  std::unique_ptr<PMSDSEN> model = test::trained_looking_model(Activation::GELU, 5, 7);
  Generator gen(8);
  const Tensor x = test::random_tensor({1, 3, 16, 24}, gen, DType::F32);
  std::unique_ptr<PMSDSEN> fused = fused_copy(*model, Device::cpu());
  const Tensor before = eval_run(*fused, x).logits;
  // The original changes; the copy does not see it.
  for (auto& [name, t] : model->state_dict())
    if (is_floating(t.dtype()) && name.find("running_var") != std::string::npos) t.fill_(3.0);
  EXPECT_EQ(eval_run(*fused, x).logits.to_vector<float>(), before.to_vector<float>());
  EXPECT_GT(max_rel_diff(eval_run(*model, x).logits, before), 1e-3);  // the change is visible eagerly
  // With gradients recorded the fused copy runs the eager path: the same numbers, bit for
  // bit, as after set_fused_inference(false).
  auto forward_with_grad = [&] {
    autograd::EnableGradGuard grad;
    return fused->forward(x).detach();
  };
  const Tensor with_grad = forward_with_grad();
  fused->set_fused_inference(false);
  EXPECT_EQ(with_grad.to_vector<float>(), forward_with_grad().to_vector<float>());
  const Tensor unfused = eval_run(*fused, x).logits;
  EXPECT_GT(max_rel_diff(unfused, before), 0.0);  // folding rounds differently: the paths differ
  EXPECT_LT(max_rel_diff(unfused, before), 1e-4);
}

TEST(FusedModelCuda, MatchesTheEagerForwardOnCuda) {
  PMSDSEN_REQUIRE_CUDA();
  for (const Case& c : {kCases[0], kCases[1]}) {
    std::unique_ptr<PMSDSEN> model = test::trained_looking_model(c.act, 19, 9);
    Generator gen(10);
    const Tensor x = test::random_tensor({c.n, 3, c.h, c.w}, gen, DType::F32, -2, 2);
    const PmsdsenOutput ref = eval_run(*model, x);
    std::unique_ptr<PMSDSEN> fused = fused_copy(*model, Device::cuda());
    const PmsdsenOutput got = eval_run(*fused, x.to(Device::cuda()));
    EXPECT_TRUE(got.logits.is_cuda());
    expect_close(got, ref, 1e-4, activation_name(c.act));
    expect_same_classes(got.logits, ref.logits);
  }
}

}  // namespace
}  // namespace pmsdsen
