// Resolving a training run's settings: every "auto" replaced by its value for the
// dataset and crop, every bound checked before anything is created; and the values
// derived from the resolved settings (scale range, jitter, class weights).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>
#include <thread>

#include "core/device.h"
#include "core/error.h"
#include "data/augment.h"
#include "examples/train_config.h"

namespace pmsdsen::train {
namespace {

std::vector<double> parse_list(const std::string& text, const std::string& what) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    PMSDSEN_CHECK(!item.empty() && *end == '\0', "train: ", what, ": '", item, "' in '", text,
                  "' is not a number");
    out.push_back(v);
  }
  return out;
}

const std::vector<double>& cityscapes_weights() {
  static const std::vector<double> w = {2.8149, 6.9850, 3.7890,  9.9428,  9.7702,  9.5110,  10.3113,
                                        10.0264, 4.6323, 9.5608, 7.8698,  9.5168,  10.3737, 6.6616,
                                        10.2604, 10.2878, 10.2898, 10.4053, 10.1381};
  return w;
}

const std::vector<double>& camvid_weights() {
  static const std::vector<double> w = {4.4969, 3.3064, 9.5079, 2.9545, 6.9097, 5.0818,
                                        9.3352, 9.0394, 6.6486, 9.7137, 9.5729};
  return w;
}

}  // namespace

