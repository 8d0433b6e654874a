#include "models/ldi.h"

#include "autograd/ops_basic.h"
#include "layers/eca.h"
#include "models/conv_bn.h"

namespace pmsdsen {

LDIBasic::LDIBasic(int64_t cin, int64_t cout, Activation act, Generator& gen) {
  const int64_t h = (cout + 1) / 2;
  compress_ = register_module("compress", conv_bn({cin, h, 1, 1, 0, 1, 1, false}, act, gen));
  process_ = register_module("process", conv_bn({h, h, 3, 1, 1, 1, h, false}, act, gen));
}

Tensor LDIBasic::forward_scaled(const Tensor& x, const Tensor& scale) {
  PMSDSEN_CHECK(fused_now(), "LDIBasic::forward_scaled: fused inference only");
  const FoldingSequential::Conv compress = folding(*compress_).fused_conv(), process = folding(*process_).fused_conv();
  const int64_t h = compress.weight.size(0);
  Tensor cat = Tensor::empty({x.size(0), 2 * h, x.size(2), x.size(3)}, x.dtype(), x.device());
  ops::conv2d_epilogue_into({x, 0, -1, scale}, {}, compress.weight, compress.options, compress.epilogue, {cat, 0, h});
  ops::conv2d_epilogue_into({cat, 0, h}, {}, process.weight, process.options, process.epilogue, {cat, h, h});
  return cat;
}

Tensor LDIBasic::forward(const Tensor& x) {
  if (fused_now()) return forward_scaled(x, Tensor());
  Tensor a = compress_->forward(x);
  Tensor b = process_->forward(a);
  return ops::concat_channels({a, b});
}

LDI::LDI(int64_t channels, Activation act, Generator& gen) {
  conv_ = register_module("conv", std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
                                      std::make_shared<LDIBasic>(channels, channels, act, gen),
                                      std::make_shared<ECA>(channels, gen),
                                      std::make_shared<LDIBasic>(channels, channels, act, gen)}));
}

Tensor LDI::forward(const Tensor& x) { return body(x) + x; }

Tensor LDI::body(const Tensor& x) {
  if (!fused_now()) return conv_->forward(x);
  const Tensor a = (*conv_)[0].forward(x);
  return static_cast<LDIBasic&>((*conv_)[2]).forward_scaled(a, static_cast<ECA&>((*conv_)[1]).scale(a));
}

}  // namespace pmsdsen
