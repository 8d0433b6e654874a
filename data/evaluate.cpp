#include "data/evaluate.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "autograd/grad_mode.h"
#include "autograd/ops_argmax.h"
#include "autograd/ops_resize.h"
#include "core/error.h"
#include "core/file_io.h"
#include "data/loader.h"

namespace pmsdsen::data {
namespace {

// CPU argmax over the channels of [1, K, H, W] float logits, the first maximum winning.
// Kept here (rather than ops::argmax_channels) so that CPU evaluation needs no autograd op.
Tensor argmax_cpu(const Tensor& logits) {
  const int64_t k = logits.size(1), h = logits.size(2), w = logits.size(3);
  Tensor out = Tensor::empty({1, h, w}, DType::I64);
  int64_t* o = out.data<int64_t>();
  dispatch_floating(logits.dtype(), "evaluate", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = logits.data<T>();
    const int64_t hw = h * w;
    for (int64_t i = 0; i < hw; ++i) {
      int64_t best = 0;
      T best_value = x[i];
      for (int64_t c = 1; c < k; ++c)
        if (x[c * hw + i] > best_value) {
          best_value = x[c * hw + i];
          best = c;
        }
      o[i] = best;
    }
  });
  return out;
}

}  // namespace

Tensor predict_labels(const Tensor& image, const PredictFn& predict, double scale, int64_t out_h,
                      int64_t out_w, int64_t classes) {
  PMSDSEN_CHECK(image.dim() == 4 && image.size(0) == 1 && image.size(1) == 3,
                "evaluate: expected an image [1, 3, H, W], got ", image.str());
  PMSDSEN_CHECK(scale > 0, "evaluate: scale ", scale, " must be positive");
  autograd::NoGradGuard no_grad;
  const Tensor input = scale == 1.0 ? image : ops::bilinear_scale(image, scale, true);
  Tensor logits = predict(input);
  PMSDSEN_CHECK(logits.defined() && logits.dim() == 4 && logits.size(0) == 1,
                "evaluate: the network returned ", logits.defined() ? logits.str() : "nothing",
                " for an input ", input.str(), "; expected logits [1, classes, h, w]");
  PMSDSEN_CHECK(classes <= 0 || logits.size(1) == classes, "evaluate: the network gives ",
                logits.size(1), " classes, the dataset has ", classes);
  if (logits.size(2) != out_h || logits.size(3) != out_w)
    logits = ops::bilinear(logits, out_h, out_w, true);
  return logits.is_cuda() ? ops::argmax_channels(logits) : argmax_cpu(logits);
}

EvalResult evaluate(const Dataset& dataset, const PredictFn& predict, const EvalOptions& options) {
  require_device(options.device, "evaluate");
  PMSDSEN_CHECK(options.scale > 0, "evaluate: scale ", options.scale, " must be positive");
  EvalResult result;
  result.dataset = dataset.name();
  result.split = dataset.split();
  result.scale = options.scale;
  result.class_names = dataset.class_names();
  result.confusion = ConfusionMatrix(dataset.num_classes());
  result.skipped = dataset.skipped_at_listing();

  LoaderConfig lc;
  lc.batch_size = 1;
  lc.workers = options.workers;
  lc.shuffle = false;
  lc.drop_last = false;
  lc.augment = false;
  lc.normalization = options.normalization;
  lc.epochs = 1;
  const int64_t total = options.limit > 0 ? std::min(options.limit, dataset.size()) : dataset.size();
  Loader loader(dataset, lc);
  while (std::optional<Batch> batch = loader.next()) {
    if (batch->indices.front() >= total) break;
    const int64_t h = batch->labels.size(1), w = batch->labels.size(2);
    const Tensor image = batch->images.to(options.device);
    const Tensor pred = predict_labels(image, predict, options.scale, h, w, dataset.num_classes());
    try {
      const Tensor labels = pred.is_cuda() ? batch->labels.to(pred.device()) : batch->labels;
      result.confusion.add(labels, pred);
    } catch (const Error& e) {
      PMSDSEN_FAIL("evaluate: ", dataset.name(), " sample ", batch->ids.front(), ": ", e.what());
    }
    ++result.images;
    if (options.progress) options.progress(result.images, total);
    if (batch->indices.front() + 1 >= total) break;
  }
  const std::vector<std::string> skipped = loader.skipped_log();
  result.skipped.insert(result.skipped.end(), skipped.begin(), skipped.end());
  return result;
}

std::string format_iou_table(const EvalResult& r) {
  const std::vector<double> iou = r.confusion.iou();
  std::ostringstream os;
  char line[128];
  std::snprintf(line, sizeof line, "%-16s %7s\n", "class", "IoU %");
  os << line;
  for (size_t c = 0; c < iou.size(); ++c) {
    const std::string& name = c < r.class_names.size() ? r.class_names[c] : std::to_string(c);
    if (std::isnan(iou[c])) std::snprintf(line, sizeof line, "%-16s %7s\n", name.c_str(), "-");
    else std::snprintf(line, sizeof line, "%-16s %7.2f\n", name.c_str(), 100.0 * iou[c]);
    os << line;
  }
  int64_t present = 0;
  for (double v : iou) present += !std::isnan(v);
  std::snprintf(line, sizeof line, "%-16s %7.2f  (mean over %lld of %lld classes)\n", "mIoU",
                100.0 * r.confusion.miou(), static_cast<long long>(present),
                static_cast<long long>(iou.size()));
  os << line;
  std::snprintf(line, sizeof line, "%-16s %7.2f\n", "pixel accuracy",
                100.0 * r.confusion.pixel_accuracy());
  os << line;
  os << r.images << " images of " << r.dataset << " " << r.split << " at scale " << r.scale;
  if (!r.skipped.empty()) os << ", " << r.skipped.size() << " skipped";
  os << "\n";
  return os.str();
}

nlohmann::json eval_json(const EvalResult& r) {
  const std::vector<double> iou = r.confusion.iou();
  nlohmann::json j;
  auto number = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
  j["miou"] = number(r.confusion.miou());
  j["pixel_accuracy"] = number(r.confusion.pixel_accuracy());
  j["iou"] = nlohmann::json::object();
  j["absent_classes"] = nlohmann::json::array();
  for (size_t c = 0; c < iou.size(); ++c) {
    const std::string name = c < r.class_names.size() ? r.class_names[c] : std::to_string(c);
    if (std::isnan(iou[c])) j["absent_classes"].push_back(name);
    else j["iou"][name] = iou[c];
  }
  j["dataset"] = r.dataset;
  j["split"] = r.split;
  j["scale"] = r.scale;
  j["images"] = r.images;
  j["pixels"] = r.confusion.total();
  j["skipped"] = static_cast<int64_t>(r.skipped.size());
  j["skipped_samples"] = r.skipped;
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t l = 0; l < r.confusion.classes(); ++l) {
    nlohmann::json row = nlohmann::json::array();
    for (int64_t p = 0; p < r.confusion.classes(); ++p) row.push_back(r.confusion.count(l, p));
    rows.push_back(row);
  }
  j["confusion_matrix"] = rows;  // [label][prediction]
  return j;
}

void write_eval_json(const std::string& path, const EvalResult& result) {
  write_file_atomically(path, eval_json(result).dump(2) + "\n");
}

}  // namespace pmsdsen::data
