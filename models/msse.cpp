#include "models/msse.h"

#include "autograd/ops_activation.h"
#include "autograd/ops_basic.h"
#include "autograd/ops_resize.h"
#include "layers/batchnorm.h"
#include "layers/eca.h"
#include "layers/pooling.h"
#include "models/conv_bn.h"

namespace pmsdsen {

MSSE::MSSE(int64_t cin, int64_t mid, int64_t cout, Activation act, Generator& gen) {
  const Conv2dSpec reduce{cin, mid, 1, 1, 0, 1, 1, false};
  branch_[0] = register_module("x0", conv_bn(reduce, act, gen));
  const int64_t pools[3][2] = {{5, 2}, {9, 4}, {17, 8}};
  for (int i = 0; i < 3; ++i) {
    const int64_t k = pools[i][0], s = pools[i][1];
    branch_[i + 1] = register_module("x" + std::to_string(i + 1),
                                     conv_bn(reduce, act, gen, {std::make_shared<AvgPool2d>(k, s, k / 2)}));
  }
  branch_[4] = register_module("x4", conv_bn(reduce, act, gen, {std::make_shared<GlobalAvgPool>()}));
  for (int i = 0; i < 4; ++i)
    fuse_[i] = register_module("p" + std::to_string(i + 1), conv_bn({mid, mid, 3, 1, 1, 1, 1, false}, act, gen));
  tail_ = register_module("tail", std::make_shared<FoldingSequential>(std::initializer_list<std::shared_ptr<Module>>{
                                      std::make_shared<BatchNorm2d>(5 * mid), make_activation(act, 5 * mid),
                                      make_conv({5 * mid, cout, 1, 1, 0, 1, 1, false}, gen),
                                      std::make_shared<ECA>(cout, gen)}));
  identity_ = register_module("identity", std::make_shared<FoldingSequential>(std::initializer_list<std::shared_ptr<Module>>{
                                              std::make_shared<BatchNorm2d>(cin), make_activation(act, cin),
                                              make_conv({cin, cout, 1, 1, 0, 1, 1, false}, gen),
                                              std::make_shared<ECA>(cout, gen)}));
}

Tensor MSSE::forward(const Tensor& x) {
  const int64_t h = x.size(2), w = x.size(3);
  std::vector<Tensor> ys{branch_[0]->forward(x)};
  for (int i = 1; i <= 4; ++i) {
    Tensor context = ops::bilinear(branch_[i]->forward(x), h, w, false);
    ys.push_back(fuse_[i - 1]->forward(context + ys.back()));
  }
  if (fused_now()) {  // BN, act, conv of both; the ECA products and the sum in one pass
    Tensor y = folding(*tail_).forward_range(ops::concat_channels(ys), 0, 3);
    ys.clear();
    Tensor id = folding(*identity_).forward_range(x, 0, 3);
    ops::EpilogueSpec e;
    e.scale = static_cast<ECA&>((*tail_)[3]).scale(y);
    e.residual = id;
    e.residual_scale = static_cast<ECA&>((*identity_)[3]).scale(id);
    ops::epilogue_(y, e);
    return y;
  }
  Tensor y = tail_->forward(ops::concat_channels(ys));
  ys.clear();
  return y + identity_->forward(x);
}

}  // namespace pmsdsen
