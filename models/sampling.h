#pragma once
// The encoder's downsampling (with the RGB image injected) and the decoder's upsampling.
//   inject_image(image, h): repeat avg_pool(3, 2, 1) + max_pool(3, 2, 1) until height h.
//   Down(cin, cout) [DownSamplingBlock]: n = cout - cin if cin < cout else cout;
//     y = conv3x3.cbr(concat[x, inject_image(image, x's height)]) (3x3/s2 CBA to n);
//     if cin < cout, y = concat[y, max_pool2x2(x) + avg_pool2x2(x)]; out = bn_act(y).
//   Up(cin, cout) [UpsamplerBlock]: ConvTranspose2d 3x3/s2/p1/op1 (bias), BN (eps 1e-3), act.
#include "autograd/epilogue_spec.h"
#include "core/rng.h"
#include "layers/activation.h"
#include "layers/sequential.h"
#include "models/fold_bn.h"

namespace pmsdsen {

Tensor inject_image(const Tensor& image, int64_t height);

class Down : public Module {
 public:
  Down(int64_t cin, int64_t cout, Activation act, Generator& gen);
  Tensor forward(const Tensor& x, const Tensor& image);
  std::string type_name() const override { return "DownSamplingBlock"; }

 private:
  bool widen_;
  std::shared_ptr<Module> conv3x3_, bn_act_;
};

class Up : public Module {
 public:
  Up(int64_t cin, int64_t cout, Activation act, Generator& gen);
  Tensor forward(const Tensor& x) override;
  void set_fused_inference(bool on) override;
  std::string type_name() const override { return "UpsamplerBlock"; }

 private:
  std::shared_ptr<Module> conv_, bn_, act_;
  // Fused inference: the transposed convolution with the BN folded, the activation after.
  FoldedConv folded_;
  ops::EpilogueSpec act_epilogue_;
};

}  // namespace pmsdsen
