#include "models/fold_bn.h"

#include "autograd/grad_mode.h"
#include "autograd/ops_conv.h"
#include "autograd/ops_norm.h"
#include "layers/conv.h"
#include "layers/trace.h"

namespace pmsdsen {
namespace {

struct BnState {
  Tensor gamma, beta, mean, var;
};

BnState bn_state(const BatchNorm2d& bn) {
  BnState s;
  for (const auto& [name, t] : bn.named_parameters()) (name == "weight" ? s.gamma : s.beta) = t;
  for (const auto& [name, t] : bn.named_buffers()) {
    if (name == "running_mean") s.mean = t;
    else if (name == "running_var") s.var = t;
  }
  return s;
}

Tensor param(const Module& m, const char* name) {
  for (const auto& [n, t] : m.named_parameters())
    if (n == name) return t;
  return Tensor();
}

// w * gamma / sqrt(var + eps) along dim 1 of w (shape [A, C, B, 1]): BN in evaluation
// mode with zero mean and no shift.
Tensor scale_channels(const Tensor& w, const BnState& s, double eps) {
  Tensor zero = Tensor::zeros({s.var.numel()}, s.var.dtype(), s.var.device());
  Tensor var = s.var;
  return ops::batch_norm(w, s.gamma, Tensor(), zero, var, false, 0.1, eps);
}

}  // namespace

bool can_fold(const BatchNorm2d& bn) {
  return !autograd::GradMode::is_enabled() && (!bn.is_training() || bn.frozen());
}

Tensor conv_bn_folded(Module& conv, BatchNorm2d& bn, const Tensor& x) {
  BnState s = bn_state(bn);
  const int64_t c = bn.channels();
  return trace_scope(conv, x, [&] {
    const Tensor w = param(conv, "weight");
    Tensor b = param(conv, "bias");
    if (!b.defined()) b = Tensor::zeros({c}, w.dtype(), w.device());
    Tensor folded_b = ops::batch_norm(b.view({1, c, 1, 1}), s.gamma, s.beta, s.mean, s.var, false, 0.1, bn.eps())
                          .view({c});
    if (auto* c2d = dynamic_cast<Conv2d*>(&conv)) {
      const Conv2dSpec& spec = c2d->spec();
      PMSDSEN_CHECK(spec.out_channels == c, "conv_bn_folded: ", spec.out_channels, " conv outputs, BN of ", c);
      Tensor folded_w = scale_channels(w.view({1, c, -1, 1}), s, bn.eps()).view(w.shape());
      return ops::conv2d(x, folded_w, folded_b, {spec.stride, spec.padding, spec.dilation, spec.groups});
    }
    auto* t2d = dynamic_cast<ConvTranspose2d*>(&conv);
    PMSDSEN_CHECK(t2d != nullptr, "conv_bn_folded: ", conv.type_name(), " is not a convolution");
    const ConvTranspose2dSpec& spec = t2d->spec();
    PMSDSEN_CHECK(spec.out_channels == c, "conv_bn_folded: ", spec.out_channels, " conv outputs, BN of ", c);
    Tensor folded_w = scale_channels(w.view({w.size(0), c, -1, 1}), s, bn.eps()).view(w.shape());
    return ops::conv_transpose2d(x, folded_w, folded_b, {spec.stride, spec.padding, spec.output_padding});
  });
}

Tensor FoldingSequential::forward(const Tensor& x) {
  if (autograd::GradMode::is_enabled()) return Sequential::forward(x);
  const auto& layers = children();
  Tensor y = x;
  for (size_t i = 0; i < layers.size(); ++i) {
    Module& layer = *layers[i].second;
    if (i + 1 < layers.size() && (dynamic_cast<Conv2d*>(&layer) || dynamic_cast<ConvTranspose2d*>(&layer))) {
      if (auto* bn = dynamic_cast<BatchNorm2d*>(layers[i + 1].second.get()); bn && can_fold(*bn)) {
        y = conv_bn_folded(layer, *bn, y);
        ++i;
        continue;
      }
    }
    y = layer.forward(y);
  }
  return y;
}

}  // namespace pmsdsen
