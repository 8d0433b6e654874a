#include "autograd/gradcheck.h"

#include <cmath>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/rng.h"

namespace pmsdsen::autograd {
namespace {

// sum(out * r), accumulated in double on the host.
double project(const Tensor& out, const std::vector<double>& r) {
  const std::vector<double> v = out.to(DType::F64).cpu().to_vector<double>();
  PMSDSEN_CHECK(v.size() == r.size(), "gradcheck: the function's output changed size between calls");
  double acc = 0.0;
  for (size_t i = 0; i < v.size(); ++i) acc += v[i] * r[i];
  return acc;
}

}  // namespace

GradCheckReport gradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs,
                          const GradCheckOptions& options) {
  for (const Tensor& t : inputs) {
    if (!t.defined()) continue;
    PMSDSEN_CHECK(t.device().is_cpu(), "gradcheck: inputs must be CPU tensors, got ", t.str());
    PMSDSEN_CHECK(!t.requires_grad() || t.dtype() == DType::F64,
                  "gradcheck: checked inputs must be float64 for accurate differences, got ", t.str());
  }

  // Analytic gradients, on the requested device and dtype.
  std::vector<Tensor> analytic_inputs;
  const bool same_backend = options.analytic_device.is_cpu() && options.analytic_dtype == DType::F64;
  for (const Tensor& t : inputs) {
    if (!t.defined()) {
      analytic_inputs.push_back(t);
      continue;
    }
    Tensor a = same_backend ? t : t.detach();
    if (!same_backend) {
      if (is_floating(t.dtype())) a = a.to(options.analytic_dtype);
      a = a.to(options.analytic_device);
      a.set_requires_grad(t.requires_grad());
    } else {
      a.set_grad(Tensor());
    }
    analytic_inputs.push_back(a);
  }
  Tensor out;
  {
    EnableGradGuard grad_on;
    out = f(analytic_inputs);
  }
  check_defined(out, "gradcheck", "output of f");
  Generator gen(options.seed);
  std::vector<double> r(static_cast<size_t>(out.numel()));
  for (double& x : r) x = gen.uniform(-1.0, 1.0);
  PMSDSEN_CHECK(out.requires_grad(), "gradcheck: the output does not depend on any checked input");
  Tensor r_tensor = Tensor::from_vector(r, out.shape()).to(out.dtype()).to(out.device());
  backward(out, r_tensor);

  GradCheckReport report;
  NoGradGuard no_grad;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.defined() || !x.requires_grad()) continue;
    Tensor g = analytic_inputs[k].grad();
    std::vector<double> analytic = g.defined() ? g.to(DType::F64).cpu().to_vector<double>()
                                               : std::vector<double>(x.numel(), 0.0);
    double* data = x.data<double>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double saved = data[i];
      data[i] = saved + options.eps;
      const double plus = project(f(inputs), r);
      data[i] = saved - options.eps;
      const double minus = project(f(inputs), r);
      data[i] = saved;
      const double numeric = (plus - minus) / (2.0 * options.eps);
      const double a = analytic[i];
      const double abs_err = std::fabs(a - numeric);
      const double rel_err = abs_err / std::max(std::fabs(numeric), options.atol);
      const bool ok = abs_err <= options.atol + options.rtol * std::fabs(numeric) && std::isfinite(a);
      report.checked++;
      if (!ok) report.failed++;
      if (!std::isfinite(a) || abs_err > report.max_abs_error) {
        report.worst = str("input ", k, " ", shape_str(x.shape()), " element ", i, ": analytic ", a,
                           ", numeric ", numeric);
      }
      report.max_abs_error = std::max(report.max_abs_error, std::isfinite(a) ? abs_err : INFINITY);
      report.max_rel_error = std::max(report.max_rel_error, std::isfinite(a) ? rel_err : INFINITY);
    }
  }
  return report;
}

}  // namespace pmsdsen::autograd
