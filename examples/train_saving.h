#pragma once
// Saving a training run: best.safetensors after a validation that improved, then
// last.safetensors, then curves.svg, each written atomically. Weights that are not finite
// are never saved, so a good checkpoint is never overwritten by a diverged model.
#include <string>

#include "examples/train_run.h"

namespace pmsdsen::train {

// Returns false, writing nothing, when the weights are not finite.
bool save_run(TrainRun& run, bool after_validation);

// The newest checkpoint on disk, for messages: last.safetensors, or a sentence saying
// there is none yet.
std::string last_good_checkpoint(const TrainRun& run);

}  // namespace pmsdsen::train
