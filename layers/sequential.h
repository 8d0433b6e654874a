#pragma once
// Children "0", "1", ... applied in order, as torch.nn.Sequential (so state-dict keys
// such as `conv.1.running_mean` line up). Parameter-free layers still take an index.
#include <initializer_list>

#include "layers/module.h"

namespace pmsdsen {

class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> layers);
  void push_back(std::shared_ptr<Module> layer);
  Tensor forward(const Tensor& x) override;
  size_t size() const { return children().size(); }
  Module& operator[](size_t i) const { return *children().at(i).second; }
  std::string type_name() const override { return "Sequential"; }
};

}  // namespace pmsdsen
