#pragma once
// mIoU evaluation of a split, as the authors evaluate: each full-size image (normalised,
// no augmentation) is predicted by models/predict.h's Predictor at `scale` (resized by
// it before the network, the logits resized back to full size before the argmax) and
// counted against its label.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/comm.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/metrics.h"
#include "models/predict.h"

namespace pmsdsen::data {

struct EvalOptions {
  double scale = 1.0;             // --scale (the authors use 0.5 for Cityscapes)
  int workers = 2;                // decoding threads
  Normalization normalization;
  int64_t limit = 0;              // only the first `limit` samples (0: all)
  std::function<void(int64_t done, int64_t total)> progress;  // after each image
  // Data parallelism: each rank of `comm` predicts every size()-th image (its own), the
  // confusion matrices and image counts are summed; every rank gets the whole result.
  comm::Communicator* comm = nullptr;
};

struct EvalResult {
  std::string dataset, split;
  double scale = 1.0;
  std::string device;  // where the network ran
  std::string engine;  // "plan" (the CPU inference plan), "cuda_graph" or "eager" (Predictor::engine)
  std::vector<std::string> class_names;
  ConfusionMatrix confusion{1};
  int64_t images = 0;
  std::vector<std::string> skipped;  // with --skip-bad: each sample left out, and why
};

EvalResult evaluate(const Dataset& dataset, const Predictor& predictor, const EvalOptions& options = {});

// "class  IoU" rows (percent; "-" for an absent class), then mIoU and pixel accuracy.
std::string format_iou_table(const EvalResult& result);
// {"miou", "pixel_accuracy", "iou": {class: value}, ...}, values in [0, 1]; classes
// absent from both labels and predictions are listed under "absent_classes" instead.
nlohmann::json eval_json(const EvalResult& result);
void write_eval_json(const std::string& path, const EvalResult& result);

}  // namespace pmsdsen::data
