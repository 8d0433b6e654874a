// The street-scene renderer behind SyntheticDataset (see synthetic.h).
//
// World coordinates: X across the street (metres, right positive), Y up from the
// ground, z along the view direction. The camera looks down the street from height
// cam_h; a point projects to (vx + f X / z, hy + f (cam_h - Y) / z). The background
// (ground, facades, end of the street, sky) is ray-cast pixel by pixel, nearest hit
// winning; the objects standing in the street are then painted far to near.
#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "data/synthetic.h"

namespace pmsdsen::data {
namespace {

// Cityscapes train ids used by the scenes.
enum : uint8_t {
  kRoad = 0, kSidewalk = 1, kBuilding = 2, kWall = 3, kFence = 4, kPole = 5, kLight = 6,
  kSign = 7, kVegetation = 8, kTerrain = 9, kSky = 10, kPerson = 11, kCar = 13
};

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kFar = 3000.0;  // the side facades run this far

struct Col {
  float r = 0, g = 0, b = 0;
};
inline Col operator*(Col c, float s) { return {c.r * s, c.g * s, c.b * s}; }
inline Col operator+(Col a, Col b) { return {a.r + b.r, a.g + b.g, a.b + b.b}; }
inline Col mix(Col a, Col b, float t) { return a * (1.f - t) + b * t; }
inline Col grey(float v) { return {v, v, v}; }

inline float frac(double v) { return static_cast<float>(v - std::floor(v)); }
inline float smoothstep(float a, float b, float x) {
  const float t = std::clamp((x - a) / (b - a), 0.f, 1.f);
  return t * t * (3.f - 2.f * t);
}

// Integer hashing for textures and pixel noise (no state, so any pixel order works).
inline uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}
inline uint32_t hash2(int32_t x, int32_t y, uint32_t seed) {
  return hash32(static_cast<uint32_t>(x) * 0x9E3779B1u + hash32(static_cast<uint32_t>(y) ^ seed));
}
inline float unit(uint32_t h) { return static_cast<float>(h >> 8) * (1.0f / 16777216.0f); }

// Fractal value noise, precomputed once into periodic textures (the scenes sample it
// millions of times; a lookup is far cheaper than hashing lattice points per octave).
// One unit of noise coordinates is one lattice cell of the coarsest octave.
class NoiseTexture {
 public:
  static constexpr int kSize = 256, kCell = 32;  // texels; the pattern repeats every 8 units
  static constexpr double kShift = 8.0 * 4096;     // periods

  explicit NoiseTexture(int octaves) : t_(kSize * kSize) {
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

  // Bilinear lookup at (u, v) in noise units, wrapping.
  float sample(double u, double v) const {
    // Shifting by a multiple of the period makes the coordinates positive, so that
    // truncation is floor.
    const double x = (u + kShift) * kCell, y = (v + kShift) * kCell;
    const int32_t ix = static_cast<int32_t>(x), iy = static_cast<int32_t>(y);
    const float tx = static_cast<float>(x - ix), ty = static_cast<float>(y - iy);
    const int x0 = ix & (kSize - 1), x1 = (x0 + 1) & (kSize - 1);
    const int y0 = iy & (kSize - 1), y1 = (y0 + 1) & (kSize - 1);
    const float a = t_[y0 * kSize + x0], b = t_[y0 * kSize + x1];
    const float c = t_[y1 * kSize + x0], d = t_[y1 * kSize + x1];
    const float top = a + (b - a) * tx, bottom = c + (d - c) * tx;
    return top + (bottom - top) * ty;
  }

 private:
  std::vector<float> t_;
};

const NoiseTexture& smooth_noise() {
  static const NoiseTexture t(2);
  return t;
}
const NoiseTexture& detailed_noise() {
  static const NoiseTexture t(4);
  return t;
}

// Noise in [0, 1) at (x, y); `seed` moves to an unrelated part of the texture, and
// three or more octaves select the detailed texture.
float fbm(double x, double y, uint32_t seed, int octaves) {
  const uint32_t h = hash32(seed * 0x9E3779B9u + 0x2545F491u);
  const double ox = (h & 0xFFFF) * (8.0 / 65536.0), oy = (h >> 16) * (8.0 / 65536.0);
  return (octaves <= 2 ? smooth_noise() : detailed_noise()).sample(x + ox, y + oy);
}
float value_noise(double x, double y, uint32_t seed) { return fbm(x, y, seed, 1); }

struct Camera {
  double f = 1, vx = 0, hy = 0, cam_h = 1.6;
  double sx(double X, double z) const { return vx + f * X / z; }
  double sy(double Y, double z) const { return hy + f * (cam_h - Y) / z; }
};

struct Canvas {
  int64_t h = 0, w = 0;
  std::vector<Col> rgb;
  std::vector<uint8_t> label;
  std::vector<float> depth;  // metres, for the haze; infinity for the sky

