#include "core/init.h"

#include <cmath>
#include <vector>

namespace pmsdsen::init {
namespace {

template <class Draw>
void fill_with(Tensor& t, Draw draw) {
  check_floating(t, "init", "tensor");
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (double& x : v) x = draw();
  Tensor host = Tensor::from_vector(v, t.shape()).to(t.dtype());
  t.copy_(host.to(t.device()));
}

}  // namespace

void uniform_(Tensor& t, double lo, double hi, Generator& gen) {
  fill_with(t, [&] { return gen.uniform(lo, hi); });
}

void normal_(Tensor& t, double mean, double stddev, Generator& gen) {
  fill_with(t, [&] { return gen.normal(mean, stddev); });
}

int64_t fan_in(const Tensor& weight) {
  PMSDSEN_CHECK(weight.dim() >= 2, "fan_in: weight must have at least 2 dimensions, got ",
                weight.str());
  int64_t f = weight.size(1);
  for (int64_t d = 2; d < weight.dim(); ++d) f *= weight.size(d);
  return f;
}

void kaiming_uniform_conv_(Tensor& weight, Generator& gen) {
  // gain = sqrt(2 / (1 + a^2)) with a = sqrt(5); bound = gain * sqrt(3 / fan_in).
  const double bound = std::sqrt(2.0 / 6.0) * std::sqrt(3.0 / static_cast<double>(fan_in(weight)));
  uniform_(weight, -bound, bound, gen);
}

void conv_bias_(Tensor& bias, int64_t weight_fan_in, Generator& gen) {
  const double bound = weight_fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(weight_fan_in)) : 0.0;
  uniform_(bias, -bound, bound, gen);
}

}  // namespace pmsdsen::init
