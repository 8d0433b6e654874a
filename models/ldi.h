#pragma once
// The local-detail branch of a PMSDSE unit.
//   LDIBasic(cin, cout): h = ceil(cout/2); a = compress(x) (1x1 CBA to h, no bias);
//                        concat[a, process(a)] with process a depthwise 3x3 CBA.
//   LDI(ch):             conv(x) + x, conv = Sequential(LDIBasic, ECA, LDIBasic).
// Fused inference: compress and process write their halves of the concatenation in place;
// the ECA between the two LDIBasics scales the second one's compress weights per sample
// instead of its input.
#include "core/rng.h"
#include "layers/activation.h"
#include "layers/sequential.h"

namespace pmsdsen {

class LDIBasic : public Module {
 public:
  LDIBasic(int64_t cin, int64_t cout, Activation act, Generator& gen);
  Tensor forward(const Tensor& x) override;
  // Fused only: forward(x * scale) for a per-sample channel scale [N, C, 1, 1] (or none).
  Tensor forward_scaled(const Tensor& x, const Tensor& scale);
  std::string type_name() const override { return "LDIBasic"; }

 private:
  std::shared_ptr<Sequential> compress_, process_;
};

class LDI : public Module {
 public:
  LDI(int64_t channels, Activation act, Generator& gen);
  Tensor forward(const Tensor& x) override;  // body(x) + x
  Tensor body(const Tensor& x);
  std::string type_name() const override { return "LDI"; }

 private:
  std::shared_ptr<Sequential> conv_;
};

}  // namespace pmsdsen
