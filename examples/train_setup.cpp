#include "examples/train_setup.h"

#include <tuple>

#include "data/datasets.h"

namespace pmsdsen::train {

std::unique_ptr<data::Dataset> open_dataset(const TrainConfig& c, const std::string& split) {
  data::DatasetOptions options;
  options.skip_bad = c.skip_bad;
  options.limits.max_pixels = c.max_pixels;
  options.synthetic.width = c.synthetic_width;
  options.synthetic.height = c.synthetic_height;
  options.synthetic.train_size = c.synthetic_train;
  options.synthetic.val_size = c.synthetic_val;
  return data::make_dataset(c.dataset, c.root, split, options);
}

data::LoaderConfig training_loader_config(const TrainConfig& c, int64_t start_iteration) {
  data::LoaderConfig lc;
  lc.batch_size = c.batch;
  lc.workers = static_cast<int>(c.workers);
  lc.seed = static_cast<uint64_t>(c.seed);
  lc.shuffle = true;
  lc.drop_last = true;
  lc.refill_skipped = true;  // --skip-bad keeps batches full: batch norm needs two images
  lc.augment = true;
  lc.augmentation.crop_width = c.crop_width;
  lc.augmentation.crop_height = c.crop_height;
  std::tie(lc.augmentation.scale_min, lc.augmentation.scale_max) = scale_range_values(c);
  lc.augmentation.flip = c.flip;
  lc.augmentation.color_jitter = jitter_on(c);
  lc.start_iteration = start_iteration;
  return lc;
}

SegLossOptions training_loss_options(const TrainConfig& c, int64_t classes, Device device) {
  SegLossOptions o;
  const std::vector<double> weights = class_weight_values(c, classes);
  if (!weights.empty()) o.class_weights = Tensor::from_vector(weights, {classes}).to(device);
  o.ohem = c.loss == "ohem";
  o.ohem_threshold = c.ohem_threshold;
  return o;
}

}  // namespace pmsdsen::train
