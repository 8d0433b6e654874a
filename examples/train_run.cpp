#include "examples/train_run.h"

#include <limits>

#include "core/file_io.h"
#include "examples/train_setup.h"

namespace pmsdsen::train {

TrainRun open_run(TrainConfig config, const std::optional<Checkpoint>& resume) {
  TrainRun run;
  TrainConfig& c = run.config;
  c = std::move(config);
  resolve(c);
  run.device = parse_device(c.device);
  require_device(run.device, "train");
  run.folder = std::make_unique<RunFolder>(c.out);
  run.last_path = run.folder->file("last.safetensors");
  run.best_path = run.folder->file("best.safetensors");

  run.train_set = open_dataset(c, c.train_split);
  run.val_set = open_dataset(c, c.val_split);
  const int64_t classes = run.train_set->num_classes();
  PMSDSEN_CHECK(run.val_set->num_classes() == classes, "train: the ", c.train_split, " and ", c.val_split,
                " splits have different classes");

  if (resume) {
    run.state = resume->state;
  } else {
    run.state.seed = c.seed;
  }
  run.state.config = to_json(c);
  run.net = build_train_model(c, classes, run.device, resume);
  run.loss = training_loss_options(c, classes, run.device);

  run.loader = std::make_unique<data::Loader>(*run.train_set, training_loader_config(c, run.state.iteration));
  run.batches_per_epoch = run.loader->batches_per_epoch();
  PMSDSEN_CHECK(c.iters > 0 || c.epochs <= std::numeric_limits<int64_t>::max() / run.batches_per_epoch,
                "train: --epochs ", c.epochs, " of ", run.batches_per_epoch, " batches is more iterations than can "
                "be counted");
  run.total_iters = c.iters > 0 ? c.iters : c.epochs * run.batches_per_epoch;
  PMSDSEN_CHECK(run.total_iters > c.warmup_iters, "train: ", run.total_iters, " iterations, not more than "
                "--warmup-iters ", c.warmup_iters);
  PMSDSEN_CHECK(run.state.iteration <= run.total_iters, "train: the checkpoint is at iteration ", run.state.iteration,
                ", past the run's ", run.total_iters, " iterations (raise --iters or --epochs to go on)");
  run.schedule = PolySchedule{c.lr, run.total_iters, c.poly_power, c.warmup_iters};
  run.val_every = c.val_every == 0 ? run.batches_per_epoch : c.val_every;  // -1: end only

  write_file_atomically(run.folder->file("config.json"), to_json(c).dump(2) + "\n");
  run.log = std::make_unique<RunLog>(run.folder->file("log.jsonl"), resume ? run.state.iteration : -1);
  run.resumed = resume.has_value();
  return run;
}

}  // namespace pmsdsen::train
