// PMSDSEN against PyTorch (tests/fixtures/pmsdsen_{gelu,prelu}.safetensors, float64
// references stored as float32): evaluation and training outputs to 1e-4 relative, the
// loss, every parameter gradient to 1e-3 relative, the BN running statistics after the
// training forward. The same on CUDA where a GPU is present.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <utility>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "models/loss.h"
#include "models/weights.h"
#include "tests/test_model_util.h"

using namespace pmsdsen;

namespace {

// max |a - b| / max |b|, the per-tensor relative error used throughout.
double rel_err(const Tensor& ours, const Tensor& ref) { return test::max_rel_diff(ours.cpu(), ref, 1e-30); }

struct FixtureRun {
  double eval[3] = {0, 0, 0}, train[3] = {0, 0, 0};
  double loss = 0, ce[3] = {0, 0, 0}, buffers = 0;
  double grad_worst = 0;           // over tensors whose true gradient is not zero
  std::string grad_worst_name;
  double grad_zero_worst_abs = 0;  // tensors whose true gradient is exactly zero
  double grad_max_ref = 0;         // the largest reference gradient
  size_t grads_compared = 0, grads_zero = 0;
};

FixtureRun run_fixture(const std::string& act, Device device, bool grads) {
  const Safetensors& fx = test::model_fixture(act);
  const Safetensors weights{test::fixture_state_dict(fx), {}};
  PMSDSEN model(weights_config(weights, "fixture"));
  load_weights(model, weights, "fixture");
  model.to(device);
  const Tensor input = fx.tensors.at("input").to(device);
  FixtureRun r;

  model.eval();
  {
    autograd::NoGradGuard no_grad;
    const PmsdsenOutput out = model.run(input);
    const Tensor* o[3] = {&out.logits, &out.aux_x4, &out.aux_x8};
    for (int i = 0; i < 3; ++i)
      r.eval[i] = rel_err(*o[i], fx.tensors.at(std::string("eval.") + kPmsdsenOutputNames[i]));
  }

  model.train();
  const PmsdsenOutput out = model.run(input);
  const Tensor* o[3] = {&out.logits, &out.aux_x4, &out.aux_x8};
  for (int i = 0; i < 3; ++i)
    r.train[i] = rel_err(*o[i], fx.tensors.at(std::string("train.") + kPmsdsenOutputNames[i]));
  const SegLoss loss = segmentation_loss(out, fx.tensors.at("target").to(device));
  r.loss = rel_err(loss.total, fx.tensors.at("train.loss"));
  for (int i = 0; i < 3; ++i)
    r.ce[i] = rel_err(loss.parts[i], fx.tensors.at(std::string("train.ce_") + kPmsdsenOutputNames[i]));

  for (const auto& [name, t] : model.named_buffers()) {
    auto it = fx.tensors.find("train_buffers." + name);
    if (it == fx.tensors.end()) continue;
    r.buffers = test::worse(r.buffers, rel_err(t, it->second));
  }
  if (!grads) return r;

  backward(loss.total);
  for (const auto& [name, p] : model.named_parameters()) {
    const Tensor& ref = fx.tensors.at("grad." + name);
    const Tensor g = p.grad();
    EXPECT_TRUE(g.defined()) << name << " got no gradient";
    if (!g.defined()) continue;
    ++r.grads_compared;
    // Biases feeding a training-mode BN have a true gradient of exactly 0; the reference
    // holds float64 rounding noise there (README: < 1e-9), so relative errors mean nothing.
    double ref_max = 0;
    for (double v : test::values(ref)) ref_max = test::worse(ref_max, std::fabs(v));
    r.grad_max_ref = std::max(r.grad_max_ref, ref_max);
    if (ref_max < 1e-8) {
      ++r.grads_zero;
      for (double v : test::values(g)) r.grad_zero_worst_abs = test::worse(r.grad_zero_worst_abs, std::fabs(v));
    } else if (const double e = rel_err(g, ref); !(e <= r.grad_worst)) {
      r.grad_worst = e;
      r.grad_worst_name = name;
    }
  }
  return r;
}

void expect_matches(const FixtureRun& r, const std::string& what, bool grads) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_LT(r.eval[i], 1e-4) << what << " eval." << kPmsdsenOutputNames[i];
    EXPECT_LT(r.train[i], 1e-4) << what << " train." << kPmsdsenOutputNames[i];
    EXPECT_LT(r.ce[i], 1e-4) << what << " train.ce_" << kPmsdsenOutputNames[i];
  }
  EXPECT_LT(r.loss, 1e-4) << what << " train.loss";
  EXPECT_LT(r.buffers, 1e-4) << what << " BN running statistics";
  std::printf("[ %s ] eval rel err %.2e %.2e %.2e, train %.2e %.2e %.2e, loss %.2e, buffers %.2e\n", what.c_str(),
              r.eval[0], r.eval[1], r.eval[2], r.train[0], r.train[1], r.train[2], r.loss, r.buffers);
  if (!grads) return;
  EXPECT_GT(r.grads_compared, 600u) << what;
  EXPECT_LT(r.grad_worst, 1e-3) << what << " worst gradient " << r.grad_worst_name;
  // Biases feeding a training-mode BN: the true gradient is 0, ours float32 rounding noise,
  // small against the largest gradient (PyTorch's own float32 run is off by 1.4e-5).
  EXPECT_EQ(r.grads_zero, 192u) << what;
  EXPECT_LT(r.grad_zero_worst_abs, 1e-4 * r.grad_max_ref) << what;
  std::printf("[ %s ] %zu gradients, worst rel err %.2e (%s); %zu zero-gradient biases, max |g| %.2e\n",
              what.c_str(), r.grads_compared, r.grad_worst, r.grad_worst_name.c_str(), r.grads_zero,
              r.grad_zero_worst_abs);
}

