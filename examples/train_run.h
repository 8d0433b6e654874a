#pragma once
// A training run built from its settings, before its first iteration: the locked run
// folder, both datasets, the network and its optimiser (train_model.h), the loss, the
// loader positioned at the run's iteration, the number of iterations and the schedule,
// the run state (fresh, or a checkpoint's), config.json written and log.jsonl opened.
// Everything the loop (trainer.cpp), the validation (train_validation.h) and the saving
// (train_saving.h) share.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "autograd/grad_average.h"
#include "core/comm.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "examples/run_folder.h"
#include "examples/train_checkpoint.h"
#include "examples/train_config.h"
#include "examples/train_log.h"
#include "examples/train_model.h"
#include "examples/train_schedule.h"
#include "models/loss.h"

namespace pmsdsen::train {

struct TrainRun {
  TrainConfig config;                    // resolved (train_config.h)
  Device device;
  // Data parallelism: the ranks mpirun started (one process: size 1). Rank 0 alone
  // writes the run folder; every rank trains on its shard of each batch, with rank 0's
  // start weights and gradients averaged over the ranks before each SGD step.
  comm::Communicator* comm = nullptr;
  bool writer = true;                    // rank 0
  std::unique_ptr<GradAverager> averager;  // with more than one rank
  std::unique_ptr<RunFolder> folder;     // locked until the run is gone (rank 0 only)
  std::string last_path, best_path;      // last.safetensors, best.safetensors in the folder
  std::unique_ptr<data::Dataset> train_set, val_set;
  TrainModel net;
  SegLossOptions loss;
  std::unique_ptr<data::Loader> loader;  // reads train_set
  int64_t batches_per_epoch = 1;
  int64_t total_iters = 1;
  int64_t val_every = 1;                 // iterations between validations; <= 0: only at the end
  PolySchedule schedule;
  RunState state;                        // iteration, epoch, best and last mIoU, seed, config
  std::unique_ptr<RunLog> log;
  bool resumed = false;
  bool new_best = false;                 // the latest validation improved on the best

  int64_t epochs() const { return (total_iters + batches_per_epoch - 1) / batches_per_epoch; }
};

// Resolves `config` (resolve()) and builds the run; with `resume` (a checkpoint read from
// DIR/last.safetensors) from that checkpoint. Errors name the setting or file at fault.
TrainRun open_run(TrainConfig config, const std::optional<Checkpoint>& resume);

}  // namespace pmsdsen::train
