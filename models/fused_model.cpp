#include "models/fused_model.h"

namespace pmsdsen {

std::unique_ptr<PMSDSEN> fused_copy(const PMSDSEN& model, Device device) {
  auto copy = std::make_unique<PMSDSEN>(model.config());
  const std::map<std::string, Tensor> state = model.state_dict();
  for (const auto& [name, t] : state)
    if (is_floating(t.dtype())) {
      copy->to(t.dtype());
      break;
    }
  copy->to(device);
  copy->load_state_dict(state);
  copy->eval();
  copy->set_fused_inference(true);
  return copy;
}

}  // namespace pmsdsen
