// SGD: a hand-computed three-step trajectory (PyTorch semantics, changing learning rate),
// parameters without gradients, momentum 0, and (with a GPU) the fused CUDA step against
// the CPU over many parameters, and the caching of its parameter table.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "autograd/sgd.h"
#include "core/safetensors.h"
#include "tests/test_op_fixtures.h"
#include "tests/test_util.h"

#ifdef PMSDSEN_WITH_CUDA
#include "cuda/optim.h"
#endif

using namespace pmsdsen;

namespace {

Tensor param(std::vector<double> v, DType dtype) {
  Tensor p = Tensor::from_vector(v, {static_cast<int64_t>(v.size())}).to(dtype);
  p.set_requires_grad(true);
  return p;
}

}  // namespace

TEST(Sgd, ThreeStepsMatchTheHandComputedTrajectory) {
  // p0 = (1, -2), constant gradient (0.5, 0.25), momentum 0.9, weight decay 0.01,
  // learning rates 0.1, 0.05, 0.02:
  //   step 1: d = (0.51, 0.23) = buf; p = (0.949, -2.023)
  //   step 2: d = (0.50949, 0.22977); buf = (0.96849, 0.43677); p = (0.9005755, -2.0448385)
  //   step 3: buf = (1.380646755, 0.622644615); p = (0.8729625649, -2.0572913923)
  const std::vector<std::vector<double>> want_p = {
      {0.949, -2.023}, {0.9005755, -2.0448385}, {0.8729625649, -2.0572913923}};
  for (DType dtype : {DType::F64, DType::F32}) {
    Tensor p = param({1.0, -2.0}, dtype);
    Sgd sgd({p}, {0.9, 0.01});
    const double lrs[] = {0.1, 0.05, 0.02};
    const double tol = dtype == DType::F64 ? 1e-15 : 1e-6;
    for (int step = 0; step < 3; ++step) {
      p.set_grad(Tensor::from_vector<double>({0.5, 0.25}, {2}).to(dtype));
      sgd.step(lrs[step]);
      const auto got = test::values(p);
      EXPECT_NEAR(got[0], want_p[step][0], tol) << "step " << step + 1;
      EXPECT_NEAR(got[1], want_p[step][1], tol) << "step " << step + 1;
    }
    const auto buf = test::values(sgd.momentum_buffers()[0]);
    EXPECT_NEAR(buf[0], 1.380646755, tol);
    EXPECT_NEAR(buf[1], 0.622644615, tol);
  }
}

TEST(Sgd, ParametersWithoutGradientAreSkipped) {
  Tensor a = param({1, 2}, DType::F32), b = param({3, 4}, DType::F32);
  Sgd sgd({a, b});
  a.set_grad(Tensor::from_vector<float>({1, 1}, {2}));
  sgd.step(0.5);
  EXPECT_TRUE(sgd.momentum_buffers()[0].defined());
  EXPECT_FALSE(sgd.momentum_buffers()[1].defined());
  EXPECT_EQ(b.to_vector<float>(), (std::vector<float>{3, 4}));
  // b's first step comes later: its buffer starts as its own d, not 0.9 * nothing.
  sgd.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  b.set_grad(Tensor::from_vector<float>({2, 2}, {2}));
  sgd.step(1.0);
  const float d0 = 2 + 1e-4f * 3, d1 = 2 + 1e-4f * 4;
  EXPECT_FLOAT_EQ(b.to_vector<float>()[0], 3 - d0);
  EXPECT_FLOAT_EQ(b.to_vector<float>()[1], 4 - d1);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{1 - 0.5f * (1 + 1e-4f), 2 - 0.5f * (1 + 2e-4f)}));
}

TEST(Sgd, WithoutMomentumNoBufferIsKept) {
  Tensor p = param({1.0}, DType::F64);
  Sgd sgd({p}, {0.0, 0.5});
  for (int i = 0; i < 2; ++i) {
    p.set_grad(Tensor::from_vector<double>({1.0}, {1}));
    sgd.step(0.1);
  }
  // p1 = 1 - 0.1 (1 + 0.5) = 0.85; p2 = 0.85 - 0.1 (1 + 0.425) = 0.7075
  EXPECT_NEAR(p.item<double>(), 0.7075, 1e-15);
  EXPECT_FALSE(sgd.momentum_buffers()[0].defined());
}

