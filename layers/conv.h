#pragma once
// Convolution layers, initialised as PyTorch initialises them (Kaiming-uniform with
// a = sqrt(5) for weights, U(+-1/sqrt(fan_in)) for biases).
#include "autograd/ops_conv.h"
#include "core/rng.h"
#include "layers/module.h"

namespace pmsdsen {

struct Conv2dSpec {
  int64_t in_channels, out_channels, kernel = 1;
  int64_t stride = 1, padding = 0, dilation = 1, groups = 1;
  bool bias = true;
};

class Conv2d : public Module {
 public:
  Conv2d(const Conv2dSpec& spec, Generator& gen);
  Tensor forward(const Tensor& x) override;
  const Conv2dSpec& spec() const { return spec_; }
  Tensor& weight() { return *weight_; }
  Tensor* bias() { return bias_; }
  std::string type_name() const override { return "Conv2d"; }

 private:
  Conv2dSpec spec_;
  Tensor* weight_;
  Tensor* bias_ = nullptr;
};

struct ConvTranspose2dSpec {
  int64_t in_channels, out_channels, kernel = 3;
  int64_t stride = 2, padding = 1, output_padding = 1;
  bool bias = true;
};

class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(const ConvTranspose2dSpec& spec, Generator& gen);
  Tensor forward(const Tensor& x) override;
  const ConvTranspose2dSpec& spec() const { return spec_; }
  std::string type_name() const override { return "ConvTranspose2d"; }

 private:
  ConvTranspose2dSpec spec_;
  Tensor* weight_;
  Tensor* bias_ = nullptr;
};

// The 1-in/1-out Conv1d of ECA attention, run across channels: weight [1, 1, k].
class ChannelConv1d : public Module {
 public:
  ChannelConv1d(int64_t kernel, Generator& gen);
  Tensor forward(const Tensor& x) override;  // x [N, C, 1, 1]
  int64_t kernel() const { return kernel_; }
  std::string type_name() const override { return "Conv1d"; }

 private:
  int64_t kernel_;
  Tensor* weight_;
};

}  // namespace pmsdsen
