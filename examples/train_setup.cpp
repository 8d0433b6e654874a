#include "examples/train_setup.h"

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

}  // namespace pmsdsen::train
