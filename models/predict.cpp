#include "models/predict.h"

#include <cstring>

#include "autograd/grad_mode.h"
#include "autograd/ops_argmax.h"
#include "autograd/ops_resize.h"

namespace pmsdsen {
namespace {

// Copies the top-left min(h) x min(w) of every plane of src into dst (both CPU, same N, C).
void copy_planes(const Tensor& src, Tensor& dst) {
  const int64_t planes = src.size(0) * src.size(1);
  const int64_t sh = src.size(2), sw = src.size(3), dh = dst.size(2), dw = dst.size(3);
  const int64_t rows = std::min(sh, dh), cols = std::min(sw, dw);
  const size_t elem = dtype_size(src.dtype());
  const char* s = static_cast<const char*>(src.raw_data());
  char* d = static_cast<char*>(dst.raw_data());
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t y = 0; y < rows; ++y)
      std::memcpy(d + ((p * dh + y) * dw) * elem, s + ((p * sh + y) * sw) * elem, static_cast<size_t>(cols) * elem);
}

}  // namespace

Tensor pad_to_multiple(const Tensor& x, int64_t multiple) {
  PMSDSEN_CHECK(x.dim() == 4 && !x.is_cuda() && multiple > 0, "pad_to_multiple: expected a CPU [N, C, H, W], got ",
                x.str());
  const int64_t h = (x.size(2) + multiple - 1) / multiple * multiple;
  const int64_t w = (x.size(3) + multiple - 1) / multiple * multiple;
  if (h == x.size(2) && w == x.size(3)) return x;
  Tensor out = Tensor::zeros({x.size(0), x.size(1), h, w}, x.dtype());
  copy_planes(x, out);
  return out;
}

Tensor crop_top_left(const Tensor& x, int64_t h, int64_t w) {
  PMSDSEN_CHECK(x.dim() == 4 && !x.is_cuda() && h > 0 && w > 0 && h <= x.size(2) && w <= x.size(3),
                "crop_top_left: cannot take ", h, " x ", w, " from ", x.str());
  if (h == x.size(2) && w == x.size(3)) return x;
  Tensor out = Tensor::empty({x.size(0), x.size(1), h, w}, x.dtype());
  copy_planes(x, out);
  return out;
}

Tensor predict_classes(PMSDSEN& model, const Tensor& image, double scale) {
  PMSDSEN_CHECK(image.dim() == 4 && image.size(0) == 1 && image.size(1) == 3 && image.dtype() == DType::F32 &&
                    !image.is_cuda(),
                "predict_classes: expected a CPU float32 image [1, 3, H, W], got ", image.str());
  PMSDSEN_CHECK(scale > 0, "predict_classes: scale must be positive, got ", scale);
  autograd::NoGradGuard no_grad;
  const int64_t h = image.size(2), w = image.size(3);
  const Device device = model.device();
  Tensor input = scale == 1.0 ? image : ops::bilinear_scale(image, scale, true);
  const int64_t sh = input.size(2), sw = input.size(3);
  PMSDSEN_CHECK(sh > 0 && sw > 0, "predict_classes: scale ", scale, " leaves nothing of a ", h, " x ", w, " image");
  input = pad_to_multiple(input, 8).to(device);
  Tensor logits = model.forward(input);
  input = Tensor();
  if (sh == h && sw == w) {
    // Argmax at the padded size, then crop the ids (K times less to copy).
    Tensor ids = ops::argmax_channels(logits).cpu();
    return crop_top_left(ids.view({1, 1, ids.size(1), ids.size(2)}), h, w).view({1, h, w});
  }
  logits = crop_top_left(logits.cpu(), sh, sw).to(device);
  logits = ops::bilinear(logits, h, w, true);
  return ops::argmax_channels(logits).cpu();
}

}  // namespace pmsdsen
