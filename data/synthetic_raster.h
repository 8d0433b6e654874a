#pragma once
// The drawing kit of the synthetic scenes (internal to data/synthetic_*.cpp): colours,
// hashed and fractal noise, the canvas (colour, class and depth per pixel), and filled
// polygons and ellipses.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

namespace pmsdsen::data::synthetic {

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

  explicit NoiseTexture(int octaves);

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

const NoiseTexture& smooth_noise();    // 2 octaves
const NoiseTexture& detailed_noise();  // 4 octaves

// Noise in [0, 1) at (x, y); `seed` moves to an unrelated part of the texture, and
// three or more octaves select the detailed texture.
inline float fbm(double x, double y, uint32_t seed, int octaves) {
  const uint32_t h = hash32(seed * 0x9E3779B9u + 0x2545F491u);
  const double ox = (h & 0xFFFF) * (8.0 / 65536.0), oy = (h >> 16) * (8.0 / 65536.0);
  return (octaves <= 2 ? smooth_noise() : detailed_noise()).sample(x + ox, y + oy);
}
inline float value_noise(double x, double y, uint32_t seed) { return fbm(x, y, seed, 1); }

// What the scene has drawn so far, pixel by pixel; a pixel nothing covers is sky.
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
                  const Shader& shade);
void fill_rect(Canvas& cv, double xa, double ya, double xb, double yb, uint8_t cls, double z,
               const Shader& shade);
// An ellipse whose edge may be ragged: inside where the normalised radius is below
// 1 - ragged * noise(direction).
void fill_ellipse(Canvas& cv, double cx, double cy, double rx, double ry, uint8_t cls, double z,
                  const Shader& shade, float ragged = 0.f, uint32_t seed = 0);

}  // namespace pmsdsen::data::synthetic
