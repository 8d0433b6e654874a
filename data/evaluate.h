#pragma once
// mIoU evaluation of a split, as the authors evaluate: each full-size image (normalised,
// no augmentation) is optionally resized by `scale` (bilinear, align_corners=True)
// before the network, and the logits are resized back to the label's full resolution
// the same way before the argmax and the counting.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/device.h"
#include "core/tensor.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/metrics.h"

namespace pmsdsen::data {

// The network: image [1, 3, h, w] float32 (normalised, on EvalOptions::device) ->
// logits [1, classes, h', w'] on any device.
using PredictFn = std::function<Tensor(const Tensor& image)>;

struct EvalOptions {
  double scale = 1.0;            // --scale (the authors use 0.5 for Cityscapes)
  Device device = Device::cpu();  // --device: where the image is handed to the network
  int workers = 2;                // decoding threads
  Normalization normalization;
  int64_t limit = 0;              // only the first `limit` samples (0: all)
  std::function<void(int64_t done, int64_t total)> progress;  // after each image
};

struct EvalResult {
  std::string dataset, split;
  double scale = 1.0;
  std::vector<std::string> class_names;
  ConfusionMatrix confusion{1};
  int64_t images = 0;
  std::vector<std::string> skipped;  // with --skip-bad: each sample left out, and why
};

// Labels [1, out_h, out_w] int64 for one image, on the device of the logits; with
// classes > 0 the logits must have that many channels.
Tensor predict_labels(const Tensor& image, const PredictFn& predict, double scale,
                      int64_t out_h, int64_t out_w, int64_t classes = 0);

EvalResult evaluate(const Dataset& dataset, const PredictFn& predict,
                    const EvalOptions& options = {});

// "class  IoU" rows (percent; "-" for an absent class), then mIoU and pixel accuracy.
std::string format_iou_table(const EvalResult& result);
// {"miou", "pixel_accuracy", "iou": {class: value}, ...}, values in [0, 1]; classes
// absent from both labels and predictions are listed under "absent_classes" instead.
nlohmann::json eval_json(const EvalResult& result);
void write_eval_json(const std::string& path, const EvalResult& result);

}  // namespace pmsdsen::data
