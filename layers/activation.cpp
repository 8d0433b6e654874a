#include "layers/activation.h"

#include "autograd/ops_activation.h"

namespace pmsdsen {

Tensor GELU::forward(const Tensor& x) { return ops::gelu(x); }

PReLU::PReLU(int64_t channels, double init) {
  weight_ = &register_parameter("weight", Tensor::full({channels}, init));
}

Tensor PReLU::forward(const Tensor& x) { return ops::prelu(x, *weight_); }

Tensor LeakyReLU::forward(const Tensor& x) { return ops::leaky_relu(x, slope_); }

Tensor Sigmoid::forward(const Tensor& x) { return ops::sigmoid(x); }

Activation parse_activation(const std::string& name) {
  if (name == "gelu") return Activation::GELU;
  if (name == "prelu") return Activation::PReLU;
  PMSDSEN_FAIL("unknown activation '", name, "': expected 'gelu' or 'prelu'");
}

std::string activation_name(Activation a) { return a == Activation::GELU ? "gelu" : "prelu"; }

std::shared_ptr<Module> make_activation(Activation a, int64_t channels) {
  if (a == Activation::PReLU) return std::make_shared<PReLU>(channels);
  return std::make_shared<GELU>();
}

}  // namespace pmsdsen
