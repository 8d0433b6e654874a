#include "data/image_resize.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace pmsdsen::data {
namespace {

// For each output index in [first, first + count): the source taps [start, start + n)
// and their normalised weights, as PIL's precompute_coeffs with the triangle filter.
struct Taps {
  std::vector<int64_t> start, count;
  std::vector<float> weights;  // max_taps per output
  int64_t max_taps = 0;
};

Taps triangle_taps(int64_t in, int64_t out, int64_t first, int64_t count) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter_scale;  // the triangle's support is 1 source pixel, widened
  Taps t;
  t.max_taps = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  t.start.resize(count);
  t.count.resize(count);
  t.weights.assign(count * t.max_taps, 0.f);
  for (int64_t k = 0; k < count; ++k) {
    const double center = (first + k + 0.5) * scale;
    const int64_t lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in);
    const int64_t n = std::min(hi - lo, t.max_taps);
    double total = 0.0;
    std::vector<double> w(n);
    for (int64_t j = 0; j < n; ++j) {
      const double d = std::abs((lo + j + 0.5 - center) / filter_scale);
      w[j] = d < 1.0 ? 1.0 - d : 0.0;
      total += w[j];
    }
    t.start[k] = lo;
    t.count[k] = n;
    for (int64_t j = 0; j < n; ++j)
      t.weights[k * t.max_taps + j] = static_cast<float>(total > 0 ? w[j] / total : 0.0);
  }
  return t;
}

void check_window(int64_t out_h, int64_t out_w, const Window& w, const char* who) {
  PMSDSEN_CHECK(out_h > 0 && out_w > 0, who, ": output size ", out_w, "x", out_h, " is empty");
  PMSDSEN_CHECK(w.y >= 0 && w.x >= 0 && w.height >= 0 && w.width >= 0 &&
                    w.y + w.height <= out_h && w.x + w.width <= out_w,
                who, ": window ", w.width, "x", w.height, " at (", w.x, ", ", w.y,
                ") is outside the ", out_w, "x", out_h, " output");
}

inline int64_t nearest_index(int64_t i, int64_t in, int64_t out) {
  const int64_t s = static_cast<int64_t>((i + 0.5) * static_cast<double>(in) / static_cast<double>(out));
  return std::min(s, in - 1);
}

}  // namespace

Image resize_bilinear(const Image& src, int64_t out_h, int64_t out_w, const Window& win) {
  check_window(out_h, out_w, win, "resize_bilinear");
  PMSDSEN_CHECK(src.height > 0 && src.width > 0, "resize_bilinear: empty source image");
  Image out(win.height, win.width);
  if (win.height == 0 || win.width == 0) return out;
  if (out_h == src.height && out_w == src.width) {  // the filter is the identity
    for (int64_t k = 0; k < win.height; ++k)
      std::copy_n(src.at(win.y + k, win.x), win.width * 3, out.at(k, 0));
    return out;
  }
  const Taps tx = triangle_taps(src.width, out_w, win.x, win.width);
  const Taps ty = triangle_taps(src.height, out_h, win.y, win.height);

  // Row by row: the vertical taps summed over the source columns the window needs
  // (contiguous, so the loop vectorises), then the horizontal taps from that row.
  const int64_t col0 = tx.start.front();
  const int64_t cols = tx.start.back() + tx.count.back() - col0;
  std::vector<float> row(cols * 3);
  for (int64_t k = 0; k < win.height; ++k) {
    std::fill(row.begin(), row.end(), 0.f);
    const float* wy = ty.weights.data() + k * ty.max_taps;
    for (int64_t j = 0; j < ty.count[k]; ++j) {
      const uint8_t* s = src.at(ty.start[k] + j, col0);
      const float w = wy[j];
      for (int64_t i = 0; i < cols * 3; ++i) row[i] += w * static_cast<float>(s[i]);
    }
    uint8_t* o = out.at(k, 0);
    for (int64_t m = 0; m < win.width; ++m) {
      const float* wx = tx.weights.data() + m * tx.max_taps;
      const float* p = row.data() + (tx.start[m] - col0) * 3;
      float a0 = 0.f, a1 = 0.f, a2 = 0.f;
      for (int64_t j = 0; j < tx.count[m]; ++j, p += 3) {
        a0 += wx[j] * p[0];
        a1 += wx[j] * p[1];
        a2 += wx[j] * p[2];
      }
      o[m * 3] = static_cast<uint8_t>(std::clamp(a0 + 0.5f, 0.f, 255.f));
      o[m * 3 + 1] = static_cast<uint8_t>(std::clamp(a1 + 0.5f, 0.f, 255.f));
      o[m * 3 + 2] = static_cast<uint8_t>(std::clamp(a2 + 0.5f, 0.f, 255.f));
    }
  }
  return out;
}

Image resize_bilinear(const Image& src, int64_t out_h, int64_t out_w) {
  return resize_bilinear(src, out_h, out_w, Window{0, 0, out_h, out_w});
}

LabelMap resize_nearest(const LabelMap& src, int64_t out_h, int64_t out_w, const Window& win) {
  check_window(out_h, out_w, win, "resize_nearest");
  PMSDSEN_CHECK(src.height > 0 && src.width > 0, "resize_nearest: empty source label");
  LabelMap out(win.height, win.width);
  std::vector<int64_t> sx(win.width);
  for (int64_t k = 0; k < win.width; ++k) sx[k] = nearest_index(win.x + k, src.width, out_w);
  for (int64_t k = 0; k < win.height; ++k) {
    const uint8_t* s = src.ids.data() + nearest_index(win.y + k, src.height, out_h) * src.width;
    uint8_t* o = out.ids.data() + k * win.width;
    for (int64_t i = 0; i < win.width; ++i) o[i] = s[sx[i]];
  }
  return out;
}

LabelMap resize_nearest(const LabelMap& src, int64_t out_h, int64_t out_w) {
  return resize_nearest(src, out_h, out_w, Window{0, 0, out_h, out_w});
}

}  // namespace pmsdsen::data
