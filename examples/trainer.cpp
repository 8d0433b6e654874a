#include "examples/trainer.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

#include "autograd/engine.h"
#include "autograd/ops_basic.h"
#include "autograd/grad_mode.h"
#include "autograd/sgd.h"
#include "core/safetensors.h"
#include "data/evaluate.h"
#include "data/loader.h"
#include "examples/clock.h"
#include "examples/run_folder.h"
#include "examples/train_curves.h"
#include "examples/train_log.h"
#include "examples/train_progress.h"
#include "examples/train_schedule.h"
#include "examples/train_setup.h"
#include "examples/train_signal.h"
#include "layers/batchnorm.h"
#include "models/loss.h"
#include "models/pmsdsen.h"
#include "models/predict.h"
#include "models/weights.h"

namespace pmsdsen::train {
namespace {

namespace fs = std::filesystem;

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Thrown from the evaluator's progress callback when Ctrl-C arrives mid-validation.
struct ValidationInterrupted {};

// Parameters the optimiser updates, with their names. Frozen BN (the authors' stage
// 2) keeps its affine parameters fixed too: they leave the optimiser and stop
// requiring gradients.
std::vector<std::pair<std::string, Tensor>> trainable_parameters(Module& model, bool freeze_bn) {
  std::set<const TensorImpl*> frozen;
  if (freeze_bn) {
    std::function<void(Module&)> visit = [&](Module& m) {
      if (dynamic_cast<BatchNorm2d*>(&m))
        for (auto& [name, p] : m.named_parameters()) frozen.insert(p.impl());
      for (auto& [name, child] : m.children()) visit(*child);
    };
    visit(model);
  }
  std::vector<std::pair<std::string, Tensor>> out;
  for (auto& [name, p] : model.named_parameters()) {
    if (frozen.count(p.impl())) {
      p.set_requires_grad(false);
      continue;
    }
    out.emplace_back(name, p);
  }
  return out;
}

class Trainer {
 public:
  Trainer(TrainConfig config, const std::optional<Checkpoint>& resume, const TrainHooks& hooks)
      : c_(std::move(config)), hooks_(hooks) {
    resolve(c_);
    device_ = parse_device(c_.device);
    require_device(device_, "train");
    folder_ = std::make_unique<RunFolder>(c_.out);
    last_path_ = folder_->file("last.safetensors");
    best_path_ = folder_->file("best.safetensors");

    train_set_ = open_dataset(c_, c_.train_split);
    val_set_ = open_dataset(c_, c_.val_split);
    const int64_t classes = train_set_->num_classes();
    PMSDSEN_CHECK(val_set_->num_classes() == classes, "train: the ", c_.train_split, " and ", c_.val_split,
                  " splits have different classes");

    Generator gen(static_cast<uint64_t>(c_.seed));
    model_ = std::make_unique<PMSDSEN>(PmsdsenConfig{classes, parse_activation(c_.activation)}, gen);
    if (resume) {
      model_->load_state_dict(resume->model);  // strict: every problem listed
      state_ = resume->state;
      state_.config = to_json(c_);
    } else {
      state_.seed = c_.seed;
      state_.config = to_json(c_);
      if (!c_.init.empty()) load_weights(*model_, load_weights_file(c_.init), c_.init);
    }
    model_->to(device_);
    if (c_.freeze_bn) freeze_batch_norm(*model_);
    model_->train();

    params_ = trainable_parameters(*model_, c_.freeze_bn);
    std::vector<Tensor> tensors;
    for (auto& [name, p] : params_) tensors.push_back(p);
    sgd_ = std::make_unique<Sgd>(tensors, SgdOptions{c_.momentum, c_.weight_decay});
    if (resume) {
      std::vector<Tensor>& bufs = sgd_->momentum_buffers();
      std::set<std::string> used;
      for (size_t k = 0; k < params_.size(); ++k) {
        auto it = resume->momentum.find(params_[k].first);
        if (it == resume->momentum.end()) continue;
        PMSDSEN_CHECK(it->second.shape() == params_[k].second.shape(), "checkpoint '", resume->path,
                      "': momentum of '", it->first, "' is ", shape_str(it->second.shape()), ", the parameter ",
                      shape_str(params_[k].second.shape()));
        bufs[k] = it->second.to(params_[k].second.dtype()).to(device_);
        used.insert(it->first);
      }
      for (const auto& [name, t] : resume->momentum)
        PMSDSEN_CHECK(used.count(name), "checkpoint '", resume->path, "': momentum buffer for '", name,
                      "', which is not a trainable parameter (was --freeze-bn changed?)");
    }

    const std::vector<double> weights = class_weight_values(c_, classes);
    if (!weights.empty()) loss_options_.class_weights = Tensor::from_vector(weights, {classes}).to(device_);
    loss_options_.ohem = c_.loss == "ohem";
    loss_options_.ohem_threshold = c_.ohem_threshold;

    data::LoaderConfig lc;
    lc.batch_size = c_.batch;
    lc.workers = static_cast<int>(c_.workers);
    lc.seed = static_cast<uint64_t>(c_.seed);
    lc.shuffle = true;
    lc.drop_last = true;
    lc.refill_skipped = true;  // --skip-bad keeps batches full: batch norm needs two images
    lc.augment = true;
    lc.augmentation.crop_width = c_.crop_width;
    lc.augmentation.crop_height = c_.crop_height;
    std::tie(lc.augmentation.scale_min, lc.augmentation.scale_max) = scale_range_values(c_);
    lc.augmentation.flip = c_.flip;
    lc.augmentation.color_jitter = jitter_on(c_);
    lc.start_iteration = state_.iteration;
    loader_ = std::make_unique<data::Loader>(*train_set_, lc);
    batches_per_epoch_ = loader_->batches_per_epoch();
    PMSDSEN_CHECK(c_.iters > 0 || c_.epochs <= std::numeric_limits<int64_t>::max() / batches_per_epoch_,
                  "train: --epochs ", c_.epochs, " of ", batches_per_epoch_, " batches is more iterations than can "
                  "be counted");
    total_ = c_.iters > 0 ? c_.iters : c_.epochs * batches_per_epoch_;
    PMSDSEN_CHECK(total_ > c_.warmup_iters, "train: ", total_, " iterations, not more than --warmup-iters ",
                  c_.warmup_iters);
    PMSDSEN_CHECK(state_.iteration <= total_, "train: the checkpoint is at iteration ", state_.iteration,
                  ", past the run's ", total_, " iterations (raise --iters or --epochs to go on)");
    schedule_ = PolySchedule{c_.lr, total_, c_.poly_power, c_.warmup_iters};
    val_every_ = c_.val_every == 0 ? batches_per_epoch_ : c_.val_every;  // -1: end only

    write_file_atomically(folder_->file("config.json"), to_json(c_).dump(2) + "\n");
    log_ = std::make_unique<RunLog>(folder_->file("log.jsonl"), resume ? state_.iteration : -1);
    progress_ = std::make_unique<Progress>(Progress::stdout_is_terminal(), c_.log_every);
    resumed_ = resume.has_value();
  }

