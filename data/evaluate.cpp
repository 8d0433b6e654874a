#include "data/evaluate.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "core/file_io.h"
#include "data/loader.h"

namespace pmsdsen::data {

EvalResult evaluate(const Dataset& dataset, const Predictor& predictor, const EvalOptions& options) {
  PMSDSEN_CHECK(options.scale > 0, "evaluate: scale ", options.scale, " must be positive");
  PMSDSEN_CHECK(predictor.num_classes() == dataset.num_classes(), "evaluate: the network gives ",
                predictor.num_classes(), " classes, the dataset has ", dataset.num_classes());
  EvalResult result;
  result.dataset = dataset.name();
  result.split = dataset.split();
  result.scale = options.scale;
  result.device = predictor.device().str();
  result.engine = predictor.engine();
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
  const int ranks = options.comm ? options.comm->size() : 1;
  if (ranks > 1) {  // batch i's image r is rank r's
    lc.batch_size = ranks;
    lc.shard = options.comm->rank();
    lc.shards = ranks;
  }
  const int64_t total = options.limit > 0 ? std::min(options.limit, dataset.size()) : dataset.size();
  int64_t mine = total;  // the images this rank predicts: its positions in batches of `ranks`
  if (ranks > 1) {
    mine = 0;
    for (int64_t first = 0; first < total; first += ranks) {
      const auto [a, b] = shard_range(std::min<int64_t>(ranks, dataset.size() - first), options.comm->rank(), ranks);
      mine += std::max<int64_t>(0, std::min(first + b, total) - (first + a));
    }
  }
  Loader loader(dataset, lc);
  while (std::optional<Batch> batch = loader.next()) {
    if (batch->indices.front() >= total) break;
    const Tensor pred = predictor.class_ids(batch->images, options.scale);
    try {
      result.confusion.add(batch->labels, pred);
    } catch (const Error& e) {
      PMSDSEN_FAIL("evaluate: ", dataset.name(), " sample ", batch->ids.front(), ": ", e.what());
    }
    ++result.images;
    if (options.progress) options.progress(result.images, mine);
    if (batch->indices.front() + 1 >= total) break;
  }
  const std::vector<std::string> skipped = loader.skipped_log();
  result.skipped.insert(result.skipped.end(), skipped.begin(), skipped.end());
  if (ranks > 1) {
    std::vector<int64_t> counts = result.confusion.counts();
    counts.push_back(result.images);
    comm::all_reduce(*options.comm, counts.data(), static_cast<int64_t>(counts.size()));
    result.images = counts.back();
    counts.pop_back();
    result.confusion.set_counts(std::move(counts));
  }
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
  if (!r.device.empty()) os << " on " << r.device;
  if (r.engine == "plan") os << " (inference plan)";
  if (r.engine == "cuda_graph") os << " (CUDA graph)";
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
  j["device"] = r.device;
  j["engine"] = r.engine;
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
