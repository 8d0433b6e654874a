// The training loop: iterations until the run's total, logging, validating and saving on
// their schedules, stopping on Ctrl-C, --stop-after or a loss that is not finite. What it
// runs on is built by train_run.cpp; validation and saving are train_validation.cpp and
// train_saving.cpp.
#include "examples/trainer.h"

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "autograd/device_reduce.h"
#include "autograd/engine.h"
#include "autograd/ops_basic.h"
#include "examples/clock.h"
#include "examples/train_progress.h"
#include "examples/train_run.h"
#include "examples/train_saving.h"
#include "examples/train_signal.h"
#include "examples/train_validation.h"
#include "models/loss.h"

namespace pmsdsen::train {
namespace {

namespace fs = std::filesystem;

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// The pixels the mean of the loss is over (the weighted count with class weights, as
// cross_entropy divides by), from the CPU labels of the batch. With OHEM the mean is over
// the kept pixels, which this does not know: the shards are then weighed by their valid
// pixels, close to but not exactly the one-process step.
double loss_denominator(const Tensor& labels, const SegLossOptions& o) {
  const Tensor l = labels.cpu().to(DType::I64);
  const int64_t* p = l.data<int64_t>();
  std::vector<double> w;
  if (o.class_weights.defined()) w = o.class_weights.cpu().to(DType::F64).to_vector<double>();
  double d = 0;
  for (int64_t k = 0; k < l.numel(); ++k) {
    if (p[k] == o.ignore_index) continue;
    d += w.empty() ? 1.0 : w[static_cast<size_t>(p[k])];
  }
  return d;
}

// PMSDSEN_TEST_FAULT=RANK:ITERATION:kill|hang|interrupt|error: that rank, after that
// iteration, is killed (SIGKILL), stops (SIGSTOP), gets Ctrl-C (SIGINT) or throws, so that
// tests can check how the other ranks end (tests/test_train_distributed.cpp).
void inject_test_fault(int64_t iteration) {
  static const char* spec = std::getenv("PMSDSEN_TEST_FAULT");
  if (!spec) return;
  int rank = -1;
  long long at = -1;
  char what[16] = {0};
  if (std::sscanf(spec, "%d:%lld:%15s", &rank, &at, what) != 3) return;
  if (rank != comm::world().rank() || at != iteration) return;
  std::fflush(stdout);
  if (std::string(what) == "kill") std::raise(SIGKILL);
  if (std::string(what) == "hang") std::raise(SIGSTOP);
  if (std::string(what) == "interrupt") {
    std::raise(SIGINT);
    return;
  }
  PMSDSEN_FAIL("PMSDSEN_TEST_FAULT: an error on rank ", rank, " after iteration ", iteration);
}

class Loop {
 public:
  Loop(TrainRun& run, const TrainHooks& hooks)
      : run_(run), c_(run.config), hooks_(hooks), progress_(Progress::stdout_is_terminal(), run.config.log_every) {
    if (!run.writer) hooks_.quiet = true;  // rank 0 speaks for the run
  }

