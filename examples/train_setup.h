#pragma once
// What a training run's settings name besides the network: the datasets (through
// data/datasets.h), the training loader and the loss.
#include <cstdint>
#include <memory>
#include <string>

#include "core/device.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "examples/train_config.h"
#include "models/loss.h"

namespace pmsdsen::train {

std::unique_ptr<data::Dataset> open_dataset(const TrainConfig& config, const std::string& split);

// Shuffled full batches with the configured augmentation; batch i depends only on (seed,
// i), so a run resumed at `start_iteration` sees the batches an uninterrupted one would.
data::LoaderConfig training_loader_config(const TrainConfig& config, int64_t start_iteration);

// Cross-entropy or OHEM, with the configured class weights (on `device`).
SegLossOptions training_loss_options(const TrainConfig& config, int64_t classes, Device device);

}  // namespace pmsdsen::train