TEST(Sgd, BadGradientNamesTheParameter) {
  Tensor p = param({1, 2}, DType::F32);
  Sgd sgd({p});
  p.set_grad(Tensor::zeros({3}));
  try {
    sgd.step(0.1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sgd: gradient float32[3] on cpu of parameter 0"), std::string::npos) << e.what();
  }
}

TEST(SgdCuda, FusedStepMatchesCpuOverManyParameters) {
  PMSDSEN_REQUIRE_CUDA();
  Generator gen(71);
  // Sizes like PMSDSEN's: BN vectors, depthwise kernels, 1x1 convs, one tensor over a chunk.
  const std::vector<int64_t> sizes = {32, 16, 144, 512, 4096, 8191, 8192, 8193, 20000, 3, 1, 36864};
  std::vector<Tensor> cpu_params, gpu_params;
  for (int64_t n : sizes) {
    Tensor p = test::random_tensor({n}, gen, DType::F32);
    cpu_params.push_back(p.clone().set_requires_grad(true));
    gpu_params.push_back(p.to(Device::cuda()).set_requires_grad(true));
  }
  Sgd cpu_sgd(cpu_params), gpu_sgd(gpu_params);
  for (int step = 0; step < 4; ++step) {
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (step == 1 && i == 3) {  // a parameter without gradient in one step
        cpu_params[i].set_grad(Tensor());
        gpu_params[i].set_grad(Tensor());
        continue;
      }
      Tensor g = test::random_tensor({sizes[i]}, gen, DType::F32);
      cpu_params[i].set_grad(g);
      gpu_params[i].set_grad(g.to(Device::cuda()));
    }
    cpu_sgd.step(0.01 * (step + 1));
    gpu_sgd.step(0.01 * (step + 1));
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_LT(test::max_rel_diff(gpu_params[i], cpu_params[i]), 1e-6) << "parameter " << i;
    EXPECT_LT(test::max_rel_diff(gpu_sgd.momentum_buffers()[i], cpu_sgd.momentum_buffers()[i]), 1e-6) << "buffer " << i;
  }
}

#ifdef PMSDSEN_WITH_CUDA
TEST(SgdCuda, TableIsUploadedOnlyWhenItChanges) {
  PMSDSEN_REQUIRE_CUDA();
  Tensor p = Tensor::ones({10000}, DType::F32, Device::cuda());
  Tensor g = Tensor::full({10000}, 0.5, DType::F32, Device::cuda());
  Tensor buf = Tensor::empty({10000}, DType::F32, Device::cuda());
  cuda::FusedSgd fused;
  std::vector<cuda::SgdSlot> slots = {{p.data<float>(), g.data<float>(), buf.data<float>(), 10000, 1}};
  fused.step(slots, 0.1, 0.9, 0.0);
  slots[0].first_step = 0;
  fused.step(slots, 0.1, 0.9, 0.0);
  fused.step(slots, 0.1, 0.9, 0.0);
  EXPECT_EQ(fused.uploads(), 2);
  // buf: 0.5, 0.95, 1.355; p = 1 - 0.1 (0.5 + 0.95 + 1.355)
  EXPECT_NEAR(p.cpu().to_vector<float>()[9999], 1 - 0.1 * 2.805, 1e-6);
  EXPECT_NEAR(buf.cpu().to_vector<float>()[0], 1.355, 1e-6);
}
#endif

// ---- golden values from PyTorch (tests/fixtures/ops.safetensors) ----------------------------

TEST(SgdFixtures, ThreeStepsMatchPyTorch) {
  const auto p = test::fixture_params("sgd");
  Tensor w = test::fixture("sgd", "w_step0", true), b = test::fixture("sgd", "b_step0", true);
  Sgd sgd({w, b}, {p.at("momentum").get<double>(), p.at("weight_decay").get<double>()});
  const std::vector<double> lr = test::values(test::fixture("sgd", "lr"));
  for (int s = 1; s <= p.at("steps").get<int>(); ++s) {
    SCOPED_TRACE(s);
    const std::string step = std::to_string(s);
    w.set_grad(test::fixture("sgd", "w_grad_step" + step));
    b.set_grad(test::fixture("sgd", "b_grad_step" + step));
    sgd.step(lr[s - 1]);
    test::expect_matches_fixture(w, "sgd", "w_step" + step);
    test::expect_matches_fixture(b, "sgd", "b_step" + step);
    test::expect_matches_fixture(sgd.momentum_buffers()[0], "sgd", "w_buf_step" + step);
    test::expect_matches_fixture(sgd.momentum_buffers()[1], "sgd", "b_buf_step" + step);
  }
}
