// The training loop: iterations until the run's total, logging, validating and saving on
// their schedules, stopping on Ctrl-C, --stop-after or a loss that is not finite. What it
// runs on is built by train_run.cpp; validation and saving are train_validation.cpp and
// train_saving.cpp.
#include "examples/trainer.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

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

class Loop {
 public:
  Loop(TrainRun& run, const TrainHooks& hooks)
      : run_(run), c_(run.config), hooks_(hooks), progress_(Progress::stdout_is_terminal(), run.config.log_every) {}

  TrainResult run() {
    TrainResult r;
    RunState& s = run_.state;
    r.total_iters = run_.total_iters;
    say(str(run_.resumed ? "resuming" : "training", " PMSDSEN (", run_.net.model->parameter_count(), " parameters, ",
            c_.activation, ") on ", c_.dataset, " ", c_.train_split, " (", run_.train_set->size(), " images, ",
            run_.batches_per_epoch, " batches of ", c_.batch, " per epoch), ", c_.crop_width, "x", c_.crop_height,
            " crops, ", run_.device.str(), "; iterations ", s.iteration, " -> ", run_.total_iters, "; output ",
            c_.out));

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

        const bool stop_now = InterruptGuard::requested() || (c_.stop_after > 0 && it >= c_.stop_after);
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
        if (InterruptGuard::requested()) {
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
    const double value = total.item_double();
    if (!std::isfinite(value)) {
      r.status = TrainStatus::NonFinite;
      r.message = str("loss is ", std::isnan(value) ? "NaN" : "infinite", " at iteration ", i + 1, " (lr ",
                      fmt("%.6g", lr), "); last good checkpoint: ", last_good_checkpoint(run_));
      return std::nullopt;
    }
    run_.net.sgd->zero_grad();
    backward(total);
    run_.net.sgd->step(lr);
    s.iteration = i + 1;
    s.epoch = s.iteration / run_.batches_per_epoch;
    return Step{value, batch->images.size(0)};
  }

  void validate_now() {
    say(validate(run_, [this](int64_t done, int64_t total) {
      if (InterruptGuard::requested()) throw ValidationInterrupted{};
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
