#pragma once
// Validation during training: the run's model in evaluation mode over the validation
// split (the evaluator's protocol at --val-scale, the first --val-limit images), then
// back in training mode, also after an error. The run state takes the mIoU (last, and
// best when it improves: run.new_best), log.jsonl a "val" record.
#include <cstdint>
#include <functional>
#include <string>

#include "examples/train_run.h"

namespace pmsdsen::train {

// Thrown by the progress callback to abandon a validation (Ctrl-C): the weights are
// those of the finished iteration, the state is unchanged.
struct ValidationInterrupted {};

// Returns the console line that reports the validation.
std::string validate(TrainRun& run, const std::function<void(int64_t done, int64_t total)>& progress);

}  // namespace pmsdsen::train
