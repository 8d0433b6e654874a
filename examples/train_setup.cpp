#include "examples/train_setup.h"

#include <cstring>

#include "autograd/grad_mode.h"
#include "data/datasets.h"

namespace pmsdsen::train {
namespace {

// Copies rows of [N, C, H, W] between two host tensors of different H/W (the common part).
void copy_planes(const Tensor& src, Tensor& dst) {
  const int64_t nc = src.size(0) * src.size(1);
  const int64_t h = std::min(src.size(2), dst.size(2)), w = std::min(src.size(3), dst.size(3));
  const size_t es = dtype_size(src.dtype());
  const char* s = static_cast<const char*>(src.raw_data());
  char* d = static_cast<char*>(dst.raw_data());
  for (int64_t p = 0; p < nc; ++p)
    for (int64_t y = 0; y < h; ++y)
      std::memcpy(d + ((p * dst.size(2) + y) * dst.size(3)) * es, s + ((p * src.size(2) + y) * src.size(3)) * es,
                  w * es);
}

}  // namespace

std::unique_ptr<data::Dataset> open_dataset(const TrainConfig& c, const std::string& split) {
  data::DatasetOptions options;
  options.skip_bad = c.skip_bad;
  options.synthetic.width = c.synthetic_width;
  options.synthetic.height = c.synthetic_height;
  options.synthetic.train_size = c.synthetic_train;
  options.synthetic.val_size = c.synthetic_val;
  return data::make_dataset(c.dataset, c.root, split, options);
}

Tensor pad_bottom_right(const Tensor& x, int64_t pad_bottom, int64_t pad_right) {
  PMSDSEN_CHECK(x.dim() == 4 && pad_bottom >= 0 && pad_right >= 0, "pad: expected [N, C, H, W], got ", x.str());
  const Tensor host = x.detach().cpu();
  Tensor out = Tensor::zeros({x.size(0), x.size(1), x.size(2) + pad_bottom, x.size(3) + pad_right}, x.dtype());
  copy_planes(host, out);
  return out.to(x.device());
}

Tensor crop_top_left(const Tensor& x, int64_t h, int64_t w) {
  PMSDSEN_CHECK(x.dim() == 4 && h <= x.size(2) && w <= x.size(3), "crop: ", x.str(), " to ", h, "x", w);
  const Tensor host = x.detach().cpu();
  Tensor out = Tensor::empty({x.size(0), x.size(1), h, w}, x.dtype());
  copy_planes(host, out);
  return out.to(x.device());
}

data::PredictFn make_predictor(PMSDSEN& model) {
  return [&model](const Tensor& image) {
    autograd::NoGradGuard no_grad;
    const int64_t h = image.size(2), w = image.size(3);
    const int64_t ph = (8 - h % 8) % 8, pw = (8 - w % 8) % 8;
    if (ph == 0 && pw == 0) return model.forward(image);
    return crop_top_left(model.forward(pad_bottom_right(image, ph, pw)), h, w);
  };
}

}  // namespace pmsdsen::train
