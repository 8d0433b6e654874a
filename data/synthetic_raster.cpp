// The noise textures and the filled shapes of the drawing kit (synthetic_raster.h).
#include "data/synthetic_raster.h"

namespace pmsdsen::data::synthetic {

NoiseTexture::NoiseTexture(int octaves) : t_(kSize * kSize) {
  float norm = 0.f;
  for (int o = 0; o < octaves; ++o) norm += std::ldexp(1.f, -o);
  for (int y = 0; y < kSize; ++y)
    for (int x = 0; x < kSize; ++x) {
      float sum = 0.f;
      for (int o = 0, cell = kCell; o < octaves; ++o, cell /= 2) {
        const int n = kSize / cell;  // lattice points per period
        const int ix = x / cell, iy = y / cell;
        float tx = static_cast<float>(x % cell) / cell, ty = static_cast<float>(y % cell) / cell;
        tx = tx * tx * (3.f - 2.f * tx);
        ty = ty * ty * (3.f - 2.f * ty);
        const uint32_t s = 7919u * static_cast<uint32_t>(o + 1);
        const float a = unit(hash2(ix, iy, s)), b = unit(hash2((ix + 1) % n, iy, s));
        const float c = unit(hash2(ix, (iy + 1) % n, s)), d = unit(hash2((ix + 1) % n, (iy + 1) % n, s));
        const float top = a + (b - a) * tx, bottom = c + (d - c) * tx;
        sum += std::ldexp(top + (bottom - top) * ty, -o);
      }
      t_[y * kSize + x] = sum / norm;
    }
}

const NoiseTexture& smooth_noise() {
  static const NoiseTexture t(2);
  return t;
}
const NoiseTexture& detailed_noise() {
  static const NoiseTexture t(4);
  return t;
}

void fill_polygon(Canvas& cv, const std::vector<std::array<double, 2>>& pts, uint8_t cls, double z,
                  const Shader& shade) {
  double ymin = kInf, ymax = -kInf;
  for (const auto& p : pts) {
    ymin = std::min(ymin, p[1]);
    ymax = std::max(ymax, p[1]);
  }
  const int64_t y0 = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(ymin - 0.5)));
  const int64_t y1 = std::min<int64_t>(cv.h - 1, static_cast<int64_t>(std::floor(ymax - 0.5)));
  std::vector<double> xs;
  for (int64_t y = y0; y <= y1; ++y) {
    const double py = y + 0.5;
    xs.clear();
    for (size_t i = 0, n = pts.size(); i < n; ++i) {
      const auto& a = pts[i];
      const auto& b = pts[(i + 1) % n];
      if ((a[1] <= py) != (b[1] <= py)) xs.push_back(a[0] + (py - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
    }
    std::sort(xs.begin(), xs.end());
    for (size_t k = 0; k + 1 < xs.size(); k += 2) {
      const int64_t xa = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(xs[k] - 0.5)));
      const int64_t xb = std::min<int64_t>(cv.w - 1, static_cast<int64_t>(std::floor(xs[k + 1] - 0.5)));
      for (int64_t x = xa; x <= xb; ++x) cv.set(x, y, cls, shade(x + 0.5, py), z);
    }
  }
}

void fill_rect(Canvas& cv, double xa, double ya, double xb, double yb, uint8_t cls, double z,
               const Shader& shade) {
  fill_polygon(cv, {{xa, ya}, {xb, ya}, {xb, yb}, {xa, yb}}, cls, z, shade);
}

void fill_ellipse(Canvas& cv, double cx, double cy, double rx, double ry, uint8_t cls, double z,
                  const Shader& shade, float ragged, uint32_t seed) {
  if (rx <= 0 || ry <= 0) return;
  const int64_t y0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(cy - ry)));
  const int64_t y1 = std::min<int64_t>(cv.h - 1, static_cast<int64_t>(std::ceil(cy + ry)));
  const int64_t x0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(cx - rx)));
  const int64_t x1 = std::min<int64_t>(cv.w - 1, static_cast<int64_t>(std::ceil(cx + rx)));
  for (int64_t y = y0; y <= y1; ++y)
    for (int64_t x = x0; x <= x1; ++x) {
      const double dx = (x + 0.5 - cx) / rx, dy = (y + 0.5 - cy) / ry;
      const double d2 = dx * dx + dy * dy;
      if (d2 >= 1.0) continue;
      if (ragged > 0.f && d2 > (1.0 - ragged) * (1.0 - ragged)) {
        const double r = std::sqrt(d2);  // the edge noise is a function of the direction
        if (r > 1.0 - ragged * fbm(dx / r * 2.5 + 10.0, dy / r * 2.5 + 10.0, seed, 2)) continue;
      }
      cv.set(x, y, cls, shade(x + 0.5, y + 0.5), z);
    }
}

}  // namespace pmsdsen::data::synthetic
