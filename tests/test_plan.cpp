// The inference plan (models/plan/) against the eager evaluation forward: logits within
// 1e-4 relative, the same classes wherever the top-2 margin exceeds 1e-3; both
// activations, sizes whose feature maps are odd, batches > 1, the deep-supervision heads,
// and its memory behaviour (arena reuse, no arena growth per run).
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/grad_mode.h"
#include "core/init.h"
#include "models/plan/plan.h"
#include "tests/test_plan_util.h"
#include "tests/test_util.h"

namespace pmsdsen {
namespace {

using test::max_rel_diff;

struct Case {
  Activation act;
  int64_t n, h, w;
};

class PlanVsEager : public ::testing::TestWithParam<Case> {};

TEST_P(PlanVsEager, LogitsAndClassesMatch) {
  const Case c = GetParam();
  std::unique_ptr<PMSDSEN> model = test::trained_looking_model(c.act, 19, 7);
  Generator gen(11);
  Tensor x = Tensor::empty({c.n, 3, c.h, c.w});
  init::uniform_(x, -2.0, 2.0, gen);
  PmsdsenOutput ref;
  {
    autograd::NoGradGuard no_grad;
    ref = model->run(x);
  }
  plan::InferencePlan plan(*model);
  const PmsdsenOutput got = plan.run(x, true);
  EXPECT_LT(max_rel_diff(got.logits, ref.logits), 1e-4);
  EXPECT_LT(max_rel_diff(got.aux_x4, ref.aux_x4), 1e-4);
  EXPECT_LT(max_rel_diff(got.aux_x8, ref.aux_x8), 1e-4);
  const test::ClassAgreement a = test::class_agreement(got.logits, ref.logits, 1e-3);
  EXPECT_GT(a.compared, a.pixels / 2) << "too few pixels with a clear margin to judge";
  EXPECT_EQ(a.disagree, 0) << "of " << a.compared << " pixels";
  // The logits alone (the heads skipped) are the same numbers.
  const Tensor only = plan.forward(x);
  EXPECT_EQ(max_rel_diff(only, got.logits), 0.0);
}

INSTANTIATE_TEST_SUITE_P(Plan, PlanVsEager,
                         ::testing::Values(Case{Activation::GELU, 1, 64, 96}, Case{Activation::PReLU, 1, 64, 96},
                                           Case{Activation::GELU, 2, 40, 72}, Case{Activation::PReLU, 3, 24, 40},
                                           Case{Activation::GELU, 1, 8, 8},
                                           // large enough to run image by image
                                           Case{Activation::PReLU, 2, 256, 264}));

TEST(Plan, ReusesItsArenaAndOutputs) {
  std::unique_ptr<PMSDSEN> model = test::trained_looking_model(Activation::GELU, 5, 3);
  plan::InferencePlan plan(*model);
  Generator gen(1);
  Tensor x = Tensor::empty({1, 3, 32, 48});
  init::uniform_(x, -1.0, 1.0, gen);
  Tensor first = plan.forward(x).clone();
  const size_t arena = plan.arena_bytes();
  EXPECT_GT(arena, 0u);
  const void* out_ptr = nullptr;
  {
    Tensor y = plan.forward(x);
    out_ptr = y.raw_data();
    EXPECT_EQ(max_rel_diff(y, first), 0.0) << "a second run gives other numbers";
  }
  // The caller dropped y: the next run writes the same buffer.
  Tensor y2 = plan.forward(x);
  EXPECT_EQ(y2.raw_data(), out_ptr);
  // While the caller holds it, a run writes a fresh one and leaves it alone.
  Tensor y3 = plan.forward(x);
  EXPECT_NE(y3.raw_data(), y2.raw_data());
  EXPECT_EQ(max_rel_diff(y2, first), 0.0);
  EXPECT_EQ(plan.arena_bytes(), arena);
  // Another shape compiles another program; results stay right.
  Tensor x2 = Tensor::empty({2, 3, 16, 24});
  init::uniform_(x2, -1.0, 1.0, gen);
  Tensor ref;
  {
    autograd::NoGradGuard no_grad;
    ref = model->forward(x2);
  }
  EXPECT_LT(max_rel_diff(plan.forward(x2), ref), 1e-4);
}

TEST(Plan, ArenaIsSmallerThanTheSumOfItsBuffers) {
  std::unique_ptr<PMSDSEN> model = test::trained_looking_model(Activation::GELU, 19, 3);
  plan::InferencePlan plan(*model);
  const plan::Program& p = plan.program(1, 64, 128, false);
  size_t total = 0;
  for (const auto& b : p.buffers()) total += b.bytes;
  EXPECT_EQ(plan.buffer_bytes(), total);
  EXPECT_LT(p.arena_bytes() * 4, total) << "lifetimes should let most buffers share memory";
  // Buffers alive at the same time never overlap.
  const auto& bufs = p.buffers();
  for (size_t i = 0; i < bufs.size(); ++i)
    for (size_t j = i + 1; j < bufs.size(); ++j) {
      const bool live_together = !(bufs[i].last < bufs[j].first || bufs[j].last < bufs[i].first);
      const bool overlap = bufs[i].offset < bufs[j].offset + bufs[j].bytes && bufs[j].offset < bufs[i].offset + bufs[i].bytes;
      ASSERT_FALSE(live_together && overlap) << bufs[i].name << " and " << bufs[j].name;
    }
}

TEST(Plan, RejectsWhatItCannotRun) {
  std::unique_ptr<PMSDSEN> model = test::trained_looking_model(Activation::GELU, 19, 3);
  plan::InferencePlan plan(*model);
  EXPECT_NE(test::error_of([&] { plan.forward(Tensor::zeros({1, 3, 30, 32})); }).find("multiples of 8"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { plan.forward(Tensor::zeros({1, 3, 32, 32}, DType::F64)); }).find("float32"),
            std::string::npos);
}

}  // namespace
}  // namespace pmsdsen
