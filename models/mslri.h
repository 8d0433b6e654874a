#pragma once
// The long-range multi-scale branch of a PMSDSE unit.
//   LRMS(d):  t = head(x) (1x1 CBA, bias); chunks c1..c4 of d/4 channels;
//             y1 = x1(c1), yi = xi(ci + y(i-1)) with xi a depthwise 3x3 CBA of
//             dilation i; output tail_act(tail(concat[y1..y4]) + x), tail a 1x1 CB.
//             Its activations are GELU whatever the network uses (as released).
//   MSLRIBasic(cin, cout): a = conv(x) (1x1 CBA, bias, to ceil(cout/2));
//             concat[a, LRMS(a)] cut to cout channels.
//   MSLRI(ch): conv(x) + x, conv = Sequential(MSLRIBasic, ECA, MSLRIBasic).
// Fused inference: LRMS's branches read and write channel windows; the ECA between the two
// MSLRIBasics scales the second one's first convolution per sample instead of its input.
#include "core/rng.h"
#include "layers/activation.h"
#include "layers/sequential.h"

namespace pmsdsen {

class LRMS : public Module {
 public:
  LRMS(int64_t dim, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LRMS"; }

 private:
  Tensor forward_fused(const Tensor& x);
  int64_t dim_;
  std::shared_ptr<Sequential> branch_[4], head_, tail_;
  std::shared_ptr<Module> tail_act_;
};

class MSLRIBasic : public Module {
 public:
  MSLRIBasic(int64_t cin, int64_t cout, Activation act, Generator& gen);
  Tensor forward(const Tensor& x) override;
  // Fused only: forward(x * scale) for a per-sample channel scale [N, C, 1, 1] (ECA's),
  // applied to the first convolution's weights.
  Tensor forward_scaled(const Tensor& x, const Tensor& scale);
  std::string type_name() const override { return "MSLRIBasic"; }

 private:
  int64_t cout_;
  std::shared_ptr<Sequential> conv_;
  std::shared_ptr<LRMS> lrms_;
};

class MSLRI : public Module {
 public:
  MSLRI(int64_t channels, Activation act, Generator& gen);
  Tensor forward(const Tensor& x) override;  // body(x) + x
  Tensor body(const Tensor& x);
  std::string type_name() const override { return "MSLRI"; }

 private:
  std::shared_ptr<Sequential> conv_;
};

}  // namespace pmsdsen
