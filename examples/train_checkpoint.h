#pragma once
// Training checkpoints: one safetensors file holding the model's state dict under
// "model.<key>", the SGD momentum buffers under "optim.momentum.<parameter name>", and
// the run state in the metadata (iteration, epoch, best mIoU, seed, the full config as
// JSON, format version). Written atomically (temporary file, fsync, rename): a kill at
// any moment leaves the previous file whole. A file cut short is refused on load with
// an error naming it.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/safetensors.h"
#include "core/tensor.h"
#include "layers/module.h"

namespace pmsdsen::train {

constexpr const char* kCheckpointFormat = "pmsdsen-train-checkpoint";
constexpr int kCheckpointVersion = 1;

struct RunState {
  int64_t iteration = 0;        // iterations completed; a resumed run starts here
  int64_t epoch = 0;            // epoch of the next iteration
  double best_miou = -1.0;      // best validation mIoU so far; -1 before any validation
  int64_t best_iteration = 0;
  double last_miou = -1.0;      // mIoU of the latest validation
  int64_t seed = 0;
  nlohmann::json config;        // the resolved TrainConfig (train_config.h)
};

struct Checkpoint {
  std::map<std::string, Tensor> model;     // state dict (CPU tensors)
  std::map<std::string, Tensor> momentum;  // by parameter name; absent before its first step
  RunState state;
  std::string path;
};

// Writes the checkpoint atomically. `momentum` pairs parameter names with their buffers
// (undefined buffers are left out).
void save_checkpoint(const std::string& path, const Module& model,
                     const std::vector<std::pair<std::string, Tensor>>& momentum, const RunState& state);

// Reads and validates a checkpoint: a truncated or foreign file is an Error naming it.
Checkpoint load_checkpoint(const std::string& path);
// The same from a file already read; `path` names it in errors.
Checkpoint parse_checkpoint(Safetensors file, const std::string& path);

// Weights to start from or evaluate: a training checkpoint's "model." tensors by their
// plain names (metadata "act" and "classes" from its config and head), or a plain
// weights file (a state dict by name, as saved by save_weights or converted from
// PyTorch) as it is.
Safetensors load_weights_file(const std::string& path);
Safetensors weights_in_file(Safetensors file);

// True when every parameter and float buffer is finite (checked before saving, so a
// diverged model never overwrites a good checkpoint).
bool all_finite(const Module& model);

}  // namespace pmsdsen::train
