#pragma once
// PMSDSEN weights as safetensors files: the state dict under the authors' keys (F32,
// num_batches_tracked I64) plus metadata `format` = "pmsdsen", `classes`, `act`.
// Loading checks every name and shape and lists every missing, unexpected and
// mis-shaped tensor by name; a truncated or malformed file is an Error naming it.
#include <optional>
#include <string>

#include "core/safetensors.h"
#include "models/pmsdsen.h"

namespace pmsdsen {

// What a weights file is for: from its metadata (`classes`, `act`) when present, else
// inferred from the tensors (the head's seg_head_x2.3.weight gives the classes; PReLU
// networks hold slopes such as Stem_Conv.2.weight). Checked before anything is built:
// classes in [1, kPmsdsenMaxClasses], a known activation.
PmsdsenConfig weights_config(const Safetensors& file, const std::string& path);

// The configuration to build for `path`: the file's, checked against what the user asked
// for (an error naming the file when they disagree, e.g. "weights are for 19 classes,
// --classes says 11"; `classes_source` words where the wanted count came from).
PmsdsenConfig config_for_weights(const Safetensors& file, const std::string& path,
                                 std::optional<int64_t> classes, std::optional<Activation> act,
                                 const std::string& classes_source = "--classes says");

// Copies the file's tensors into the model (strict: all problems listed, nothing changed).
void load_weights(PMSDSEN& model, const Safetensors& file, const std::string& path);
void load_weights(PMSDSEN& model, const std::string& path);

// Reads, checks and builds in one go (classes/act as in config_for_weights).
std::unique_ptr<PMSDSEN> load_pmsdsen(const std::string& path, std::optional<int64_t> classes = std::nullopt,
                                      std::optional<Activation> act = std::nullopt);

void save_weights(const PMSDSEN& model, const std::string& path);

}  // namespace pmsdsen
