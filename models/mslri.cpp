#include "models/mslri.h"

#include "autograd/ops_basic.h"
#include "layers/eca.h"
#include "models/conv_bn.h"

namespace pmsdsen {

LRMS::LRMS(int64_t dim, Generator& gen) : dim_(dim) {
  PMSDSEN_CHECK(dim % 4 == 0, "LRMS: width ", dim, " is not divisible by 4");
  const int64_t c = dim / 4;
  for (int64_t i = 1; i <= 4; ++i)
    branch_[i - 1] = register_module("x" + std::to_string(i),
                                     conv_bn({c, c, 3, 1, i, i, c, true}, Activation::GELU, gen));
  head_ = register_module("head", conv_bn({dim, dim, 1, 1, 0, 1, 1, true}, Activation::GELU, gen));
  tail_ = register_module("tail", conv_bn({dim, dim, 1, 1, 0, 1, 1, true}, std::nullopt, gen));
  tail_act_ = register_module("tail_act", make_activation(Activation::GELU, dim));
}

// Fused: each branch reads its quarter of t (plus the previous branch's output) and
// writes its quarter of the concatenation in place: no slice, sum or concatenation is
// copied; the tail's residual and GELU are its epilogue.
Tensor LRMS::forward_fused(const Tensor& x) {
  const int64_t c = dim_ / 4;
  Tensor cat;
  {
    const Tensor t = head_->forward(x);
    cat = Tensor::empty(t.shape(), t.dtype(), t.device());
    for (int64_t i = 0; i < 4; ++i) {
      const FoldingSequential::Conv f = folding(*branch_[i]).fused_conv();
      const ops::ChannelWindow previous = i == 0 ? ops::ChannelWindow{} : ops::ChannelWindow{cat, (i - 1) * c, c};
      ops::conv2d_epilogue_into({t, i * c, c}, previous, f.weight, f.options, f.epilogue, {cat, i * c, c});
    }
  }
  ops::EpilogueSpec tail;
  tail.residual = x;
  PMSDSEN_CHECK(epilogue_activation(*tail_act_, tail), "LRMS: tail_act cannot be an epilogue");
  return folding(*tail_).forward_with_tail(cat, tail);
}

Tensor LRMS::forward(const Tensor& x) {
  if (fused_now()) return forward_fused(x);
  const int64_t c = dim_ / 4;
  std::vector<Tensor> ys;
  {
    Tensor t = head_->forward(x);
    for (int64_t i = 0; i < 4; ++i) {
      Tensor piece = ops::slice_channels(t, i * c, c);
      ys.push_back(branch_[i]->forward(i == 0 ? piece : piece + ys.back()));
    }
  }
  Tensor cat = ops::concat_channels(ys);
  ys.clear();
  return tail_act_->forward(tail_->forward(cat) + x);
}

MSLRIBasic::MSLRIBasic(int64_t cin, int64_t cout, Activation act, Generator& gen) : cout_(cout) {
  const int64_t h = (cout + 1) / 2;
  conv_ = register_module("conv", conv_bn({cin, h, 1, 1, 0, 1, 1, true}, act, gen));
  lrms_ = register_module("LRMS", std::make_shared<LRMS>(h, gen));
}

Tensor MSLRIBasic::forward(const Tensor& x) {
  Tensor a = conv_->forward(x);
  Tensor b = lrms_->forward(a);
  Tensor y = ops::concat_channels({a, b});
  return y.size(1) == cout_ ? y : ops::slice_channels(y, 0, cout_);
}

MSLRI::MSLRI(int64_t channels, Activation act, Generator& gen) {
  conv_ = register_module("conv", std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
                                      std::make_shared<MSLRIBasic>(channels, channels, act, gen),
                                      std::make_shared<ECA>(channels, gen),
                                      std::make_shared<MSLRIBasic>(channels, channels, act, gen)}));
}

Tensor MSLRI::forward(const Tensor& x) { return body(x) + x; }

Tensor MSLRI::body(const Tensor& x) {
  if (!fused_now()) return conv_->forward(x);
  const Tensor a = (*conv_)[0].forward(x);
  return static_cast<MSLRIBasic&>((*conv_)[2]).forward_scaled(a, static_cast<ECA&>((*conv_)[1]).scale(a));
}

Tensor MSLRIBasic::forward_scaled(const Tensor& x, const Tensor& scale) {
  const FoldingSequential::Conv f = folding(*conv_).fused_conv();
  Tensor a = Tensor::empty({x.size(0), f.weight.size(0), x.size(2), x.size(3)}, x.dtype(), x.device());
  ops::conv2d_epilogue_into({x, 0, -1, scale}, {}, f.weight, f.options, f.epilogue, {a});
  Tensor y = ops::concat_channels({a, lrms_->forward(a)});
  return y.size(1) == cout_ ? y : ops::slice_channels(y, 0, cout_);
}

}  // namespace pmsdsen
