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

Tensor LDIBasic::forward(const Tensor& x) {
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

Tensor LDI::forward(const Tensor& x) { return conv_->forward(x) + x; }

}  // namespace pmsdsen