void resolve(TrainConfig& c) {
  const std::set<std::string> datasets = {"cityscapes", "camvid", "synthetic"};
  PMSDSEN_CHECK(datasets.count(c.dataset), "train: unknown --dataset '", c.dataset,
                "' (cityscapes, camvid or synthetic)");
  PMSDSEN_CHECK(c.dataset == "synthetic" || !c.root.empty(), "train: --dataset ", c.dataset,
                " needs --root DIR (the dataset folder); '--dataset synthetic' needs no download");
  PMSDSEN_CHECK(c.crop_width % 8 == 0 && c.crop_height % 8 == 0, "train: --crop ", c.crop_width, "x",
                c.crop_height, ": width and height must be multiples of 8 (the network downsamples by 8)");
  PMSDSEN_CHECK(c.crop_width <= kMaxSide && c.crop_height <= kMaxSide, "train: --crop ", c.crop_width, "x",
                c.crop_height, ": at most ", kMaxSide, " a side");
  PMSDSEN_CHECK(c.synthetic_width % 8 == 0 && c.synthetic_height % 8 == 0 && c.synthetic_train > 0 &&
                    c.synthetic_val > 0,
                "train: synthetic scenes must be multiples of 8 in size and at least one per split");
  PMSDSEN_CHECK(c.synthetic_width <= kMaxSide && c.synthetic_height <= kMaxSide &&
                    c.synthetic_train <= kMaxScenes && c.synthetic_val <= kMaxScenes,
                "train: synthetic scenes are at most ", kMaxSide, " a side and ", kMaxScenes, " per split");

  const data::AugmentConfig preset = data::authors_augmentation(c.dataset, c.crop_width, c.crop_height);
  if (c.scale_range == "auto") {
    std::ostringstream os;
    os << preset.scale_min << "," << preset.scale_max;
    c.scale_range = os.str();
  }
  const auto [smin, smax] = scale_range_values(c);
  PMSDSEN_CHECK(smin > 0 && smin <= smax, "train: --scale-range ", c.scale_range,
                ": need 0 < MIN <= MAX");

  if (c.jitter == "auto") c.jitter = preset.color_jitter ? "on" : "off";
  PMSDSEN_CHECK(c.jitter == "on" || c.jitter == "off", "train: --jitter '", c.jitter,
                "': expected on, off or auto");

  PMSDSEN_CHECK(c.max_pixels > 0, "train: --max-pixels must be positive");
  PMSDSEN_CHECK(c.batch > 0 && c.batch <= kMaxBatch, "train: --batch ", c.batch, ": expected 1 to ", kMaxBatch);
  PMSDSEN_CHECK(c.iters >= 0 && c.epochs >= 0 && (c.iters > 0 || c.epochs > 0),
                "train: need --iters N or --epochs N (positive)");
  PMSDSEN_CHECK(std::isfinite(c.lr) && c.lr > 0, "train: --lr ", c.lr, " must be positive");
  PMSDSEN_CHECK(std::isfinite(c.poly_power) && c.poly_power >= 0 && c.warmup_iters >= 0,
                "train: negative --poly-power or --warmup-iters");
  PMSDSEN_CHECK(c.momentum >= 0 && c.momentum < 1 && c.weight_decay >= 0,
                "train: --momentum must be in [0, 1) and --weight-decay non-negative");
  PMSDSEN_CHECK(c.loss == "ce" || c.loss == "ohem", "train: --loss '", c.loss, "': expected ce or ohem");
  PMSDSEN_CHECK(c.ohem_threshold > 0 && c.ohem_threshold <= 1, "train: --ohem-threshold in (0, 1]");
  PMSDSEN_CHECK(c.aux_weight >= 0, "train: --aux-weight must be non-negative");
  PMSDSEN_CHECK(c.activation == "gelu" || c.activation == "prelu", "train: --activation '", c.activation,
                "': expected gelu or prelu");
  if (c.class_weights != "none" && c.class_weights != "authors") parse_list(c.class_weights, "--class-weights");
  PMSDSEN_CHECK(c.class_weights != "authors" || c.dataset != "synthetic",
                "train: the authors have no class weights for the synthetic scenes");

  try {
    c.device = parse_device(c.device).str();  // config.json records where the run went
  } catch (const Error& e) {
    PMSDSEN_FAIL("train: --device: ", e.what());
  }
  if (c.workers == 0)
    c.workers = std::max<int64_t>(1, std::min<int64_t>(4, std::thread::hardware_concurrency()));
  PMSDSEN_CHECK(c.workers > 0 && c.workers <= kMaxWorkers, "train: --workers ", c.workers, ": expected 1 to ",
                kMaxWorkers, " loader threads");
  PMSDSEN_CHECK(c.seed >= 0, "train: --seed must be non-negative");
  PMSDSEN_CHECK(!c.out.empty(), "train: --out must name a folder");
  PMSDSEN_CHECK(c.val_every >= -1, "train: --val-every N: N >= -1");
  if (c.val_scale == 0.0) c.val_scale = c.dataset == "cityscapes" ? 0.5 : 1.0;
  PMSDSEN_CHECK(c.val_scale > 0 && c.val_scale <= 8, "train: --val-scale must be in (0, 8]");
  PMSDSEN_CHECK(c.val_limit >= 0 && c.log_every > 0 && c.save_every >= 0 && c.stop_after >= 0,
                "train: --val-limit, --save-every and --stop-after must be >= 0, --log-every > 0");
  PMSDSEN_CHECK(c.comm_timeout > 0 && c.comm_timeout <= 1e6, "train: --comm-timeout ", c.comm_timeout,
                ": expected seconds in (0, 1e6]");
}

std::pair<double, double> scale_range_values(const TrainConfig& c) {
  const std::vector<double> v = parse_list(c.scale_range, "--scale-range");
  PMSDSEN_CHECK(v.size() == 2, "train: --scale-range '", c.scale_range, "': expected MIN,MAX");
  return {v[0], v[1]};
}

bool jitter_on(const TrainConfig& c) { return c.jitter == "on"; }

std::vector<double> class_weight_values(const TrainConfig& c, int64_t classes) {
  if (c.class_weights == "none") return {};
  std::vector<double> w;
  if (c.class_weights == "authors") {
    PMSDSEN_CHECK(c.dataset == "cityscapes" || c.dataset == "camvid",
                  "train: --class-weights authors exists for cityscapes and camvid only");
    w = c.dataset == "cityscapes" ? cityscapes_weights() : camvid_weights();
  } else {
    w = parse_list(c.class_weights, "--class-weights");
  }
  PMSDSEN_CHECK(static_cast<int64_t>(w.size()) == classes, "train: --class-weights has ", w.size(),
                " values for ", classes, " classes");
  for (double x : w) PMSDSEN_CHECK(x >= 0 && std::isfinite(x), "train: --class-weights: ", x, " is not >= 0");
  return w;
}

}  // namespace pmsdsen::train
