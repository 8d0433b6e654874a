#pragma once
// The datasets a training run's settings name (through data/datasets.h).
#include <memory>
#include <string>

#include "data/dataset.h"
#include "examples/train_config.h"

namespace pmsdsen::train {

std::unique_ptr<data::Dataset> open_dataset(const TrainConfig& config, const std::string& split);

}  // namespace pmsdsen::train
