#include "examples/model_file.h"

#include "examples/train_checkpoint.h"
#include "models/weights.h"

namespace pmsdsen::train {

std::unique_ptr<PMSDSEN> load_model_file(const std::string& path, std::optional<int64_t> classes,
                                         std::optional<Activation> act, const std::string& classes_source) {
  const Safetensors weights = load_weights_file(path);
  auto model = std::make_unique<PMSDSEN>(config_for_weights(weights, path, classes, act, classes_source));
  load_weights(*model, weights, path);
  return model;
}

}  // namespace pmsdsen::train