  Canvas(int64_t height, int64_t width)
      : h(height), w(width), rgb(height * width), label(height * width, kSky),
        depth(height * width, static_cast<float>(kInf)) {}
  void set(int64_t x, int64_t y, uint8_t cls, Col c, double z) {
    const int64_t i = y * w + x;
    rgb[i] = c;
    label[i] = cls;
    depth[i] = static_cast<float>(z);
  }
};

using Shader = std::function<Col(double x, double y)>;

// Scanline fill of a polygon (even-odd rule), sampling pixel centres.
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

// An ellipse whose edge may be ragged: inside where the normalised radius is below
// 1 - ragged * noise(direction).
void fill_ellipse(Canvas& cv, double cx, double cy, double rx, double ry, uint8_t cls, double z,
                  const Shader& shade, float ragged = 0.f, uint32_t seed = 0) {
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

enum class Kind : uint8_t { Building, Vegetation, Wall, Fence, Gap };

// A stretch of facade along one side of the street (z0..z1), or of the row of
// buildings closing the street (X0..X1 in z0..z1).
struct Segment {
  double z0 = 0, z1 = 0;
  Kind kind = Kind::Building;
  double height = 10;
  Col colour, glass, trim;
  double floor_h = 3.2, win_spacing = 2.5, win_w = 0.5, win_h = 0.5, win_x = 0.25, win_y = 0.3;
  bool shop = false;
  uint32_t seed = 0;
};

struct Side {
  double road = 4, strip = 0, walk = 3;  // |X| of the road edge; grass strip and sidewalk widths
  double facade() const { return road + strip + walk; }
  std::vector<Segment> segments;  // contiguous, sorted by z0
  float facade_light = 1.f;       // the side facing away from the sun is darker
  bool casts_shadow = false;
  mutable size_t hint = 0;  // of at(); each scene renders on one thread

  // Neighbouring pixels look up nearby depths: try the last answer first.
  const Segment* at(double z) const {
    const Segment& last = segments[hint];
    if (z >= last.z0 && z < last.z1) return &last;
    auto it = std::upper_bound(segments.begin(), segments.end(), z,
                               [](double v, const Segment& s) { return v < s.z0; });
    hint = it == segments.begin() ? 0 : static_cast<size_t>(it - segments.begin()) - 1;
    return &segments[hint];
  }
  const Segment* after(const Segment* s) const {
    return s + 1 < segments.data() + segments.size() ? s + 1 : nullptr;
  }
};

double segment_height(const Segment& s, double u) {
  if (s.kind == Kind::Vegetation) return s.height * (0.7 + 0.6 * fbm(u * 0.35, 3.0, s.seed, 2));
  return s.height;
}

class Scene {
 public:
  Scene(int64_t height, int64_t width, uint64_t seed)
      : H_(height), W_(width), gen_(seed), cv_(height, width), tex_(static_cast<uint32_t>(seed)) {}

  Sample render() {
    plan_camera();
    plan_street();
    plan_sky_and_light();
    cast_background();
    plan_and_draw_objects();
    draw_bonnet();
    return finish();
  }

 private:
  double U(double lo, double hi) { return gen_.uniform(lo, hi); }
  bool P(double p) { return gen_.bernoulli(p); }
  uint32_t next_seed() { return static_cast<uint32_t>(gen_.next_u64()); }
  Col jitter(Col c, float amount) {
    const float s = static_cast<float>(U(1 - amount, 1 + amount));
    return {c.r * s * static_cast<float>(U(0.93, 1.07)), c.g * s * static_cast<float>(U(0.93, 1.07)),
            c.b * s * static_cast<float>(U(0.93, 1.07))};
  }
  Col any_colour(float lo, float hi) {
    return {static_cast<float>(U(lo, hi)), static_cast<float>(U(lo, hi)), static_cast<float>(U(lo, hi))};
  }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[gen_.randint(0, static_cast<int64_t>(v.size()) - 1)]; }

  // ---- planning --------------------------------------------------------------------
  void plan_camera() {
    cam_.f = W_ * U(0.75, 1.15);
    cam_.hy = H_ * U(0.36, 0.52);
    cam_.vx = W_ * U(0.35, 0.65);
    cam_.cam_h = U(1.3, 1.9);
  }

  Col building_colour() {
    static const std::vector<Col> families = {
        {200, 180, 150}, {170, 170, 170}, {120, 120, 125}, {150, 80, 62}, {220, 218, 210},
        {80, 78, 82},    {190, 160, 120}, {140, 150, 160}, {175, 130, 110}, {110, 120, 95}};
    return jitter(pick(families), 0.18f);
  }
  Col vegetation_colour() {
    if (P(0.15)) return jitter({140, 115, 45}, 0.2f);  // autumn
    return jitter({static_cast<float>(U(45, 100)), static_cast<float>(U(75, 140)),
                   static_cast<float>(U(25, 70))}, 0.15f);
  }

  Segment make_segment(double z0, double len, Kind kind) {
    Segment s;
    s.z0 = z0;
    s.z1 = z0 + len;
    s.kind = kind;
    s.seed = next_seed();
    switch (kind) {
      case Kind::Building:
        s.height = std::exp(U(std::log(6.0), std::log(40.0)));
        s.colour = building_colour();
        s.trim = s.colour * static_cast<float>(U(0.6, 1.25));
        s.glass = P(0.5) ? any_colour(25, 60) : mix(sky_horizon_, sky_zenith_, 0.5f) * 0.75f;
        s.floor_h = U(2.8, 3.8);
        s.win_spacing = U(1.8, 4.0);
        s.win_w = U(0.3, 0.7);
        s.win_h = U(0.35, 0.65);
        s.win_x = U(0.05, 0.95 - s.win_w);
        s.win_y = U(0.15, 0.9 - s.win_h);
        s.shop = P(0.5);
        break;
      case Kind::Vegetation:
        s.height = U(1.5, 9.0);
        s.colour = vegetation_colour();
        break;
      case Kind::Wall:
        s.height = U(0.8, 3.0);
        s.colour = P(0.6) ? jitter(grey(static_cast<float>(U(110, 190))), 0.1f) : building_colour();
        break;
      case Kind::Fence:
        s.height = U(0.9, 2.2);
        s.colour = P(0.5) ? grey(static_cast<float>(U(30, 90))) : jitter({60, 95, 70}, 0.3f);
        s.trim = vegetation_colour();  // the hedge seen between the bars
        s.win_spacing = U(0.12, 0.35);
        s.win_w = U(0.2, 0.5);
        break;
      case Kind::Gap:
        s.height = 0;
        break;
    }
    return s;
  }

  void plan_side(Side& s, bool left) {
    s.road = U(2.5, 8.0);
    s.strip = P(0.3) ? U(0.8, 3.0) : 0.0;
    s.walk = U(1.5, 5.5);
    double z = 0;
    bool gap_done = false;
    while (z < kFar) {
      Kind kind = Kind::Building;
      const double r = U(0, 1);
      if (r < 0.14) kind = Kind::Vegetation;
      else if (r < 0.22) kind = Kind::Wall;
      else if (r < 0.27) kind = Kind::Fence;
      else if (r < 0.33 && !gap_done && z > 8 && z < 90) kind = Kind::Gap;
      if (kind == Kind::Gap) gap_done = true;
      const double len = kind == Kind::Gap ? U(8, 16) : U(6, 35) * (1 + z / 150.0);
      if (!s.segments.empty() && s.segments.back().kind == Kind::Gap && kind == Kind::Gap) continue;
      s.segments.push_back(make_segment(z, len, kind));
      z += len;
    }
    (void)left;
  }

  void plan_street() {
    plan_sky_colours();
    plan_side(left_, true);
    plan_side(right_, false);
    z_end_ = std::exp(U(std::log(45.0), std::log(220.0)));
    for (double x = -left_.facade() - 5; x < right_.facade() + 5;) {
      const double len = U(6, 22);
      Segment s = make_segment(x, len, P(0.75) ? Kind::Building : Kind::Vegetation);
      if (s.kind == Kind::Vegetation) s.height = U(5, 14);
      back_.push_back(s);
      x += len;
    }
    lane_w_ = U(2.8, 3.6);
    centre_line_ = P(0.8);
    edge_lines_ = P(0.5);
    marking_ = P(0.75) ? Col{225, 225, 220} : Col{215, 180, 60};
    road_colour_ = jitter(grey(static_cast<float>(U(60, 135))), 0.05f);
    crossing_z_ = P(0.35) ? U(6, std::min(60.0, z_end_ - 5)) : -1.0;
    static const std::vector<Col> walks = {
        {150, 150, 150}, {172, 162, 140}, {150, 105, 95}, {112, 112, 118}, {190, 185, 175}};
    walk_colour_ = jitter(pick(walks), 0.1f);
    tile_ = U(0.3, 1.0);
    terrain_colour_ = P(0.6) ? jitter({95, 125, 55}, 0.2f) : jitter({135, 120, 85}, 0.15f);
  }

  void plan_sky_colours() {
    const double r = U(0, 1);
    if (r < 0.5) {  // clear
      sky_zenith_ = jitter({60, 115, 200}, 0.15f);
      sky_horizon_ = jitter({175, 200, 230}, 0.08f);
    } else if (r < 0.85) {  // overcast
      const float v = static_cast<float>(U(140, 215));
      sky_zenith_ = jitter(grey(v), 0.05f);
      sky_horizon_ = jitter(grey(std::min(250.f, v + 20)), 0.04f);
    } else {  // dusk
      sky_zenith_ = jitter({85, 95, 160}, 0.1f);
      sky_horizon_ = jitter({235, 170, 120}, 0.1f);
    }
    cloud_threshold_ = static_cast<float>(U(0.42, 0.8));
    cloud_colour_ = jitter(grey(static_cast<float>(U(190, 245))), 0.04f);
    skyline_ = P(0.65);
    treeline_ = !skyline_ && P(0.5);
    skyline_colour_ = mix(building_colour(), sky_horizon_, static_cast<float>(U(0.35, 0.75)));
  }

  void plan_sky_and_light() {
    const double r = U(0, 1);
    Side* caster = r < 0.35 ? &left_ : r < 0.7 ? &right_ : nullptr;
    if (caster) {
      caster->casts_shadow = true;
      caster->facade_light = static_cast<float>(U(0.55, 0.85));
      (caster == &left_ ? right_ : left_).facade_light = static_cast<float>(U(1.0, 1.15));
      shadow_k_ = U(0.3, 1.5);
      shadow_factor_ = static_cast<float>(U(0.4, 0.7));
    }
    gain_ = static_cast<float>(std::exp(U(std::log(0.55), std::log(1.35))));
    for (float& c : cast_) c = static_cast<float>(U(0.86, 1.14));
    gamma_ = static_cast<float>(U(0.8, 1.25));
    vignette_ = static_cast<float>(U(0.0, 0.35));
    noise_sigma_ = static_cast<float>(U(1.5, 8.0));
    fog_ = U(80, 700);
    haze_ = mix(sky_horizon_, grey(200), 0.3f);
  }

  // ---- shading -------------------------------------------------------------------------
  float grain(double a, double b, float amount) const {
    return 1.f + amount * (value_noise(a * 9.0, b * 9.0, tex_ + 17) - 0.5f);
  }

  bool in_shadow(double X, double z) const {
    const Side* s = left_.casts_shadow ? &left_ : right_.casts_shadow ? &right_ : nullptr;
    if (!s) return false;
    const double dist = s == &left_ ? X + left_.facade() : right_.facade() - X;
    if (z != shadow_z_) {  // the ground is shaded row by row: remember the last depth
      const Segment* seg = s->at(z);
      shadow_z_ = z;
      shadow_reach_ = seg->kind == Kind::Gap ? -1.0 : segment_height(*seg, z - seg->z0) * shadow_k_;
    }
    return dist < shadow_reach_;
  }

  Col shade_road(double X, double z) const {
    const float n = fbm(X * 0.6, z * 0.6, tex_ + 1, 3);
    Col c = road_colour_ * (0.82f + 0.36f * n) * grain(X, z, 0.18f);
    if (fbm(X * 0.12, z * 0.12, tex_ + 2, 2) > 0.68f) c = c * 0.8f;  // repaired patches
    bool paint = false;
    const double lanes_from = -left_.road;
    if (centre_line_) {
      for (double b = lanes_from + lane_w_; b < right_.road - 0.5; b += lane_w_)
        if (std::abs(X - b) < 0.08 && frac(z / 9.0) < 0.45f) paint = true;
    }
    if (edge_lines_ && (std::abs(X + left_.road - 0.3) < 0.08 || std::abs(X - right_.road + 0.3) < 0.08))
      paint = true;
    if (crossing_z_ > 0 && z > crossing_z_ && z < crossing_z_ + 3.5 && frac((X + 100.0) / 1.0) < 0.5f)
      paint = true;
    if (paint) c = mix(c, marking_, 0.35f + 0.6f * fbm(X * 2.5, z * 2.5, tex_ + 3, 2));
    return c;
  }

  Col shade_ground(double X, double z, uint8_t& cls) const {
    const Side& s = X < 0 ? left_ : right_;
    const double a = std::abs(X);
    Col c;
    if (a <= s.road) {
      cls = kRoad;
      c = shade_road(X, z);
    } else if (a <= s.facade()) {
      const Segment* seg = s.at(z);
      if (seg->kind == Kind::Gap && a > s.road) {  // the side street crosses the sidewalk
        cls = kRoad;
        c = shade_road(X, z);
      } else if (a <= s.road + s.strip) {
        cls = kTerrain;
        c = terrain_colour_ * (0.6f + 0.8f * fbm(X * 1.5, z * 1.5, tex_ + 4, 3)) * grain(X, z, 0.35f);
      } else {
        cls = kSidewalk;
        const double d = a - s.road - s.strip;
        if (d < 0.22) {
          c = walk_colour_ * 1.15f * grain(X, z, 0.1f);  // kerb stones
        } else {
          const bool joint = frac(X / tile_) < 0.07f || frac(z / tile_) < 0.07f;
          c = walk_colour_ * (0.85f + 0.3f * fbm(X * 0.8, z * 0.8, tex_ + 5, 2)) * grain(X, z, 0.15f);
          if (joint) c = c * 0.72f;
        }
      }
    } else {
      const Segment* seg = s.at(z);
      if (seg->kind == Kind::Gap) {
        cls = kRoad;
        c = shade_road(X, z);
      } else if (seg->kind == Kind::Building) {
        cls = kBuilding;
        c = seg->colour * 0.6f;
      } else {
        cls = kTerrain;
        c = terrain_colour_ * (0.6f + 0.8f * fbm(X * 1.5, z * 1.5, tex_ + 4, 3));
      }
    }
    if (in_shadow(X, z)) c = c * shadow_factor_;
    return c;
  }

  // A facade point: u metres along the segment, Y up. side_light darkens a side in shade.
  Col shade_facade(const Segment& s, double u, double Y, float light, uint8_t& cls) const {
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

  Col shade_sky(double px, double py) const {
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

  // Height in pixels above the horizon of the far skyline at column px.
  double skyline_height(double px) const {
    if (treeline_) return H_ * (0.03 + 0.05 * fbm(px / W_ * 12.0, 1.0, tex_ + 11, 3));
    const int32_t block = static_cast<int32_t>(std::floor(px / (W_ * 0.035)));
    return H_ * 0.17 * unit(hash2(block, 3, tex_ + 12)) * unit(hash2(block, 4, tex_ + 12));
  }

  // ---- the background -------------------------------------------------------------------
  void cast_background() {
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

  // ---- objects ---------------------------------------------------------------------------
  using Pt = std::array<double, 2>;
  Pt project(double X, double Y, double z) const { return {cam_.sx(X, z), cam_.sy(Y, z)}; }

  void quad(const Pt& a, const Pt& b, const Pt& c, const Pt& d, uint8_t cls, double z, const Shader& s) {
    fill_polygon(cv_, {a, b, c, d}, cls, z, s);
  }
  // A rectangle facing the camera at depth z.
  void front_rect(double X0, double X1, double Y0, double Y1, double z, uint8_t cls, const Shader& s) {
    fill_rect(cv_, cam_.sx(X0, z), cam_.sy(Y1, z), cam_.sx(X1, z), cam_.sy(Y0, z), cls, z, s);
  }
  Shader flat(Col c, float texture = 0.1f) const {
    const uint32_t t = tex_;
    return [c, texture, t](double x, double y) {
      return c * (1.f + texture * (value_noise(x * 0.7, y * 0.7, t + 21) - 0.5f));
    };
  }

  void draw_car(double Xc, double z0, bool facing) {
    const double L = U(3.8, 4.9), Wd = U(1.65, 1.95), top = U(0.9, 1.1), roof = U(1.38, 1.6);
    const double X0 = Xc - Wd / 2, X1 = Xc + Wd / 2, zb = z0 + L;
    static const std::vector<Col> paints = {
        {225, 225, 225}, {25, 25, 28},  {150, 152, 155}, {95, 97, 100}, {150, 25, 25},
        {30, 55, 130},   {40, 90, 60},  {200, 170, 40},  {120, 90, 60}, {70, 110, 150}};
    const float light = in_shadow(Xc, z0) ? shadow_factor_ : 1.f;
    const Col paint = jitter(pick(paints), 0.08f) * light;
    const Col glass = any_colour(20, 55) * light;
    const Col tyre = grey(static_cast<float>(U(15, 35))) * light;
    const double cz0 = z0 + U(0.8, 1.2), cz1 = zb - U(0.7, 1.2), inset = 0.12;
    // Far faces first: body top, cabin side and top, cabin back, then the near body faces.
    quad(project(X0, top, z0), project(X1, top, z0), project(X1, top, zb), project(X0, top, zb), kCar,
         z0, flat(paint * 1.1f));
    const double sideX = Xc > 0 ? X0 : X1;  // the flank turned to the camera
    const bool side_visible = (Xc > 0 && X0 > 0) || (Xc < 0 && X1 < 0);
    const double csx = Xc > 0 ? X0 + inset : X1 - inset;
    if (side_visible)
      quad(project(csx, top, cz0), project(csx, top, cz1), project(csx, roof, cz1),
           project(csx, roof, cz0), kCar, cz0, flat(glass, 0.3f));
    quad(project(X0 + inset, roof, cz0), project(X1 - inset, roof, cz0), project(X1 - inset, roof, cz1),
         project(X0 + inset, roof, cz1), kCar, cz0, flat(paint * 1.05f));
    front_rect(X0 + inset, X1 - inset, top, roof, cz0, kCar, flat(paint));
    front_rect(X0 + inset + 0.06, X1 - inset - 0.06, top + 0.05, roof - 0.06, cz0, kCar, flat(glass, 0.4f));
    if (side_visible) {
      quad(project(sideX, 0.22, z0), project(sideX, 0.22, zb), project(sideX, top, zb),
           project(sideX, top, z0), kCar, z0, flat(paint * 0.85f));
      for (double wz : {z0 + 0.75, zb - 0.75}) {
        const Pt a = project(sideX, 0.33, wz - 0.33), b = project(sideX, 0.33, wz + 0.33);
        const double ry = 0.33 * cam_.f / wz;
        fill_ellipse(cv_, 0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1]), std::abs(a[0] - b[0]) / 2 + 0.5, ry,
                     kCar, wz, flat(tyre, 0.2f));
      }
    }
    // The near end: the rear (or, for oncoming cars, the front).
    front_rect(X0, X1, 0.22, top, z0, kCar, flat(paint * 0.95f));
    front_rect(X0, X0 + 0.3, 0.0, 0.3, z0, kCar, flat(tyre));
    front_rect(X1 - 0.3, X1, 0.0, 0.3, z0, kCar, flat(tyre));
    front_rect(X0, X1, 0.22, 0.38, z0, kCar, flat(paint * 0.6f));  // bumper
    const Col lamp = facing ? Col{235, 230, 200} : Col{200, 30, 30};
    front_rect(X0 + 0.08, X0 + 0.35, top - 0.2, top - 0.06, z0, kCar, flat(lamp * light));
    front_rect(X1 - 0.35, X1 - 0.08, top - 0.2, top - 0.06, z0, kCar, flat(lamp * light));
    front_rect(Xc - 0.26, Xc + 0.26, 0.42, 0.54, z0, kCar, flat(Col{220, 220, 210} * light));
  }

  void draw_person(double X, double z) {
    const double h = U(1.5, 1.95);
    const float light = in_shadow(X, z) ? shadow_factor_ : 1.f;
    static const std::vector<Col> skins = {{230, 195, 165}, {200, 150, 115}, {150, 100, 70}, {95, 65, 45}};
    const Col skin = jitter(pick(skins), 0.08f) * light;
    const Col top = any_colour(20, 220) * light;
    const Col trousers = (P(0.5) ? any_colour(20, 70) : jitter(Col{50, 60, 95}, 0.3f)) * light;
    const Col hair = any_colour(15, 90) * light;
    const double stride = U(-0.12, 0.12);
    front_rect(X - 0.17 + stride, X - 0.02 + stride, 0, 0.48 * h, z, kPerson, flat(trousers));
    front_rect(X + 0.02 - stride, X + 0.17 - stride, 0, 0.48 * h, z, kPerson, flat(trousers));
    front_rect(X - 0.31, X - 0.22, 0.47 * h, 0.8 * h, z, kPerson, flat(top * 0.85f));
    front_rect(X + 0.22, X + 0.31, 0.47 * h, 0.8 * h, z, kPerson, flat(top * 0.85f));
    front_rect(X - 0.22, X + 0.22, 0.46 * h, 0.83 * h, z, kPerson, flat(top, 0.2f));
    if (P(0.3)) front_rect(X + 0.15, X + 0.38, 0.42 * h, 0.6 * h, z, kPerson, flat(any_colour(20, 150) * light));
    const Pt head = project(X, 0.91 * h, z);
    const double r = 0.09 * h * cam_.f / z;
    fill_ellipse(cv_, head[0], head[1], r * 0.85, r * 1.1, kPerson, z, flat(skin));
    fill_ellipse(cv_, head[0], head[1] - r * 0.45, r * 0.9, r * 0.7, kPerson, z, flat(hair));
  }

  void draw_tree(double X, double z) {
    const double trunk_h = U(1.8, 3.5), trunk_w = U(0.22, 0.45);
    const float light = in_shadow(X, z) ? shadow_factor_ : 1.f;
    front_rect(X - trunk_w / 2, X + trunk_w / 2, 0, trunk_h + 0.8, z, kVegetation,
               flat(jitter(Col{95, 80, 65}, 0.25f) * light, 0.3f));
    const Col leaves = vegetation_colour() * light;
    const double R = U(1.4, 3.5);
    const int blobs = static_cast<int>(gen_.randint(3, 7));
    const uint32_t t = next_seed();
    const double zf = cam_.f / z;
    const Shader leaf = [leaves, t, zf](double x, double y) {
      const float n = fbm(x / zf * 2.2, y / zf * 2.2, t, 3);
      return leaves * (0.35f + 1.1f * n);
    };
    for (int b = 0; b < blobs; ++b) {
      const double bx = X + U(-0.6, 0.6) * R, by = trunk_h + R * U(0.6, 1.3);
      const double br = R * U(0.55, 0.9);
      const Pt c = project(bx, by, z);
      fill_ellipse(cv_, c[0], c[1], br * zf, br * zf * U(0.8, 1.1), kVegetation, z, leaf, 0.3f, t + b);
    }
  }

  void draw_pole(double X, double z, double towards_road) {
    const double h = U(3.0, 8.5), t = U(0.09, 0.2);
    const float light = in_shadow(X, z) ? shadow_factor_ : 1.f;
    const Col metal = (P(0.6) ? grey(static_cast<float>(U(80, 170))) : P(0.5) ? grey(static_cast<float>(U(30, 60)))
                                                                              : Col{45, 85, 65}) * light;
    const double x0 = cam_.sx(X - t / 2, z), x1 = cam_.sx(X + t / 2, z);
    const Shader cylinder = [metal, x0, x1](double x, double) {
      const double u = std::clamp((x - x0) / std::max(1e-6, x1 - x0), 0.0, 1.0);
      return metal * static_cast<float>(0.65 + 0.5 * std::sin(3.14159265 * u));
    };
    front_rect(X - t / 2, X + t / 2, 0, h, z, kPole, cylinder);
    const double r = U(0, 1);
    if (r < 0.45) {  // a traffic sign
      const double s = U(0.5, 0.9), Y = std::min(h - 0.1, U(2.0, 2.9)) - s / 2;
      const double Xs = X + towards_road * U(0, 0.3);
      const Pt c = project(Xs, Y, z - 0.05);
      const double rp = s / 2 * cam_.f / z;
      const int shape = static_cast<int>(gen_.randint(0, 3));
      const bool back = P(0.2);
      static const std::vector<std::pair<Col, Col>> faces = {
          {{200, 30, 35}, {235, 235, 235}}, {{30, 70, 170}, {40, 80, 185}},
          {{30, 30, 30}, {235, 200, 40}},   {{235, 235, 235}, {30, 70, 170}}};
      const auto& face = pick(faces);
      const Col rim = (back ? grey(150) : face.first) * light, inner = (back ? grey(140) : face.second) * light;
      if (shape == 0) {
        fill_ellipse(cv_, c[0], c[1], rp, rp, kSign, z - 0.05, flat(rim));
        fill_ellipse(cv_, c[0], c[1], rp * 0.75, rp * 0.75, kSign, z - 0.05, flat(inner));
      } else if (shape == 1) {
        fill_polygon(cv_, {{c[0] - rp, c[1] + rp * 0.8}, {c[0] + rp, c[1] + rp * 0.8}, {c[0], c[1] - rp}},
                     kSign, z - 0.05, flat(rim));
        fill_polygon(cv_, {{c[0] - rp * 0.6, c[1] + rp * 0.55}, {c[0] + rp * 0.6, c[1] + rp * 0.55},
                           {c[0], c[1] - rp * 0.5}}, kSign, z - 0.05, flat(inner));
      } else if (shape == 2) {
        fill_polygon(cv_, {{c[0] - rp, c[1]}, {c[0], c[1] - rp}, {c[0] + rp, c[1]}, {c[0], c[1] + rp}},
                     kSign, z - 0.05, flat(rim));
        fill_polygon(cv_, {{c[0] - rp * 0.75, c[1]}, {c[0], c[1] - rp * 0.75}, {c[0] + rp * 0.75, c[1]},
                           {c[0], c[1] + rp * 0.75}}, kSign, z - 0.05, flat(inner));
      } else {
        fill_rect(cv_, c[0] - rp * 1.2, c[1] - rp * 0.7, c[0] + rp * 1.2, c[1] + rp * 0.7, kSign, z - 0.05, flat(rim));
        fill_rect(cv_, c[0] - rp * 1.05, c[1] - rp * 0.55, c[0] + rp * 1.05, c[1] + rp * 0.55, kSign, z - 0.05,
                  flat(inner));
      }
    } else if (r < 0.7) {  // a traffic light, on the pole or at the end of an arm
      double Xl = X;
      if (P(0.4)) {
        const double arm = U(1.5, 4.5);
        Xl = X + towards_road * arm;
        front_rect(std::min(X, Xl), std::max(X, Xl), h - 0.12, h, z, kPole, flat(metal));
      }
      const Col housing = (P(0.7) ? grey(static_cast<float>(U(20, 50))) : Col{200, 170, 40}) * light;
      const double top = Xl == X ? h : h - 0.1;
      front_rect(Xl - 0.18, Xl + 0.18, top - 0.95, top, z - 0.1, kLight, flat(housing));
      const int lit = static_cast<int>(gen_.randint(0, 2));
      static const Col lamps[3] = {{230, 40, 30}, {240, 170, 30}, {40, 210, 90}};
      for (int k = 0; k < 3; ++k) {
        const Pt c = project(Xl, top - 0.17 - 0.3 * k, z - 0.12);
        const double rp = 0.1 * cam_.f / z;
        fill_ellipse(cv_, c[0], c[1], rp, rp, kLight, z - 0.12, flat(k == lit ? lamps[k] : lamps[k] * 0.25f));
      }
    } else if (r < 0.85) {  // a street lamp
      const double arm = U(0.8, 2.5);
      const double Xa = X + towards_road * arm;
      front_rect(std::min(X, Xa), std::max(X, Xa), h - 0.1, h, z, kPole, flat(metal));
      front_rect(Xa - 0.3, Xa + 0.3, h - 0.25, h, z - 0.05, kPole, flat(metal * 0.8f));
    }
  }

  void plan_and_draw_objects() {
    struct Item {
      double z;
      std::function<void()> draw;
    };
    std::vector<Item> items;
    const double zmax = std::min(z_end_ - 3.0, 150.0);
    auto add = [&](double z, std::function<void()> d) {
      if (z > 2.0 && z < zmax) items.push_back({z, std::move(d)});
    };
    // Moving cars in lanes: ours drive away, the far lanes come towards us.
    const int64_t cars = gen_.randint(0, 7);
    for (int64_t i = 0; i < cars; ++i) {
      const double lane = std::floor(U(0, (left_.road + right_.road) / lane_w_));
      const double X = -left_.road + (lane + 0.5) * lane_w_ + U(-0.3, 0.3);
      if (X > right_.road - 0.9) continue;
      const double z = std::exp(U(std::log(5.0), std::log(zmax)));
      const bool oncoming = X < -1.5 && P(0.7);
      add(z, [this, X, z, oncoming] { draw_car(X, z, oncoming); });
    }
    // Parked cars along the kerbs.
    for (Side* s : {&left_, &right_}) {
      if (!P(0.55)) continue;
      const double sign = s == &left_ ? -1.0 : 1.0;
      const double X = sign * (s->road - U(1.0, 1.3));
      for (double z = U(4, 12); z < zmax; z += U(5.0, 12.0))
        if (P(0.7)) add(z, [this, X, z] { draw_car(X, z, false); });
    }
    // Persons on the sidewalks (and now and then on the road).
    const int64_t persons = gen_.randint(0, 9);
    for (int64_t i = 0; i < persons; ++i) {
      const Side& s = P(0.5) ? left_ : right_;
      const double sign = &s == &left_ ? -1.0 : 1.0;
      double X = sign * U(s.road + s.strip + 0.3, s.facade() - 0.3);
      double z = std::exp(U(std::log(4.0), std::log(60.0)));
      if (crossing_z_ > 0 && P(0.3)) {
        X = U(-left_.road, right_.road);
        z = crossing_z_ + U(0.3, 3.2);
      }
      add(z, [this, X, z] { draw_person(X, z); });
    }
    // Poles along the kerbs, trees on the sidewalks or grass strips.
    for (Side* s : {&left_, &right_}) {
      const double sign = s == &left_ ? -1.0 : 1.0;
      const double Xp = sign * (s->road + s->strip + U(0.3, 0.6));
      for (double z = U(3, 20); z < zmax; z += U(12.0, 40.0))
        add(z, [this, Xp, z, sign] { draw_pole(Xp, z, -sign); });
      if (P(0.6)) {
        const double Xt = sign * (s->strip > 0 ? s->road + s->strip / 2 : s->road + s->strip + s->walk * U(0.4, 0.8));
        for (double z = U(4, 15); z < zmax; z += U(7.0, 20.0))
          if (P(0.75)) add(z, [this, Xt, z] { draw_tree(Xt, z); });
      }
    }
    std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.z > b.z; });
    for (Item& it : items) it.draw();
  }

