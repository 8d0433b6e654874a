#include "autograd/gradcheck_suite.h"

#include "autograd/op_table.h"

#include <algorithm>

namespace pmsdsen::autograd {

const std::vector<GradCase>& gradcheck_suite() {
  static const std::vector<GradCase> cases = [] {
    std::vector<GradCase> all;
    add_basic_grad_cases(all);
    add_conv_grad_cases(all);
    add_norm_grad_cases(all);
    add_activation_grad_cases(all);
    add_pool_grad_cases(all);
    add_resize_grad_cases(all);
    add_loss_grad_cases(all);
    // By the op's place in the table; a case naming no op of the table sorts last, where
    // the table's test reports it.
    auto rank = [](const GradCase& c) {
      const auto& table = op_table();
      const OpInfo* op = find_op(c.op);
      return op ? op - table.data() : static_cast<std::ptrdiff_t>(table.size());
    };
    std::stable_sort(all.begin(), all.end(), [&](const GradCase& a, const GradCase& b) { return rank(a) < rank(b); });
    return all;
  }();
  return cases;
}

GradCheckReport run_grad_case(const GradCase& c, Device device, uint64_t seed) {
  Generator gen(seed);
  std::vector<Tensor> inputs = c.make_inputs(gen);
  GradCheckOptions options = c.options;
  if (device.is_cuda()) {
    options.analytic_device = Device::cuda();
    options.analytic_dtype = DType::F32;
    options.atol = std::max(options.atol, c.cuda_atol);
    options.rtol = std::max(options.rtol, c.cuda_rtol);
  }
  return gradcheck(c.fn, inputs, options);
}

Tensor random_input(Generator& gen, const Shape& shape, bool requires_grad, double lo, double hi) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (double& x : v) x = gen.uniform(lo, hi);
  Tensor t = Tensor::from_vector(v, shape);
  t.set_requires_grad(requires_grad);
  return t;
}

}  // namespace pmsdsen::autograd
