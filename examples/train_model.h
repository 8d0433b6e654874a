#pragma once
// The network and its optimiser for a training run: PMSDSEN built from the run's seed,
// then its weights from a checkpoint (resume) or --init; batch norm frozen with
// --freeze-bn (its affine parameters then leave the optimiser); SGD over the trainable
// parameters, with a resumed run's momentum buffers restored exactly.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/sgd.h"
#include "core/device.h"
#include "examples/train_checkpoint.h"
#include "examples/train_config.h"
#include "models/pmsdsen.h"

namespace pmsdsen::train {

struct TrainModel {
  std::unique_ptr<PMSDSEN> model;                        // on the run's device, in training mode
  std::vector<std::pair<std::string, Tensor>> params;    // trainable, by name
  std::unique_ptr<Sgd> sgd;                              // over `params`, in that order

  // The momentum buffers by parameter name, as a checkpoint stores them.
  std::vector<std::pair<std::string, Tensor>> momentum() const;
};

// `resume` gives the weights and momentum buffers (strict: every problem named); else
// the model starts from config.init when set, from the seed otherwise.
TrainModel build_train_model(const TrainConfig& config, int64_t classes, Device device,
                             const std::optional<Checkpoint>& resume);

}  // namespace pmsdsen::train