  // The ego vehicle's bonnet at the bottom, ignored as Cityscapes' "ego vehicle".
  void draw_bonnet() {
    if (!P(0.25)) return;
    const double depth = H_ * U(0.05, 0.13), half = W_ * U(0.6, 0.9), cx = W_ * U(0.45, 0.55);
    const Col paint = any_colour(20, 160);
    for (int64_t y = 0; y < H_; ++y)
      for (int64_t x = 0; x < W_; ++x) {
        const double u = (x + 0.5 - cx) / half;
        const double top = H_ - depth * std::max(0.0, 1.0 - u * u);
        if (y + 0.5 > top) {
          const float sheen = static_cast<float>((y + 0.5 - top) / std::max(1.0, depth));
          cv_.set(x, y, kIgnoreLabel, paint * (0.7f + 0.6f * sheen), 1.0);
        }
      }
  }

  // ---- the camera ---------------------------------------------------------------------------
  Sample finish() {
    Sample s;
    s.image = Image(H_, W_);
    s.label = LabelMap(H_, W_);
    float lut[1024];  // gamma, over 1024 levels of 0..255
    for (int i = 0; i < 1024; ++i) lut[i] = 255.f * std::pow(i / 1023.f, gamma_);
    const uint32_t noise_seed = tex_ + 99;
    // The vignette 1 - k (dx^2 + dy^2) splits into a row part and a column part.
    const double cx = W_ / 2.0, cy = H_ / 2.0, k = vignette_ / (cx * cx + cy * cy);
    std::vector<float> column(W_);
    for (int64_t x = 0; x < W_; ++x) column[x] = static_cast<float>(k * (x + 0.5 - cx) * (x + 0.5 - cx));
    const float inv_fog = 1.f / static_cast<float>(fog_), noise = noise_sigma_ * 2.45f;
    for (int64_t y = 0; y < H_; ++y) {
      const float row = 1.f - static_cast<float>(k * (y + 0.5 - cy) * (y + 0.5 - cy));
      for (int64_t x = 0; x < W_; ++x) {
        const int64_t i = y * W_ + x;
        Col c = cv_.rgb[i];
        const float z = cv_.depth[i];
        if (std::isfinite(z)) {
          const float t = z * inv_fog;
          c = mix(c, haze_, t / (1.f + t));  // haze thickening with distance
        }
        const float v = gain_ * (row - column[x]);
        const float ch[3] = {c.r * v * cast_[0], c.g * v * cast_[1], c.b * v * cast_[2]};
        // Triangular sensor noise of unit variance: two 10-bit uniforms per channel.
        const uint32_t h1 = hash2(static_cast<int32_t>(x), static_cast<int32_t>(y), noise_seed);
        const uint32_t h2 = hash32(h1);
        for (int k = 0; k < 3; ++k) {
          const int j = static_cast<int>(std::clamp(ch[k], 0.f, 255.f) * (1023.f / 255.f) + 0.5f);
          const float u1 = static_cast<float>((h1 >> (10 * k)) & 1023u) * (1.f / 1024.f);
          const float u2 = static_cast<float>((h2 >> (10 * k)) & 1023u) * (1.f / 1024.f);
          const float out = lut[j] + noise * (u1 + u2 - 1.f);
          s.image.pixels[i * 3 + k] = static_cast<uint8_t>(std::clamp(out + 0.5f, 0.f, 255.f));
        }
        s.label.ids[i] = cv_.label[i];
      }
    }
    return s;
  }

