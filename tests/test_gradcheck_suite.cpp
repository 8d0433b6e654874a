// Runs every case of the gradient-check suite: float64 finite differences on the CPU,
// and, where a GPU is present, the CUDA backward against them, CUDA/CPU parity of
// outputs and gradients, and bit-identical CUDA gradients run after run.
#include <gtest/gtest.h>

#include "autograd/engine.h"
#include "autograd/gradcheck_suite.h"
#include "tests/test_util.h"

using namespace pmsdsen;
using namespace pmsdsen::autograd;

namespace {

class GradSuite : public ::testing::TestWithParam<size_t> {
 protected:
  const GradCase& grad_case() const { return gradcheck_suite().at(GetParam()); }
};

std::string case_name(const ::testing::TestParamInfo<size_t>& info) {
  std::string name = gradcheck_suite().at(info.param).op + "_" + std::to_string(info.param);
  for (char& c : name)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

// Output and input gradients of a case with its inputs converted to float32 on `device`.
struct F32Run {
  Tensor out;
  std::vector<Tensor> grads;
};

F32Run run_f32(const GradCase& c, const std::vector<Tensor>& inputs64, Device device) {
  std::vector<Tensor> in;
  for (const Tensor& t : inputs64) {
    if (!t.defined()) {
      in.push_back(t);
      continue;
    }
    Tensor x = (is_floating(t.dtype()) ? t.detach().to(DType::F32) : t.detach().clone()).to(device);
    if (x.device() == t.device() && x.dtype() == t.dtype()) x = x.clone();
    x.set_requires_grad(t.requires_grad());
    in.push_back(x);
  }
  F32Run r;
  r.out = c.fn(in);
  Generator g(99);
  Tensor gout = test::random_tensor(r.out.shape(), g, DType::F32).to(device);
  backward(r.out, gout);
  for (const Tensor& x : in) r.grads.push_back(x.defined() && x.requires_grad() ? x.grad() : Tensor());
  return r;
}

TEST_P(GradSuite, CpuFiniteDifferences) {
  const GradCase& c = grad_case();
  const GradCheckReport r = run_grad_case(c, Device::cpu());
  EXPECT_TRUE(r.passed()) << c.op << " " << c.config << ": max abs " << r.max_abs_error
                          << ", max rel " << r.max_rel_error << ", worst " << r.worst;
}

TEST_P(GradSuite, CudaBackwardAgainstFiniteDifferences) {
  PMSDSEN_REQUIRE_CUDA();
  const GradCase& c = grad_case();
  const GradCheckReport r = run_grad_case(c, Device::cuda());
  EXPECT_TRUE(r.passed()) << c.op << " " << c.config << ": max abs " << r.max_abs_error
                          << ", max rel " << r.max_rel_error << ", worst " << r.worst;
}

TEST_P(GradSuite, CudaMatchesCpu) {
  PMSDSEN_REQUIRE_CUDA();
  const GradCase& c = grad_case();
  Generator gen(5);
  const std::vector<Tensor> inputs = c.make_inputs(gen);
  F32Run cpu = run_f32(c, inputs, Device::cpu());
  F32Run gpu = run_f32(c, inputs, Device::cuda());
  EXPECT_LT(test::max_rel_diff(gpu.out, cpu.out), 1e-5) << c.op << " " << c.config << " output";
  for (size_t i = 0; i < cpu.grads.size(); ++i) {
    if (!cpu.grads[i].defined()) continue;
    ASSERT_TRUE(gpu.grads[i].defined()) << c.op << " input " << i;
    EXPECT_LT(test::max_rel_diff(gpu.grads[i], cpu.grads[i]), 1e-4)
        << c.op << " " << c.config << " gradient of input " << i;
  }
}

TEST_P(GradSuite, CudaGradientsAreDeterministic) {
  PMSDSEN_REQUIRE_CUDA();
  const GradCase& c = grad_case();
  Generator gen(6);
  const std::vector<Tensor> inputs = c.make_inputs(gen);
  F32Run a = run_f32(c, inputs, Device::cuda());
  F32Run b = run_f32(c, inputs, Device::cuda());
  EXPECT_EQ(a.out.cpu().to_vector<float>(), b.out.cpu().to_vector<float>()) << c.op;
  for (size_t i = 0; i < a.grads.size(); ++i) {
    if (!a.grads[i].defined()) continue;
    EXPECT_EQ(a.grads[i].cpu().to_vector<float>(), b.grads[i].cpu().to_vector<float>())
        << c.op << " " << c.config << " gradient of input " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(All, GradSuite, ::testing::Range<size_t>(0, gradcheck_suite().size()), case_name);

}  // namespace
