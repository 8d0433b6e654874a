#pragma once
// The small patterns every PMSDSEN block is built from, with the authors' key layout:
//   conv_bn  Sequential(Conv2d, BatchNorm2d[, act])   keys .0 .1 (.2)   (CBA / CB)
//   bn_act   Named("br", Sequential(BatchNorm2d, act)) keys .br.0 .br.1
// Both are FoldingSequentials (models/fold_bn.h), so they fold and fuse in inference.
// Convolutions are Traced, so a LayerTrace sees them (layer table, MACs).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "layers/activation.h"
#include "layers/conv.h"
#include "layers/sequential.h"
#include "models/fold_bn.h"

namespace pmsdsen {

// Holds one child under a given attribute name and forwards to it (keys `<name>.*`).
class Named : public Module {
 public:
  Named(const std::string& name, std::shared_ptr<Module> body) : body_(register_module(name, std::move(body))) {}
  Tensor forward(const Tensor& x) override { return body_->forward(x); }
  std::string type_name() const override { return body_->type_name(); }
  Module& body() const { return *body_; }

 private:
  std::shared_ptr<Module> body_;
};

std::shared_ptr<Conv2d> make_conv(const Conv2dSpec& spec, Generator& gen);

// Sequential([*lead, Conv2d, BatchNorm2d, act?]); `lead` are parameter-free layers placed
// first, shifting the indices (the MSSE pooling branches: keys .1 .2 .3).
std::shared_ptr<Sequential> conv_bn(const Conv2dSpec& spec, std::optional<Activation> act, Generator& gen,
                                    std::vector<std::shared_ptr<Module>> lead = {});

std::shared_ptr<Module> bn_act(int64_t channels, Activation act);

// The FoldingSequential a conv_bn or bn_act module is (or holds, inside a Named).
FoldingSequential& folding(Module& m);

}  // namespace pmsdsen
