#include "models/fold_bn.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/ops_activation.h"
#include "autograd/ops_conv.h"
#include "autograd/ops_norm.h"
#include "layers/activation.h"
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

std::vector<double> host_values(const Tensor& t) { return t.to(DType::F64).cpu().to_vector<double>(); }

Tensor like(const std::vector<double>& v, const Shape& shape, const Tensor& model) {
  return Tensor::from_vector(v, shape).to(model.dtype()).to(model.device());
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
  if (fused_now()) {
    Tensor y = x;
    for (const Step& s : steps_) y = run(s, y, nullptr);
    return y;
  }
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

// ---- fused inference ------------------------------------------------------------------

BnAffine bn_affine(const BatchNorm2d& bn) {
  const BnState s = bn_state(bn);
  const std::vector<double> gamma = host_values(s.gamma), beta = host_values(s.beta), mean = host_values(s.mean),
                            var = host_values(s.var);
  std::vector<double> mul(gamma.size()), add(gamma.size());
  for (size_t c = 0; c < gamma.size(); ++c) {
    mul[c] = gamma[c] / std::sqrt(var[c] + bn.eps());
    add[c] = beta[c] - mean[c] * mul[c];
  }
  const Shape shape{static_cast<int64_t>(mul.size())};
  return {like(mul, shape, s.gamma), like(add, shape, s.gamma)};
}

FoldedConv fold_conv_bn(const Module& conv, const BatchNorm2d* bn) {
  const Tensor w = param(conv, "weight"), b = param(conv, "bias");
  // The output channel is dim 0 of a Conv2d's weight, dim 1 of a ConvTranspose2d's.
  const bool transposed = dynamic_cast<const ConvTranspose2d*>(&conv) != nullptr;
  PMSDSEN_CHECK(transposed || dynamic_cast<const Conv2d*>(&conv), "fold_conv_bn: ", conv.type_name(),
                " is not a convolution");
  const int64_t outer = transposed ? w.size(0) : 1, cout = w.size(transposed ? 1 : 0);
  const int64_t inner = w.numel() / (outer * cout);
  std::vector<double> wv = host_values(w);
  std::vector<double> bv = b.defined() ? host_values(b) : std::vector<double>(static_cast<size_t>(cout), 0.0);
  if (bn) {
    PMSDSEN_CHECK(bn->channels() == cout, "fold_conv_bn: ", cout, " conv outputs, BN of ", bn->channels());
    const BnAffine a = bn_affine(*bn);
    const std::vector<double> mul = host_values(a.mul), add = host_values(a.add);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < cout; ++c)
        for (int64_t i = 0; i < inner; ++i) wv[static_cast<size_t>((o * cout + c) * inner + i)] *= mul[c];
    for (int64_t c = 0; c < cout; ++c) bv[c] = bv[c] * mul[c] + add[c];
  }
  return {like(wv, w.shape(), w), like(bv, {cout}, w)};
}

Tensor conv_transpose_folded(Module& conv, const Tensor& x, const FoldedConv& f, const ops::EpilogueSpec& act) {
  auto* t2d = dynamic_cast<ConvTranspose2d*>(&conv);
  PMSDSEN_CHECK(t2d != nullptr, "conv_transpose_folded: ", conv.type_name(), " is not a ConvTranspose2d");
  const ConvTranspose2dSpec& p = t2d->spec();
  return trace_scope(conv, x, [&] {
    Tensor y = ops::conv_transpose2d(x, f.weight, f.bias, {p.stride, p.padding, p.output_padding});
    if (act.act != EpiAct::None) ops::epilogue_(y, act);
    return y;
  });
}

bool epilogue_activation(const Module& act, ops::EpilogueSpec& e) {
  if (dynamic_cast<const GELU*>(&act)) {
    e.act = EpiAct::Gelu;
  } else if (auto* p = dynamic_cast<const PReLU*>(&act)) {
    e.act = EpiAct::Prelu;
    e.slope = p->weight();
  } else if (auto* l = dynamic_cast<const LeakyReLU*>(&act)) {
    e.act = EpiAct::Leaky;
    e.leaky_slope = l->negative_slope();
  } else {
    return false;
  }
  return true;
}