  TrainResult run() {
    TrainResult r;
    r.total_iters = total_;
    say(str(resumed_ ? "resuming" : "training", " PMSDSEN (", model_->parameter_count(), " parameters, ",
            c_.activation, ") on ", c_.dataset, " ", c_.train_split, " (", train_set_->size(), " images, ",
            batches_per_epoch_, " batches of ", c_.batch, " per epoch), ", c_.crop_width, "x", c_.crop_height,
            " crops, ", device_.str(), "; iterations ", state_.iteration, " -> ", total_, "; output ", c_.out));

    try {
      if (c_.val_at_start && state_.iteration == 0) {
        validate();
        r.start_miou = state_.last_miou;
        if (!save_checkpoints(r, true)) return finish(r);
      }
      double window_loss = 0.0, window_start = now_s(), train_seconds = 0.0;
      int64_t window_iters = 0, window_images = 0, done_here = 0;
      double iter_time_avg = 0.0;
      while (state_.iteration < total_) {
        const int64_t i = state_.iteration;
        const double t0 = now_s();
        std::optional<data::Batch> batch = loader_->next();
        PMSDSEN_CHECK(batch.has_value(), "train: the loader ended before iteration ", i + 1);
        const double lr = schedule_.lr(i);
        const Tensor images = batch->images.to(device_);
        const Tensor labels = batch->labels.to(device_);
        const SegLoss loss = segmentation_loss(model_->run(images), labels, loss_options_);
        const Tensor total = c_.aux_weight == 1.0
                                 ? loss.total
                                 : loss.parts[0] + (loss.parts[1] + loss.parts[2]) * c_.aux_weight;
        const double value = total.item_double();
        if (!std::isfinite(value)) {
          r.status = TrainStatus::NonFinite;
          r.message = str("loss is ", std::isnan(value) ? "NaN" : "infinite", " at iteration ", i + 1, " (lr ",
                          fmt("%.6g", lr), "); last good checkpoint: ", last_good());
          return finish(r);
        }
        sgd_->zero_grad();
        backward(total);
        sgd_->step(lr);
        state_.iteration = i + 1;
        state_.epoch = state_.iteration / batches_per_epoch_;
        ++done_here;
        const double dt = now_s() - t0;
        train_seconds += dt;
        iter_time_avg = done_here == 1 ? dt : 0.9 * iter_time_avg + 0.1 * dt;
        window_loss += value;
        ++window_iters;
        window_images += batch->images.size(0);
        last_skipped_ = loader_->skipped();

        if (hooks_.after_iteration) hooks_.after_iteration(state_.iteration, *model_);

        const int64_t it = state_.iteration;
        ProgressInfo p{it, total_, i / batches_per_epoch_, (total_ + batches_per_epoch_ - 1) / batches_per_epoch_,
                       window_loss / window_iters, lr,
                       window_images / std::max(1e-9, now_s() - window_start),
                       iter_time_avg * (total_ - it) + remaining_validation_seconds(it)};
        if (!hooks_.quiet) progress_->update(p);
        if (it % c_.log_every == 0 || it == total_) {
          const double mean = window_loss / window_iters;
          if (std::isnan(r.first_loss)) r.first_loss = mean;
          r.final_loss = mean;
          log_->append({{"kind", "train"}, {"iter", it}, {"epoch", i / batches_per_epoch_}, {"loss", mean},
                        {"lr", lr}, {"images_per_s", p.images_per_s}, {"elapsed_s", train_seconds}});
          window_loss = 0.0;
          window_iters = window_images = 0;
          window_start = now_s();
        }

        const bool stop_now = InterruptGuard::requested() || (c_.stop_after > 0 && it >= c_.stop_after);
        const bool validate_now = it == total_ || (val_every_ > 0 && it % val_every_ == 0);
        if (validate_now) {
          const double v0 = now_s();
          validate();
          last_val_seconds_ = now_s() - v0;
          window_start += last_val_seconds_;
          if (!save_checkpoints(r, true)) return finish(r);
        } else if (stop_now || (c_.save_every > 0 && it % c_.save_every == 0)) {
          if (!save_checkpoints(r, false)) return finish(r);
        }
        if (InterruptGuard::requested()) {
          r.status = TrainStatus::Interrupted;
          r.message = str("interrupted at iteration ", it, " of ", total_, "; saved ", last_path_,
                          "; continue with: pmsdsen train --resume ", c_.out);
          break;
        }
        if (c_.stop_after > 0 && it >= c_.stop_after && it < total_) {
          r.status = TrainStatus::Stopped;
          r.message = str("stopped after iteration ", it, " of ", total_, " (--stop-after); saved ", last_path_,
                          "; continue with: pmsdsen train --resume ", c_.out);
          break;
        }
      }
      r.seconds_per_iter = done_here > 0 ? train_seconds / done_here : 0.0;
      if (r.status == TrainStatus::Finished)
        r.message = str("finished ", total_, " iterations; best mIoU ", fmt("%.2f", 100 * state_.best_miou),
                        "% at iteration ", state_.best_iteration, " (", best_path_, "); last: ", last_path_);
    } catch (const ValidationInterrupted&) {
      // Ctrl-C during a validation: the weights are those of the finished iteration.
      if (!save_checkpoints(r, false)) return finish(r);
      r.status = TrainStatus::Interrupted;
      r.message = str("interrupted during validation at iteration ", state_.iteration, "; saved ", last_path_,
                      "; continue with: pmsdsen train --resume ", c_.out);
    }
    return finish(r);
  }

