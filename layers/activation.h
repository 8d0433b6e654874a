#pragma once
// Activation layers. GELU, LeakyReLU and Sigmoid hold no parameters; PReLU holds one
// slope per channel (initialised to 0.25, as PyTorch).
#include <memory>
#include <string>

#include "layers/module.h"

namespace pmsdsen {

class GELU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "GELU"; }
};

class PReLU : public Module {
 public:
  explicit PReLU(int64_t channels, double init = 0.25);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "PReLU"; }
  const Tensor& weight() const { return *weight_; }

 private:
  Tensor* weight_;
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : slope_(negative_slope) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LeakyReLU"; }
  double negative_slope() const { return slope_; }

 private:
  double slope_;
};

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sigmoid"; }
};

class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string type_name() const override { return "Identity"; }
};

enum class Activation { GELU, PReLU };
Activation parse_activation(const std::string& name);  // "gelu" | "prelu"
std::string activation_name(Activation a);
std::shared_ptr<Module> make_activation(Activation a, int64_t channels);

}  // namespace pmsdsen