void FoldingSequential::set_fused_inference(bool on) {
  Sequential::set_fused_inference(on);
  steps_.clear();
  if (!on) return;
  const auto& layers = children();
  auto child = [&](size_t i) -> Module* { return i < layers.size() ? layers[i].second.get() : nullptr; };
  for (size_t i = 0; i < layers.size();) {
    Step s;
    s.first = i;
    Module& m = *child(i);
    auto* c2d = dynamic_cast<Conv2d*>(&m);
    auto* t2d = dynamic_cast<ConvTranspose2d*>(&m);
    auto* bn = dynamic_cast<BatchNorm2d*>(&m);
    if (c2d || t2d) {
      auto* next_bn = dynamic_cast<BatchNorm2d*>(child(i + 1));
      s.folded = fold_conv_bn(m, next_bn);
      s.count = next_bn ? 2 : 1;
      s.kind = c2d ? Kind::Conv : Kind::Transposed;
      if (c2d) {
        const Conv2dSpec& p = c2d->spec();
        s.conv = {p.stride, p.padding, p.dilation, p.groups};
        s.epilogue.add = s.folded.bias;
      }
    } else if (bn) {
      const BnAffine a = bn_affine(*bn);
      s.kind = Kind::Affine;
      s.epilogue.mul = a.mul;
      s.epilogue.add = a.add;
    }
    if (s.kind != Kind::Layer && child(i + s.count) && epilogue_activation(*child(i + s.count), s.epilogue))
      ++s.count;
    i += s.count;
    steps_.push_back(std::move(s));
  }
}

Tensor FoldingSequential::run(const Step& s, const Tensor& x, const ops::EpilogueSpec* tail) {
  Module& first = *children()[s.first].second;
  switch (s.kind) {
    case Kind::Layer: return first.forward(x);
    case Kind::Affine: return ops::epilogue(x, s.epilogue);
    case Kind::Transposed: return conv_transpose_folded(first, x, s.folded, s.epilogue);
    case Kind::Conv: break;
  }
  ops::EpilogueSpec e = s.epilogue;
  if (tail) {
    PMSDSEN_CHECK(e.act == EpiAct::None && !tail->scale.defined() && !tail->mul.defined() && !tail->add.defined(),
                  "FoldingSequential: a tail epilogue takes a residual and an activation after a convolution "
                  "without one");
    e.residual = tail->residual;
    e.residual_scale = tail->residual_scale;
    e.act = tail->act;
    e.slope = tail->slope;
    e.leaky_slope = tail->leaky_slope;
  }
  return trace_scope(first, x, [&] { return ops::conv2d_epilogue(x, s.folded.weight, s.conv, e); });
}

Tensor FoldingSequential::forward_range(const Tensor& x, size_t begin, size_t end) {
  PMSDSEN_CHECK(fused_now(), "FoldingSequential::forward_range: fused inference only");
  Tensor y = x;
  for (const Step& s : steps_) {
    if (s.first + s.count <= begin || s.first >= end) continue;
    PMSDSEN_CHECK(s.first >= begin && s.first + s.count <= end, "FoldingSequential::forward_range: children [",
                  begin, ", ", end, ") split a fused step");
    y = run(s, y, nullptr);
  }
  return y;
}

Tensor FoldingSequential::forward_with_tail(const Tensor& x, const ops::EpilogueSpec& tail) {
  PMSDSEN_CHECK(fused_now() && !steps_.empty() && steps_.back().kind == Kind::Conv,
                "FoldingSequential::forward_with_tail: fused inference of a sequence ending in a convolution only");
  Tensor y = x;
  for (size_t i = 0; i < steps_.size(); ++i) y = run(steps_[i], y, i + 1 == steps_.size() ? &tail : nullptr);
  return y;
}

FoldingSequential::Conv FoldingSequential::fused_conv() const {
  PMSDSEN_CHECK(steps_.size() == 1 && steps_[0].kind == Kind::Conv,
                "FoldingSequential::fused_conv: fused inference of a (conv, BN, activation) sequence only");
  return {steps_[0].folded.weight, steps_[0].conv, steps_[0].epilogue};
}

const ops::EpilogueSpec& FoldingSequential::affine_epilogue() const {
  PMSDSEN_CHECK(steps_.size() == 1 && steps_[0].kind == Kind::Affine,
                "FoldingSequential::affine_epilogue: fused inference of a (BN, activation) sequence only");
  return steps_[0].epilogue;
}

}  // namespace pmsdsen