 private:
  void say(const std::string& line) {
    if (!hooks_.quiet) progress_->message(line);
  }

  std::string last_good() const { return fs::exists(last_path_) ? last_path_ : "none (no checkpoint written yet)"; }

  double remaining_validation_seconds(int64_t it) const {
    if (last_val_seconds_ <= 0) return 0.0;
    const int64_t left = val_every_ > 0 ? (total_ / val_every_ - it / val_every_) : 1;
    return left * last_val_seconds_;
  }

  void validate() {
    model_->eval();
    data::EvalOptions o;
    o.scale = c_.val_scale;
    o.workers = static_cast<int>(c_.workers);
    o.limit = c_.val_limit;
    o.progress = [this](int64_t done, int64_t total) {
      if (InterruptGuard::requested()) throw ValidationInterrupted{};
      if (!hooks_.quiet) progress_->status(str("validating ", done, "/", total));
    };
    const double t0 = now_s();
    data::EvalResult result;
    try {
      result = data::evaluate(*val_set_, Predictor(*model_), o);
    } catch (...) {
      model_->train();
      throw;
    }
    model_->train();
    const double miou = result.confusion.miou();
    state_.last_miou = std::isfinite(miou) ? miou : 0.0;
    const bool best = state_.last_miou > state_.best_miou;
    if (best) {
      state_.best_miou = state_.last_miou;
      state_.best_iteration = state_.iteration;
    }
    new_best_ = best;
    log_->append({{"kind", "val"}, {"iter", state_.iteration}, {"epoch", state_.epoch}, {"miou", state_.last_miou},
                  {"pixel_accuracy", result.confusion.pixel_accuracy()}, {"best_miou", state_.best_miou},
                  {"images", result.images}, {"seconds", now_s() - t0}});
    say(str("validation at iteration ", state_.iteration, ": mIoU ", fmt("%.2f", 100 * state_.last_miou),
            "% (best ", fmt("%.2f", 100 * state_.best_miou), "% at ", state_.best_iteration, "), pixel accuracy ",
            fmt("%.2f", 100 * result.confusion.pixel_accuracy()), "%, ", result.images, " images in ",
            fmt("%.1f", now_s() - t0), " s", result.skipped.empty() ? "" : str(", ", result.skipped.size(), " skipped")));
  }

