#include "models/conv_bn.h"

#include "layers/batchnorm.h"
#include "layers/trace.h"
#include "models/fold_bn.h"

namespace pmsdsen {

std::shared_ptr<Conv2d> make_conv(const Conv2dSpec& spec, Generator& gen) {
  return std::make_shared<Traced<Conv2d>>(spec, gen);
}

std::shared_ptr<Sequential> conv_bn(const Conv2dSpec& spec, std::optional<Activation> act, Generator& gen,
                                    std::vector<std::shared_ptr<Module>> lead) {
  auto seq = std::make_shared<FoldingSequential>();
  for (auto& layer : lead) seq->push_back(std::move(layer));
  seq->push_back(make_conv(spec, gen));
  seq->push_back(std::make_shared<BatchNorm2d>(spec.out_channels));
  if (act) seq->push_back(make_activation(*act, spec.out_channels));
  return seq;
}

FoldingSequential& folding(Module& m) {
  Module* body = &m;
  if (auto* named = dynamic_cast<Named*>(&m)) body = &named->body();
  auto* f = dynamic_cast<FoldingSequential*>(body);
  PMSDSEN_CHECK(f != nullptr, "folding: ", m.type_name(), " is not a FoldingSequential");
  return *f;
}

std::shared_ptr<Module> bn_act(int64_t channels, Activation act) {
  return std::make_shared<Named>(
      "br", std::make_shared<FoldingSequential>(std::initializer_list<std::shared_ptr<Module>>{
                std::make_shared<BatchNorm2d>(channels), make_activation(act, channels)}));
}

}  // namespace pmsdsen
