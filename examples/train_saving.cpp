#include "examples/train_saving.h"

#include <cstdio>
#include <filesystem>

#include "examples/train_curves.h"

namespace pmsdsen::train {

bool save_run(TrainRun& run, bool after_validation) {
  if (!all_finite(*run.net.model)) return false;
  if (!run.writer) return true;  // rank 0 writes; the ranks' weights are the same
  const auto momentum = run.net.momentum();
  if (after_validation && run.new_best) save_checkpoint(run.best_path, *run.net.model, momentum, run.state);
  save_checkpoint(run.last_path, *run.net.model, momentum, run.state);
  const TrainConfig& c = run.config;
  char lr[32];
  std::snprintf(lr, sizeof lr, "%g", c.lr);
  write_curves(run.folder->file("curves.svg"), run.log->records(), run.total_iters,
               str("PMSDSEN on ", c.dataset, " (", c.crop_width, "x", c.crop_height, ", batch ", c.batch, ", lr ", lr,
                   ")"));
  run.new_best = false;
  return true;
}

std::string last_good_checkpoint(const TrainRun& run) {
  return std::filesystem::exists(run.last_path) ? run.last_path : "none (no checkpoint written yet)";
}

}  // namespace pmsdsen::train