  int64_t H_, W_;
  Generator gen_;
  Canvas cv_;
  uint32_t tex_;
  Camera cam_;
  Side left_, right_;
  std::vector<Segment> back_;
  double z_end_ = 100;
  double lane_w_ = 3.2, tile_ = 0.5, crossing_z_ = -1;
  bool centre_line_ = true, edge_lines_ = false, skyline_ = false, treeline_ = false;
  Col marking_, road_colour_, walk_colour_, terrain_colour_;
  Col sky_zenith_, sky_horizon_, cloud_colour_, skyline_colour_, haze_;
  float cloud_threshold_ = 0.6f;
  double shadow_k_ = 1.0;
  mutable double shadow_z_ = -1.0, shadow_reach_ = 0.0;  // in_shadow's memo
  float shadow_factor_ = 1.f;
  float gain_ = 1.f, gamma_ = 1.f, vignette_ = 0.f, noise_sigma_ = 3.f;
  std::array<float, 3> cast_{1.f, 1.f, 1.f};
  double fog_ = 300;
};

}  // namespace

Sample render_street_scene(int64_t height, int64_t width, uint64_t scene_seed) {
  PMSDSEN_CHECK(height >= 8 && width >= 8 && height <= 8192 && width <= 8192,
                "synthetic: scene size ", width, "x", height, " must be within 8..8192");
  Scene scene(height, width, scene_seed);
  return scene.render();
}

}  // namespace pmsdsen::data