using Gradients = std::map<std::string, std::vector<double>>;

// Every parameter's gradient of the PReLU fixture network in training mode.
Gradients prelu_gradients(Device device, DType dtype) {
  const Safetensors& fx = test::model_fixture("prelu");
  const Safetensors weights{test::fixture_state_dict(fx), {}};
  PMSDSEN model(weights_config(weights, "fixture"));
  load_weights(model, weights, "fixture");
  model.to(dtype);
  model.to(device);
  model.train();
  const PmsdsenOutput out = model.run(fx.tensors.at("input").to(dtype).to(device));
  backward(segmentation_loss(out, fx.tensors.at("target").to(device)).total);
  Gradients g;
  for (const auto& [name, p] : model.named_parameters()) g[name] = test::values(p.grad());
  return g;
}

// Per tensor, max |a - ref| / max(max |ref|, 1e-3 x the largest gradient anywhere): the
// worst and the mean over tensors.
std::pair<double, double> gradient_errors(const Gradients& a, const Gradients& ref) {
  double largest = 0;
  for (const auto& [name, v] : ref)
    for (double x : v) largest = test::worse(largest, std::fabs(x));
  double worst = 0, sum = 0;
  for (const auto& [name, v] : ref) {
    const std::vector<double>& w = a.at(name);
    double diff = 0, scale = 1e-3 * largest;
    for (size_t i = 0; i < v.size(); ++i) {
      diff = test::worse(diff, std::fabs(w[i] - v[i]));
      scale = std::max(scale, std::fabs(v[i]));
    }
    worst = test::worse(worst, diff / scale);
    sum += diff / scale;
  }
  return {worst, sum / static_cast<double>(ref.size())};
}

}  // namespace

// PReLU's training gradients are ill-conditioned: an activation that rounding moves across
// 0 switches its slope, so even the CPU's float32 differs from float64 by percents on some
// tensors. The CUDA backend must be as accurate as the CPU's float32, no more is possible.
TEST(ModelNumerics, PreluGradientsOnCudaAreAsAccurateAsOnTheCpu) {
  PMSDSEN_REQUIRE_CUDA();
  const Gradients ref = prelu_gradients(Device::cpu(), DType::F64);
  const auto [cpu_worst, cpu_mean] = gradient_errors(prelu_gradients(Device::cpu(), DType::F32), ref);
  const auto [cuda_worst, cuda_mean] = gradient_errors(prelu_gradients(Device::cuda(), DType::F32), ref);
  std::printf("[ prelu gradients against float64 ] cpu worst %.2e mean %.2e; cuda worst %.2e mean %.2e\n", cpu_worst,
              cpu_mean, cuda_worst, cuda_mean);
  // The worst tensor is whichever a few slope switches happen to hit (2e-3 on either
  // backend, depending on the build's vectorisation); the mean over tensors is stable.
  EXPECT_LT(cpu_worst, 1e-2);
  EXPECT_LT(cuda_worst, 1e-2);
  EXPECT_LE(cuda_mean, 2 * cpu_mean + 1e-5);
}

TEST(ModelNumerics, GeluMatchesPyTorchOnCpu) {
  expect_matches(run_fixture("gelu", Device::cpu(), true), "gelu cpu", true);
}

TEST(ModelNumerics, PreluMatchesPyTorchOnCpu) {
  expect_matches(run_fixture("prelu", Device::cpu(), false), "prelu cpu", false);
}

TEST(ModelNumerics, GeluMatchesPyTorchOnCuda) {
  PMSDSEN_REQUIRE_CUDA();
  expect_matches(run_fixture("gelu", Device::cuda(), true), "gelu cuda", true);
}

TEST(ModelNumerics, PreluMatchesPyTorchOnCuda) {
  PMSDSEN_REQUIRE_CUDA();
  expect_matches(run_fixture("prelu", Device::cuda(), false), "prelu cuda", false);
}
