#include "examples/train_validation.h"

#include <cmath>
#include <cstdio>

#include "data/evaluate.h"
#include "examples/clock.h"
#include "models/predict.h"

namespace pmsdsen::train {
namespace {

std::string percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", 100 * v);
  return buf;
}

}  // namespace

std::string validate(TrainRun& run, const std::function<void(int64_t done, int64_t total)>& progress) {
  PMSDSEN& model = *run.net.model;
  RunState& s = run.state;
  model.eval();
  data::EvalOptions o;
  o.scale = run.config.val_scale;
  o.workers = static_cast<int>(run.config.workers);
  o.limit = run.config.val_limit;
  o.progress = progress;
  o.comm = run.comm;  // each rank its share of the images, the confusion matrices summed
  const double t0 = now_s();
  data::EvalResult result;
  try {
    result = data::evaluate(*run.val_set, Predictor(model), o);
  } catch (...) {
    model.train();
    throw;
  }
  model.train();
  const double miou = result.confusion.miou();
  s.last_miou = std::isfinite(miou) ? miou : 0.0;
  run.new_best = s.last_miou > s.best_miou;
  if (run.new_best) {
    s.best_miou = s.last_miou;
    s.best_iteration = s.iteration;
  }
  run.log->append({{"kind", "val"}, {"iter", s.iteration}, {"epoch", s.epoch}, {"miou", s.last_miou},
                   {"pixel_accuracy", result.confusion.pixel_accuracy()}, {"best_miou", s.best_miou},
                   {"images", result.images}, {"seconds", now_s() - t0}});
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f", now_s() - t0);
  return str("validation at iteration ", s.iteration, ": mIoU ", percent(s.last_miou), "% (best ",
             percent(s.best_miou), "% at ", s.best_iteration, "), pixel accuracy ",
             percent(result.confusion.pixel_accuracy()), "%, ", result.images, " images in ", seconds, " s",
             result.skipped.empty() ? "" : str(", ", result.skipped.size(), " skipped"));
}

}  // namespace pmsdsen::train
