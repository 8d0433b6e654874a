#pragma once
// What `pmsdsen train` and `pmsdsen eval` build from their settings: the datasets (by
// name, through data/datasets.h) and the network's prediction function for the
// evaluator (padding inputs to multiples of 8 and cropping the logits back).
#include <memory>
#include <string>

#include "data/dataset.h"
#include "data/evaluate.h"
#include "examples/train_config.h"
#include "models/pmsdsen.h"

namespace pmsdsen::train {

std::unique_ptr<data::Dataset> open_dataset(const TrainConfig& config, const std::string& split);

// Logits of the prediction head for one normalised image [1, 3, h, w] of any size, the
// model in evaluation mode (the caller switches it). Sizes that are not multiples of 8
// are padded with zeros (the mean colour after normalisation) at the bottom and right;
// the logits are cropped back (models/predict.h; through the host when on the GPU).
data::PredictFn make_predictor(PMSDSEN& model);

}  // namespace pmsdsen::train
