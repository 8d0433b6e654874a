#pragma once
// MSSE(cin, mid, cout), the multi-scale semantic extractor after layer3:
//   x0 = 1x1 CBA(cin -> mid); x1..x3 = AvgPool(k, s, k/2) with (k, s) = (5, 2), (9, 4),
//   (17, 8), then 1x1 CBA (keys .1 .2 .3); x4 = global average pool, then the same;
//   y0 = x0(x); yi = pi(bilinear(xi(x), to x's size) + y(i-1)), pi = 3x3 CBA;
//   tail = BN, act, 1x1 conv (5 mid -> cout), ECA on concat[y0..y4];
//   identity = BN, act, 1x1 conv (cin -> cout), ECA on x; output tail + identity.
// Fused inference: each BN + act one epilogue pass, both ECA products and the sum another.
#include "core/rng.h"
#include "layers/activation.h"
#include "layers/sequential.h"

namespace pmsdsen {

class MSSE : public Module {
 public:
  MSSE(int64_t cin, int64_t mid, int64_t cout, Activation act, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "MSSE"; }

 private:
  std::shared_ptr<Sequential> branch_[5], fuse_[4], tail_, identity_;
};

}  // namespace pmsdsen
