#include "layers/conv.h"

#include "core/init.h"

namespace pmsdsen {

Conv2d::Conv2d(const Conv2dSpec& spec, Generator& gen) : spec_(spec) {
  PMSDSEN_CHECK(spec.in_channels > 0 && spec.out_channels > 0 && spec.groups > 0 &&
                    spec.in_channels % spec.groups == 0 && spec.out_channels % spec.groups == 0,
                "Conv2d: channels ", spec.in_channels, " -> ", spec.out_channels,
                " are not divisible by groups ", spec.groups);
  Tensor w = Tensor::empty({spec.out_channels, spec.in_channels / spec.groups, spec.kernel, spec.kernel});
  init::kaiming_uniform_conv_(w, gen);
  const int64_t fan_in = init::fan_in(w);
  weight_ = &register_parameter("weight", w);
  if (spec.bias) {
    Tensor b = Tensor::empty({spec.out_channels});
    init::conv_bias_(b, fan_in, gen);
    bias_ = &register_parameter("bias", b);
  }
}

Tensor Conv2d::forward(const Tensor& x) {
  return ops::conv2d(x, *weight_, bias_ ? *bias_ : Tensor(),
                     {spec_.stride, spec_.padding, spec_.dilation, spec_.groups});
}

ConvTranspose2d::ConvTranspose2d(const ConvTranspose2dSpec& spec, Generator& gen) : spec_(spec) {
  Tensor w = Tensor::empty({spec.in_channels, spec.out_channels, spec.kernel, spec.kernel});
  init::kaiming_uniform_conv_(w, gen);  // PyTorch's fan_in here is size(1) * k * k too
  const int64_t fan_in = init::fan_in(w);
  weight_ = &register_parameter("weight", w);
  if (spec.bias) {
    Tensor b = Tensor::empty({spec.out_channels});
    init::conv_bias_(b, fan_in, gen);
    bias_ = &register_parameter("bias", b);
  }
}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  return ops::conv_transpose2d(x, *weight_, bias_ ? *bias_ : Tensor(),
                               {spec_.stride, spec_.padding, spec_.output_padding});
}

ChannelConv1d::ChannelConv1d(int64_t kernel, Generator& gen) : kernel_(kernel) {
  PMSDSEN_CHECK(kernel > 0 && kernel % 2 == 1, "ChannelConv1d: kernel must be odd, got ", kernel);
  Tensor w = Tensor::empty({1, 1, kernel});
  init::kaiming_uniform_conv_(w, gen);
  weight_ = &register_parameter("weight", w);
}

Tensor ChannelConv1d::forward(const Tensor& x) { return ops::channel_conv1d(x, *weight_); }

}  // namespace pmsdsen
