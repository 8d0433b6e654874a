#pragma once
// The training loop of `pmsdsen train`: PMSDSEN, SGD with the poly schedule, the loss
// summed over the three outputs, periodic validation (mIoU, the data issue's protocol),
// checkpoints last/best, log.jsonl, curves.svg, Ctrl-C and non-finite-loss handling.
//
// Run folder (--out):
//   config.json        the resolved settings (pass back with --config to repeat a run)
//   last.safetensors   the latest state (model, momentum, run state); --resume reads it
//   best.safetensors   the state at the best validation mIoU
//   log.jsonl          one record per logged iteration and per validation
//   curves.svg         loss and validation mIoU against iteration
//   .lock              flock'ed for the whole run (run_folder.h): one training per folder
// Every file is replaced atomically (core/file_io.h); a write failure (a full disk) stops
// the run with an error naming the file, the previous version of it intact.
//
// On the CPU a run stopped after k iterations and resumed produces bit-identical weights
// to an uninterrupted one: batch i depends only on (seed, i), the momentum buffers and
// BatchNorm statistics are restored exactly, and no other randomness is drawn.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "examples/train_checkpoint.h"
#include "examples/train_config.h"
#include "layers/module.h"

namespace pmsdsen::train {

enum class TrainStatus {
  Finished,     // all iterations done
  Stopped,      // --stop-after reached (last saved)
  Interrupted,  // Ctrl-C / SIGTERM (last saved)
  NonFinite,    // the loss (or the weights) stopped being finite; nothing overwritten
};

struct TrainHooks {
  // After each completed iteration (1-based count), before logging/validation/saving.
  // Tests use it to raise SIGINT or to corrupt the weights.
  std::function<void(int64_t iteration, Module& model)> after_iteration;
  bool quiet = false;  // no console output (tests)
};

struct TrainResult {
  TrainStatus status = TrainStatus::Finished;
  int64_t iteration = 0;       // iterations completed
  int64_t total_iters = 0;
  double first_loss = NAN;     // mean loss of the first logged window of this process
  double final_loss = NAN;     // mean loss of the last logged window
  double best_miou = -1.0, last_miou = -1.0;
  double start_miou = -1.0;    // --val-at-start
  double seconds_per_iter = 0.0;  // mean over this process's iterations (validation excluded)
  std::string message;          // the closing line (error text for NonFinite)
  std::string last_checkpoint, best_checkpoint;

  int exit_code() const;        // 0 finished/stopped, 130 interrupted, 1 non-finite
};

// Trains. With `resume` (a checkpoint read from DIR/last.safetensors) the run continues
// from it; `config` is then the checkpoint's config with any overrides applied.
TrainResult run_training(TrainConfig config, const std::optional<Checkpoint>& resume = std::nullopt,
                         const TrainHooks& hooks = {});

}  // namespace pmsdsen::train
