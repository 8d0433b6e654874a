#include "examples/train_setup.h"

#include "autograd/grad_mode.h"
#include "data/datasets.h"
#include "models/predict.h"

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

data::PredictFn make_predictor(PMSDSEN& model) {
  return [&model](const Tensor& image) {
    autograd::NoGradGuard no_grad;
    const int64_t h = image.size(2), w = image.size(3);
    const int64_t ph = (8 - h % 8) % 8, pw = (8 - w % 8) % 8;
    if (ph == 0 && pw == 0) return model.forward(image);
    const Tensor padded = pad_to_multiple(image.cpu(), 8).to(image.device());
    return crop_top_left(model.forward(padded).cpu(), h, w).to(image.device());
  };
}

}  // namespace pmsdsen::train
