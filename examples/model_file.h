#pragma once
// The network behind a command's --weights, whichever of the three files it names: a
// training checkpoint (what `train` writes: last.safetensors, best.safetensors), a weights
// file (save_weights), or the authors' checkpoint converted by tools/convert_checkpoint.py.
// The classes and activation are read and checked before the model is built.
#include <memory>
#include <optional>
#include <string>

#include "models/pmsdsen.h"

namespace pmsdsen::train {

// `classes` / `act`: what the caller needs (an error naming the file when the weights are
// for something else; `classes_source` words where the count came from, e.g. "the
// camvid dataset has").
std::unique_ptr<PMSDSEN> load_model_file(const std::string& path, std::optional<int64_t> classes = std::nullopt,
                                         std::optional<Activation> act = std::nullopt,
                                         const std::string& classes_source = "--classes says");

}  // namespace pmsdsen::train
