#pragma once
// DWFF(ch, r): dynamic weighted feature fusion of two maps a, b of ch channels.
//   d = max(int(ch / r), 4); z = conv_du(global_avg_pool(a + b)) (1x1 conv with bias,
//   BN, LeakyReLU(0.2)); wa = fcs.0(z), wb = fcs.1(z) (1x1 convs d -> ch, bias);
//   softmax over the pair per channel; output a * wa' + b * wb' (fused inference: one
//   epilogue pass).
#include "core/rng.h"
#include "layers/sequential.h"

namespace pmsdsen {

class DWFF : public Module {
 public:
  DWFF(int64_t channels, int64_t reduction, Generator& gen);
  Tensor forward(const Tensor& a, const Tensor& b);
  std::string type_name() const override { return "DWFF"; }

 private:
  int64_t channels_;
  std::shared_ptr<Sequential> conv_du_, fcs_;
};

}  // namespace pmsdsen
