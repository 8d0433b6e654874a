#pragma once
// Pooling layers (parameter-free): floor-mode windows, average pooling counting padding.
#include "layers/module.h"

namespace pmsdsen {

class AvgPool2d : public Module {
 public:
  AvgPool2d(int64_t kernel, int64_t stride, int64_t padding) : k_(kernel), s_(stride), p_(padding) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AvgPool2d"; }

 private:
  int64_t k_, s_, p_;
};

class MaxPool2d : public Module {
 public:
  MaxPool2d(int64_t kernel, int64_t stride, int64_t padding) : k_(kernel), s_(stride), p_(padding) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "MaxPool2d"; }

 private:
  int64_t k_, s_, p_;
};

// AdaptiveAvgPool2d(1): [N, C, H, W] -> [N, C, 1, 1]
class GlobalAvgPool : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AdaptiveAvgPool2d"; }
};

}  // namespace pmsdsen
