// The background: facades (buildings with floors, windows and shop fronts; vegetation;
// walls; fences with a hedge behind), the sky with clouds, the far skyline or tree line,
// and the ray-cast that gives each pixel the nearest of this side's facade (or, through a
// side street, the building after it), the row closing the street and the ground (shaded
// in synthetic_ground.cpp), else the skyline or the sky.
#include "data/synthetic_scene.h"

namespace pmsdsen::data::synthetic {

Col Scene::shade_facade(const Segment& s, double u, double Y, float light, uint8_t& cls) const {
  switch (s.kind) {
    case Kind::Vegetation: {
      cls = kVegetation;
      const float n = fbm(u * 1.6, Y * 1.6, s.seed, 3);
      return s.colour * (0.45f + 1.0f * n) * light * grain(u, Y, 0.3f);
    }
    case Kind::Wall: {
      cls = kWall;
      Col c = s.colour * (0.85f + 0.3f * fbm(u * 0.9, Y * 0.9, s.seed, 2)) * grain(u, Y, 0.15f);
      if (Y > s.height - 0.15) c = c * 1.15f;
      return c * light;
    }
    case Kind::Fence: {
      if (frac(u / s.win_spacing) < s.win_w || Y > s.height - 0.08 || std::abs(Y - s.height * 0.4) < 0.05) {
        cls = kFence;
        return s.colour * (0.85f + 0.3f * fbm(u * 2, Y * 2, s.seed, 2)) * light;
      }
      cls = kVegetation;
      return s.trim * (0.4f + 0.9f * fbm(u * 2.0, Y * 2.0, s.seed + 1, 3)) * light;
    }
    default: break;
  }
  cls = kBuilding;
  const double len = s.z1 - s.z0;
  Col c = s.colour * (0.88f + 0.24f * fbm(u * 0.5, Y * 0.5, s.seed, 3)) * grain(u, Y, 0.12f);
  if (Y > s.height - 0.45) return s.trim * light;  // cornice
  if (u < 0.2 || u > len - 0.2) return c * 0.8f * light;
  const double floor = Y / s.floor_h;
  const int64_t row = static_cast<int64_t>(std::floor(floor));
  const int64_t col = static_cast<int64_t>(std::floor(u / s.win_spacing));
  const float fy = frac(floor), fx = frac(u / s.win_spacing);
  bool window = false;
  if (row == 0 && s.shop) window = Y > 0.5 && Y < s.floor_h - 0.6 && fx > 0.08f && fx < 0.92f;
  else if (row > 0 || !s.shop)
    window = fx > s.win_x && fx < s.win_x + s.win_w && fy > s.win_y && fy < s.win_y + s.win_h &&
             Y < s.height - 0.8;
  if (window) {
    const float h = unit(hash2(static_cast<int32_t>(col), static_cast<int32_t>(row), s.seed));
    Col g = s.glass * (0.6f + 0.8f * h);
    if (h > 0.93f) g = Col{235, 205, 130};  // a lit room
    const float sheen = fy - static_cast<float>(s.win_y);
    return mix(g, s.trim, 0.15f) * (0.9f + 0.3f * sheen) * light;
  }
  return c * light;
}

Col Scene::shade_sky(double px, double py) const {
  const float t = std::clamp(static_cast<float>(py / cam_.hy), 0.f, 1.f);
  Col c = mix(sky_zenith_, sky_horizon_, std::pow(t, 0.7f));
  const float n = fbm(px / W_ * 3.0 + 5.0, py / W_ * 8.0, tex_ + 9, 4);
  const float a = smoothstep(cloud_threshold_, cloud_threshold_ + 0.18f, n);
  if (a > 0.f) {
    const float shade = 0.8f + 0.35f * fbm(px / W_ * 9.0, py / W_ * 18.0, tex_ + 10, 2);
    c = mix(c, cloud_colour_ * shade, a * 0.9f);
  }
  return c;
}

double Scene::skyline_height(double px) const {
  if (treeline_) return H_ * (0.03 + 0.05 * fbm(px / W_ * 12.0, 1.0, tex_ + 11, 3));
  const int32_t block = static_cast<int32_t>(std::floor(px / (W_ * 0.035)));
  return H_ * 0.17 * unit(hash2(block, 3, tex_ + 12)) * unit(hash2(block, 4, tex_ + 12));
}

void Scene::cast_background() {
  const double f = cam_.f, hy = cam_.hy, vx = cam_.vx, ch = cam_.cam_h;
  // What a column's ray meets depends on x alone up to the height: work it out once.
  struct Column {
    double zf = kInf;                 // depth where the ray meets its side's facade plane
    const Segment* seg = nullptr;     // the facade segment there, and its height
    double top = 0;
    const Segment* next = nullptr;    // through a side street: the building after it
    double Xs = 0;                    // where the ray is at the side street's far end
    const Segment* back = nullptr;    // the end-of-street building hit, and its height
    double Xe = 0, back_top = 0;
  };
  std::vector<Column> cols(W_);
  for (int64_t x = 0; x < W_; ++x) {
    Column& c = cols[x];
    const double px = x + 0.5, dx = std::abs(px - vx);
    const Side& side = px < vx ? left_ : right_;
    if (dx > 1e-9) {
      c.zf = f * side.facade() / dx;
      if (c.zf < z_end_) {
        c.seg = side.at(c.zf);
        if (c.seg->kind != Kind::Gap) {
          c.top = segment_height(*c.seg, c.zf - c.seg->z0);
        } else if ((c.next = side.after(c.seg)) != nullptr) {
          c.Xs = (px - vx) * c.seg->z1 / f;
        }
      }
    }
    c.Xe = (px - vx) * z_end_ / f;
    if (c.Xe >= -left_.facade() && c.Xe <= right_.facade()) {
      c.back = &back_.front();
      for (const Segment& s : back_)
        if (c.Xe >= s.z0) c.back = &s;
      c.back_top = segment_height(*c.back, c.Xe - c.back->z0);
    }
  }
  for (int64_t y = 0; y < H_; ++y) {
    const double py = y + 0.5;
    const double slope = (py - hy) / f;  // height lost per metre of depth
    const double zg = py > hy ? ch / slope : kInf;
    for (int64_t x = 0; x < W_; ++x) {
      const double px = x + 0.5;
      const Column& col = cols[x];
      const Side& side = px < vx ? left_ : right_;
      double best = kInf;
      uint8_t cls = kSky;
      Col c;
      // The facade of this side of the street, and through a side street the wall of
      // the building after it.
      if (col.seg) {
        const double Yf = ch - slope * col.zf;
        if (Yf >= 0 && col.seg->kind != Kind::Gap) {
          if (Yf <= col.top) {
            best = col.zf;
            c = shade_facade(*col.seg, col.zf - col.seg->z0, Yf, side.facade_light, cls);
          }
        } else if (Yf >= 0 && col.next) {
          const double zs = col.seg->z1, Ys = ch - slope * zs;
          if (col.next->kind == Kind::Building && std::abs(col.Xs) > side.facade() && Ys >= 0 &&
              Ys <= col.next->height && zs < z_end_) {
            best = zs;
            cls = kBuilding;
            c = col.next->colour * (0.7f * side.facade_light) *
                (0.9f + 0.2f * fbm(col.Xs * 0.5, Ys * 0.5, col.next->seed, 2));
          }
        }
      }
      // The row of buildings closing the street.
      if (z_end_ < best && col.back) {
        const double Ye = ch - slope * z_end_;
        if (Ye >= 0 && Ye <= col.back_top) {
          best = z_end_;
          c = shade_facade(*col.back, col.Xe - col.back->z0, Ye, 1.f, cls);
        }
      }
      // The ground.
      if (zg < best) {
        best = zg;
        c = shade_ground((px - vx) * zg / f, zg, cls);
      }
      if (best == kInf) {
        if (py < hy && (skyline_ || treeline_) && hy - py < skyline_height(px)) {
          cls = treeline_ ? kVegetation : kBuilding;
          const Col base = treeline_ ? mix(Col{60, 90, 55}, sky_horizon_, 0.45f) : skyline_colour_;
          c = base * (0.9f + 0.2f * fbm(px / W_ * 40.0, py / W_ * 40.0, tex_ + 13, 2));
          best = 2000.0;
        } else {
          c = shade_sky(px, py);
        }
      }
      cv_.set(x, y, cls, c, best);
    }
  }
}

}  // namespace pmsdsen::data::synthetic
