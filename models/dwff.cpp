#include "models/dwff.h"

#include <algorithm>

#include "autograd/ops_basic.h"
#include "autograd/ops_activation.h"
#include "autograd/ops_pool.h"
#include "layers/activation.h"
#include "layers/batchnorm.h"
#include "models/conv_bn.h"
#include "models/fold_bn.h"

namespace pmsdsen {

DWFF::DWFF(int64_t ch, int64_t reduction, Generator& gen) : channels_(ch) {
  const int64_t d = std::max<int64_t>(ch / reduction, 4);
  auto conv_du = std::make_shared<FoldingSequential>();
  conv_du->push_back(make_conv({ch, d, 1, 1, 0, 1, 1, true}, gen));
  conv_du->push_back(std::make_shared<BatchNorm2d>(d));
  conv_du->push_back(std::make_shared<LeakyReLU>(0.2));
  conv_du_ = register_module("conv_du", std::shared_ptr<Sequential>(conv_du));
  // A ModuleList in the released code: two heads, never run in sequence.
  fcs_ = register_module("fcs", std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
                                    make_conv({d, ch, 1, 1, 0, 1, 1, true}, gen),
                                    make_conv({d, ch, 1, 1, 0, 1, 1, true}, gen)}));
}

Tensor DWFF::forward(const Tensor& a, const Tensor& b) {
  PMSDSEN_CHECK(a.dim() == 4 && a.shape() == b.shape() && a.size(1) == channels_, "DWFF(", channels_,
                "): inputs must both be [N, ", channels_, ", H, W], got ", a.str(), " and ", b.str());
  Tensor w;
  {
    Tensor z = conv_du_->forward(ops::global_avg_pool(a + b));
    w = ops::softmax_groups(ops::concat_channels({(*fcs_)[0].forward(z), (*fcs_)[1].forward(z)}), 2);
  }
  if (fused_now()) {
    ops::EpilogueSpec e;
    e.scale = ops::slice_channels(w, 0, channels_);
    e.residual = b;
    e.residual_scale = ops::slice_channels(w, channels_, channels_);
    return ops::epilogue(a, e);
  }
  return ops::mul_channel(a, ops::slice_channels(w, 0, channels_)) +
         ops::mul_channel(b, ops::slice_channels(w, channels_, channels_));
}

}  // namespace pmsdsen
