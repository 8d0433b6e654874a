#pragma once
// Initialisers, drawn on the CPU from a Generator and copied to the tensor's device.
#include "core/rng.h"
#include "core/tensor.h"

namespace pmsdsen::init {

void uniform_(Tensor& t, double lo, double hi, Generator& gen);
void normal_(Tensor& t, double mean, double stddev, Generator& gen);

// fan_in as PyTorch computes it: size(1) * product of the kernel dims (dims 2..).
int64_t fan_in(const Tensor& weight);

// PyTorch's default for Conv1d/Conv2d/ConvTranspose2d weights:
// kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
void kaiming_uniform_conv_(Tensor& weight, Generator& gen);
// PyTorch's default for a convolution bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with the
// weight's fan_in.
void conv_bias_(Tensor& bias, int64_t weight_fan_in, Generator& gen);

}  // namespace pmsdsen::init
