#include "models/pmsdse.h"

#include "autograd/ops_activation.h"
#include "autograd/ops_basic.h"
#include "layers/eca.h"
#include "models/conv_bn.h"
#include "models/ldi.h"
#include "models/mslri.h"

namespace pmsdsen {

PMSDSE::PMSDSE(int64_t ch, Activation act, Generator& gen) {
  ldi_ = register_module("LDI", std::make_shared<LDI>(ch, act, gen));
  mslri_ = register_module("MSLRI", std::make_shared<MSLRI>(ch, act, gen));
  attn_ = register_module("Attn", std::make_shared<ECA>(ch, gen));
  bn_act_ = register_module("bn_act", bn_act(ch, act));
  conv1x1_ = register_module("conv1x1", conv_bn({ch, ch, 1, 1, 0, 1, 1, true}, std::nullopt, gen));
  attn_output_ = register_module("Attn_output", std::make_shared<ECA>(ch, gen));
  entry_bn_act_ = register_module("entry_bn_act", bn_act(ch, act));
  act_out_layer_ = register_module("act_out", make_activation(act, ch));
}

void PMSDSE::set_fused_inference(bool on) {
  Module::set_fused_inference(on);
  act_out_ = plus_two_ = {};
  if (!on) return;
  PMSDSEN_CHECK(epilogue_activation(*act_out_layer_, act_out_), "PMSDSE: act_out (", act_out_layer_->type_name(),
                ") cannot be an epilogue");
  const Tensor like = static_cast<ECA&>(*attn_).parameters().at(0);  // the model's device and dtype
  plus_two_.add = Tensor::full({static_cast<ECA&>(*attn_).channels()}, 2.0, like.dtype(), like.device());
}

Tensor PMSDSE::forward_fused(const Tensor& x) {
  auto& attn = static_cast<ECA&>(*attn_);
  auto& attn_output = static_cast<ECA&>(*attn_output_);
  Tensor y;
  {
    Tensor e = entry_bn_act_->forward(x);
    y = static_cast<LDI&>(*ldi_).body(e) + static_cast<MSLRI&>(*mslri_).body(e);
    ops::EpilogueSpec bn = folding(*bn_act_).affine_epilogue();
    bn.residual = e;
    bn.residual_scale = ops::epilogue(attn.scale(e), plus_two_);
    ops::epilogue_(y, bn);  // y is the sum's own tensor
  }
  Tensor z = conv1x1_->forward(y);
  y = Tensor();
  ops::EpilogueSpec out = act_out_;
  out.scale = attn_output.scale(z);
  out.residual = x;
  ops::epilogue_(z, out);
  return z;
}

Tensor PMSDSE::forward(const Tensor& x) {
  if (fused_now()) return forward_fused(x);
  Tensor y;
  {
    Tensor e = entry_bn_act_->forward(x);
    y = ldi_->forward(e);
    y = y + mslri_->forward(e);
    y = y + attn_->forward(e);
  }
  y = attn_output_->forward(conv1x1_->forward(bn_act_->forward(y)));
  return act_out_layer_->forward(y + x);
}

}  // namespace pmsdsen
