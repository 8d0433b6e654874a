#include "examples/train_run.h"

#include <filesystem>
#include <limits>

#include "core/file_io.h"
#include "examples/train_setup.h"
#include "layers/batchnorm.h"
#include "layers/broadcast.h"

namespace pmsdsen::train {

TrainRun open_run(TrainConfig config, const std::optional<Checkpoint>& resume) {
  TrainRun run;
  TrainConfig& c = run.config;
  c = std::move(config);
  resolve(c);
  run.device = parse_device(c.device);
  require_device(run.device, "train");
  comm::set_timeout(c.comm_timeout);
  run.comm = &comm::world();
  const int ranks = run.comm->size();
  run.writer = run.comm->rank() == 0;
  // Each rank's batch norm needs two images of its own, unless the statistics are the
  // whole batch's (--sync-bn) or frozen.
  const int64_t per_rank = c.sync_bn || c.freeze_bn ? 1 : 2;
  PMSDSEN_CHECK(c.batch >= per_rank * ranks, "train: --batch ", c.batch, " (the whole batch, split over the ",
                ranks, " ranks) must be at least ", per_rank * ranks,
                c.sync_bn || c.freeze_bn ? ": one image a rank" : ": two images a rank for batch norm (or --sync-bn)");
  if (run.writer) {
    run.folder = std::make_unique<RunFolder>(c.out);
    run.last_path = run.folder->file("last.safetensors");
    run.best_path = run.folder->file("best.safetensors");
  } else {
    run.last_path = (std::filesystem::path(c.out) / "last.safetensors").string();
    run.best_path = (std::filesystem::path(c.out) / "best.safetensors").string();
  }

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
  if (ranks > 1) {
    // Identical start: rank 0's weights, statistics and momentum buffers.
    broadcast_module(*run.net.model, *run.comm);
    broadcast_tensors(run.net.sgd->momentum_buffers(), *run.comm);
    if (c.sync_bn) sync_batch_norm(*run.net.model, run.comm);
    std::vector<Tensor> params;
    for (auto& [name, p] : run.net.params) params.push_back(p);
    GradAverageOptions ao;
    ao.overlap = c.grad_overlap;
    run.averager = std::make_unique<GradAverager>(params, *run.comm, ao);
  }
  run.loss = training_loss_options(c, classes, run.device);

  data::LoaderConfig lc = training_loader_config(c, run.state.iteration);
  lc.shard = run.comm->rank();
  lc.shards = ranks;
  run.loader = std::make_unique<data::Loader>(*run.train_set, lc);
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

  if (run.writer) {
    write_file_atomically(run.folder->file("config.json"), to_json(c).dump(2) + "\n");
    run.log = std::make_unique<RunLog>(run.folder->file("log.jsonl"), resume ? run.state.iteration : -1);
  } else {
    run.log = std::make_unique<RunLog>("", -1);
  }
  run.resumed = resume.has_value();
  return run;
}

}  // namespace pmsdsen::train
