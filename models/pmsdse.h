#pragma once
// PMSDSE(ch), the unit the network stacks (channel count and size preserved):
//   y = entry_bn_act(x); y = LDI(y) + MSLRI(y) + Attn(y);
//   y = Attn_output(conv1x1(bn_act(y))); out = act_out(y + x).
// Fused inference (set_fused_inference): with LDI = ldi + y and MSLRI = mslri + y, the
// sum is ldi + mslri + y * (2 + s) (s Attn's scale), so bn_act(sum) is one addition and one
// epilogue pass; act_out(Attn_output(z) + x) another.
// The released code ends with a channel shuffle of groups = ch: the identity, left out.
// Registration order (state-dict order) is the authors': LDI, MSLRI, Attn, bn_act,
// conv1x1, Attn_output, entry_bn_act, act_out.
#include "core/rng.h"
#include "layers/activation.h"
#include "autograd/epilogue_spec.h"
#include "layers/sequential.h"

namespace pmsdsen {

class PMSDSE : public Module {
 public:
  PMSDSE(int64_t channels, Activation act, Generator& gen);
  Tensor forward(const Tensor& x) override;
  void set_fused_inference(bool on) override;
  std::string type_name() const override { return "PMSDSE"; }

 private:
  Tensor forward_fused(const Tensor& x);
  ops::EpilogueSpec act_out_;  // fused: act_out as an epilogue
  ops::EpilogueSpec plus_two_;  // fused: s -> 2 + s

  std::shared_ptr<Module> ldi_, mslri_, attn_, bn_act_, conv1x1_, attn_output_, entry_bn_act_, act_out_layer_;
};

}  // namespace pmsdsen
