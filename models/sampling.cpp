#include "models/sampling.h"

#include "autograd/ops_activation.h"
#include "autograd/ops_basic.h"
#include "autograd/ops_pool.h"
#include "layers/batchnorm.h"
#include "layers/trace.h"
#include "models/conv_bn.h"
#include "models/fold_bn.h"

namespace pmsdsen {

Tensor inject_image(const Tensor& image, int64_t height) {
  PMSDSEN_CHECK(image.dim() == 4, "inject_image: expected an [N, 3, H, W] image, got ", image.str());
  Tensor y = image;
  while (y.size(2) > height)
    y = ops::avg_pool2d(y, 3, 2, 1) + ops::max_pool2d(y, 3, 2, 1);
  PMSDSEN_CHECK(y.size(2) == height, "inject_image: cannot reduce an image of height ", image.size(2),
                " to height ", height);
  return y;
}

Down::Down(int64_t cin, int64_t cout, Activation act, Generator& gen) : widen_(cin < cout) {
  const int64_t n = widen_ ? cout - cin : cout;
  conv3x3_ = register_module("conv3x3", std::make_shared<Named>("cbr", conv_bn({cin + 3, n, 3, 2, 1, 1, 1, false},
                                                                               act, gen)));
  bn_act_ = register_module("bn_act", bn_act(cout, act));
}

Tensor Down::forward(const Tensor& x, const Tensor& image) {
  Tensor y = conv3x3_->forward(ops::concat_channels({x, inject_image(image, x.size(2))}));
  if (widen_) y = ops::concat_channels({y, ops::max_pool2d(x, 2, 2, 0) + ops::avg_pool2d(x, 2, 2, 0)});
  return bn_act_->forward(y);
}

Up::Up(int64_t cin, int64_t cout, Activation act, Generator& gen) {
  conv_ = register_module("conv", std::make_shared<Traced<ConvTranspose2d>>(
                                      ConvTranspose2dSpec{cin, cout, 3, 2, 1, 1, true}, gen));
  bn_ = register_module("bn", std::make_shared<BatchNorm2d>(cout, 1e-3));
  act_ = register_module("act", make_activation(act, cout));
}

void Up::set_fused_inference(bool on) {
  Module::set_fused_inference(on);
  folded_ = {};
  act_epilogue_ = {};
  if (!on) return;
  folded_ = fold_conv_bn(*conv_, &static_cast<BatchNorm2d&>(*bn_));
  PMSDSEN_CHECK(epilogue_activation(*act_, act_epilogue_), "Up: ", act_->type_name(), " cannot be an epilogue");
}

Tensor Up::forward(const Tensor& x) {
  if (fused_now()) return conv_transpose_folded(*conv_, x, folded_, act_epilogue_);
  auto& bn = static_cast<BatchNorm2d&>(*bn_);
  return act_->forward(can_fold(bn) ? conv_bn_folded(*conv_, bn, x) : bn.forward(conv_->forward(x)));
}

}  // namespace pmsdsen