  TrainResult run() {
    TrainResult r;
    RunState& s = run_.state;
    r.total_iters = run_.total_iters;
    say(str(run_.resumed ? "resuming" : "training", " PMSDSEN (", run_.net.model->parameter_count(), " parameters, ",
            c_.activation, ") on ", c_.dataset, " ", c_.train_split, " (", run_.train_set->size(), " images, ",
            run_.batches_per_epoch, " batches of ", c_.batch, " per epoch), ", c_.crop_width, "x", c_.crop_height,
            " crops, ", run_.device.str(), "; iterations ", s.iteration, " -> ", run_.total_iters, "; output ",
            c_.out));
    if (run_.averager)
      say(str("data parallel: ", run_.comm->size(), " ranks (", comm::mpi_library_version(), "), each ~",
              c_.batch / run_.comm->size(), " images of every batch of ", c_.batch, "; gradients averaged in ",
              run_.averager->bucket_count(), " buckets over ", autograd::device_reduce_path(run_.device),
              c_.sync_bn ? "; batch norm synchronised (--sync-bn)" : "; batch norm per rank"));

    try {
      if (c_.val_at_start && s.iteration == 0) {
        validate_now();
        r.start_miou = s.last_miou;
        if (!save(r, true)) return finish(r);
      }
      double window_loss = 0.0, window_start = now_s(), train_seconds = 0.0;
      int64_t window_iters = 0, window_images = 0, done_here = 0;
      double iter_time_avg = 0.0;
      while (s.iteration < run_.total_iters) {
        const int64_t i = s.iteration;
        const double t0 = now_s();
        const std::optional<Step> done = step(r);
        if (!done) return finish(r);
        ++done_here;
        const double dt = now_s() - t0;
        train_seconds += dt;
        iter_time_avg = done_here == 1 ? dt : 0.9 * iter_time_avg + 0.1 * dt;
        window_loss += done->loss;
        ++window_iters;
        window_images += done->images;
        last_skipped_ = run_.loader->skipped();

        if (hooks_.after_iteration) hooks_.after_iteration(s.iteration, *run_.net.model);

        const int64_t it = s.iteration;
        ProgressInfo p{it, run_.total_iters, i / run_.batches_per_epoch, run_.epochs(),
                       window_loss / window_iters, run_.schedule.lr(i),
                       window_images / std::max(1e-9, now_s() - window_start),
                       iter_time_avg * (run_.total_iters - it) + remaining_validation_seconds(it)};
        if (!hooks_.quiet) progress_.update(p);
        if (it % c_.log_every == 0 || it == run_.total_iters) {
          const double mean = window_loss / window_iters;
          if (std::isnan(r.first_loss)) r.first_loss = mean;
          r.final_loss = mean;
          run_.log->append({{"kind", "train"}, {"iter", it}, {"epoch", i / run_.batches_per_epoch}, {"loss", mean},
                            {"lr", p.lr}, {"images_per_s", p.images_per_s}, {"elapsed_s", train_seconds}});
          window_loss = 0.0;
          window_iters = window_images = 0;
          window_start = now_s();
        }

        const bool stop_now = interrupted() || (c_.stop_after > 0 && it >= c_.stop_after);
        const bool validate_here = it == run_.total_iters || (run_.val_every > 0 && it % run_.val_every == 0);
        if (validate_here) {
          const double v0 = now_s();
          validate_now();
          last_val_seconds_ = now_s() - v0;
          window_start += last_val_seconds_;
          if (!save(r, true)) return finish(r);
        } else if (stop_now || (c_.save_every > 0 && it % c_.save_every == 0)) {
          if (!save(r, false)) return finish(r);
        }
        if (interrupted()) {
          r.status = TrainStatus::Interrupted;
          r.message = str("interrupted at iteration ", it, " of ", run_.total_iters, "; saved ", run_.last_path,
                          "; continue with: pmsdsen train --resume ", c_.out);
          break;
        }
        if (c_.stop_after > 0 && it >= c_.stop_after && it < run_.total_iters) {
          r.status = TrainStatus::Stopped;
          r.message = str("stopped after iteration ", it, " of ", run_.total_iters, " (--stop-after); saved ",
                          run_.last_path, "; continue with: pmsdsen train --resume ", c_.out);
          break;
        }
      }
      r.seconds_per_iter = done_here > 0 ? train_seconds / done_here : 0.0;
      if (r.status == TrainStatus::Finished)
        r.message = str("finished ", run_.total_iters, " iterations; best mIoU ", fmt("%.2f", 100 * s.best_miou),
                        "% at iteration ", s.best_iteration, " (", run_.best_path, "); last: ", run_.last_path);
    } catch (const ValidationInterrupted&) {
      // Ctrl-C during a validation: the weights are those of the finished iteration.
      if (!save(r, false)) return finish(r);
      r.status = TrainStatus::Interrupted;
      r.message = str("interrupted during validation at iteration ", s.iteration, "; saved ", run_.last_path,
                      "; continue with: pmsdsen train --resume ", c_.out);
    }
    return finish(r);
  }

 private:
  struct Step {
    double loss;
    int64_t images;
  };

