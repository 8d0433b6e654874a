#include "models/pad_crop.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

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

}  // namespace pmsdsen