  // Writes best (after a validation that improved) and last, then curves.svg. Refuses
  // weights that are not finite, so a good checkpoint is never overwritten by a bad one.
  bool save_checkpoints(TrainResult& r, bool after_validation) {
    if (!all_finite(*model_)) {
      r.status = TrainStatus::NonFinite;
      r.message = str("the weights are not finite after iteration ", state_.iteration,
                      " (not saved); last good checkpoint: ", last_good());
      return false;
    }
    std::vector<std::pair<std::string, Tensor>> momentum;
    for (size_t k = 0; k < params_.size(); ++k) momentum.emplace_back(params_[k].first, sgd_->momentum_buffers()[k]);
    if (after_validation && new_best_) save_checkpoint(best_path_, *model_, momentum, state_);
    save_checkpoint(last_path_, *model_, momentum, state_);
    write_curves(folder_->file("curves.svg"), log_->records(), total_,
                 str("PMSDSEN on ", c_.dataset, " (", c_.crop_width, "x", c_.crop_height, ", batch ", c_.batch, ", lr ",
                     fmt("%g", c_.lr), ")"));
    new_best_ = false;
    return true;
  }

  TrainResult finish(TrainResult& r) {
    if (!hooks_.quiet) progress_->finish();
    r.iteration = state_.iteration;
    r.best_miou = state_.best_miou;
    r.last_miou = state_.last_miou;
    r.last_checkpoint = fs::exists(last_path_) ? last_path_ : "";
    r.best_checkpoint = fs::exists(best_path_) ? best_path_ : "";
    if (last_skipped_ > 0 && !hooks_.quiet)
      progress_->message(str(last_skipped_, " training samples skipped (--skip-bad)"));
    if (!hooks_.quiet) {
      if (r.status == TrainStatus::NonFinite) std::fprintf(stderr, "pmsdsen train: error: %s\n", r.message.c_str());
      else progress_->message(r.message);
    }
    return r;
  }

  TrainConfig c_;
  TrainHooks hooks_;
  Device device_;
  std::unique_ptr<RunFolder> folder_;  // locked until the trainer is gone
  std::string last_path_, best_path_;
  std::unique_ptr<data::Dataset> train_set_, val_set_;
  std::unique_ptr<PMSDSEN> model_;
  std::vector<std::pair<std::string, Tensor>> params_;
  std::unique_ptr<Sgd> sgd_;
  SegLossOptions loss_options_;
  std::unique_ptr<data::Loader> loader_;
  int64_t batches_per_epoch_ = 1, total_ = 1, val_every_ = 1;
  PolySchedule schedule_;
  RunState state_;
  std::unique_ptr<RunLog> log_;
  std::unique_ptr<Progress> progress_;
  bool resumed_ = false, new_best_ = false;
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
  Trainer trainer(std::move(config), resume, hooks);
  return trainer.run();
}

}  // namespace pmsdsen::train