  // One iteration: a batch, the loss summed over the three outputs, backward, an SGD
  // step. Returns the loss, or nothing (r says why) when it is not finite.
  std::optional<Step> step(TrainResult& r) {
    RunState& s = run_.state;
    const int64_t i = s.iteration;
    std::optional<data::Batch> batch = run_.loader->next();
    PMSDSEN_CHECK(batch.has_value(), "train: the loader ended before iteration ", i + 1);
    const double lr = run_.schedule.lr(i);
    const Tensor images = batch->images.to(run_.device);
    const Tensor labels = batch->labels.to(run_.device);
    const SegLoss loss = segmentation_loss(run_.net.model->run(images), labels, run_.loss);
    const Tensor total = c_.aux_weight == 1.0 ? loss.total
                                              : loss.parts[0] + (loss.parts[1] + loss.parts[2]) * c_.aux_weight;
    double value = total.item_double();
    double scale = 1.0;
    if (run_.averager) {
      // The whole batch's loss is a mean over its pixels: shard r's share of them, D_r/D,
      // weighs its gradient (scaled by N D_r / D, which the average divides by N), so N
      // ranks step as one process would. Every rank then judges the same loss value.
      const double mine = loss_denominator(batch->labels, run_.loss);
      double sums[2] = {mine, mine * value};
      comm::all_reduce(*run_.comm, sums, 2);
      value = sums[0] > 0 ? sums[1] / sums[0] : sums[1];
      scale = sums[0] > 0 ? run_.comm->size() * mine / sums[0] : 1.0;
    }
    if (!std::isfinite(value)) {
      r.status = TrainStatus::NonFinite;
      r.message = str("loss is ", std::isnan(value) ? "NaN" : "infinite", " at iteration ", i + 1, " (lr ",
                      fmt("%.6g", lr), "); last good checkpoint: ", last_good_checkpoint(run_));
      return std::nullopt;
    }
    run_.net.sgd->zero_grad();
    if (run_.averager) {
      run_.averager->begin();
      backward(scale == 1.0 ? total : total * scale);
      run_.averager->finish();
    } else {
      backward(total);
    }
    run_.net.sgd->step(lr);
    s.iteration = i + 1;
    s.epoch = s.iteration / run_.batches_per_epoch;
    inject_test_fault(s.iteration);
    return Step{value, run_.averager ? c_.batch : batch->images.size(0)};
  }

  // Ctrl-C (SIGTERM from mpirun) reaches the ranks at different moments: they agree,
  // once an iteration, so that all stop after the same one.
  bool interrupted() {
    if (!run_.averager) return InterruptGuard::requested();
    if (!interrupt_agreed_)
      interrupt_agreed_ = comm::all_reduce_value<int>(*run_.comm, InterruptGuard::requested() ? 1 : 0,
                                                      comm::ReduceOp::Max) != 0;
    return interrupt_agreed_;
  }

  void validate_now() {
    say(validate(run_, [this](int64_t done, int64_t total) {
      // Several ranks finish their validation: stopping in it would leave the others waiting.
      if (!run_.averager && InterruptGuard::requested()) throw ValidationInterrupted{};
      if (!hooks_.quiet) progress_.status(str("validating ", done, "/", total));
    }));
  }

  bool save(TrainResult& r, bool after_validation) {
    if (save_run(run_, after_validation)) return true;
    r.status = TrainStatus::NonFinite;
    r.message = str("the weights are not finite after iteration ", run_.state.iteration,
                    " (not saved); last good checkpoint: ", last_good_checkpoint(run_));
    return false;
  }

  void say(const std::string& line) {
    if (!hooks_.quiet) progress_.message(line);
  }

  double remaining_validation_seconds(int64_t it) const {
    if (last_val_seconds_ <= 0) return 0.0;
    const int64_t left = run_.val_every > 0 ? (run_.total_iters / run_.val_every - it / run_.val_every) : 1;
    return left * last_val_seconds_;
  }

  TrainResult finish(TrainResult& r) {
    if (!hooks_.quiet) progress_.finish();
    r.iteration = run_.state.iteration;
    r.best_miou = run_.state.best_miou;
    r.last_miou = run_.state.last_miou;
    r.last_checkpoint = fs::exists(run_.last_path) ? run_.last_path : "";
    r.best_checkpoint = fs::exists(run_.best_path) ? run_.best_path : "";
    if (last_skipped_ > 0 && !hooks_.quiet)
      progress_.message(str(last_skipped_, " training samples skipped (--skip-bad)"));
    if (!hooks_.quiet) {
      if (r.status == TrainStatus::NonFinite) std::fprintf(stderr, "pmsdsen train: error: %s\n", r.message.c_str());
      else progress_.message(r.message);
    }
    return r;
  }

  TrainRun& run_;
  const TrainConfig& c_;
  TrainHooks hooks_;
  Progress progress_;
  double last_val_seconds_ = 0.0;
  int64_t last_skipped_ = 0;
  bool interrupt_agreed_ = false;
};

}  // namespace

int TrainResult::exit_code() const {
  switch (status) {
    case TrainStatus::Finished:
    case TrainStatus::Stopped: return 0;
    case TrainStatus::Interrupted: return 130;
    case TrainStatus::NonFinite: return 1;
  }
  return 1;
}

TrainResult run_training(TrainConfig config, const std::optional<Checkpoint>& resume, const TrainHooks& hooks) {
  InterruptGuard guard;  // from the start: a Ctrl-C during set-up stops after the first iteration
  TrainRun run = open_run(std::move(config), resume);
  return Loop(run, hooks).run();
}

}  // namespace pmsdsen::train
