#include "layers/eca.h"

#include <cmath>

#include "autograd/ops_basic.h"
#include "autograd/ops_conv.h"
#include "autograd/ops_activation.h"
#include "autograd/ops_pool.h"
#include "layers/conv.h"
#include "layers/trace.h"

namespace pmsdsen {

int64_t eca_kernel_size(int64_t channels) {
  PMSDSEN_CHECK(channels > 0, "ECA: channels must be positive, got ", channels);
  const int64_t t = static_cast<int64_t>(std::fabs((std::log2(static_cast<double>(channels)) + 1.0) / 2.0));
  return t % 2 ? t : t + 1;
}

ECA::ECA(int64_t channels, Generator& gen) : channels_(channels) {
  conv_ = register_module("conv", std::make_shared<Traced<ChannelConv1d>>(eca_kernel_size(channels), gen));
}

Tensor ECA::scale(const Tensor& x) {
  PMSDSEN_CHECK(x.dim() == 4 && x.size(1) == channels_, "ECA(", channels_, "): expected [N, ",
                channels_, ", H, W], got ", x.str());
  if (fused_now())
    return ops::eca_scale(ops::global_avg_pool(x), conv_->parameters().at(0));
  return ops::sigmoid(conv_->forward(ops::global_avg_pool(x)));
}

Tensor ECA::forward(const Tensor& x) { return ops::mul_channel(x, scale(x)); }

}  // namespace pmsdsen
