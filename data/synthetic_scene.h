#pragma once
// The street-scene renderer behind SyntheticDataset (synthetic.h); internal to
// data/synthetic_*.cpp.
//
// World coordinates: X across the street (metres, right positive), Y up from the
// ground, z along the view direction. The camera looks down the street from height
// cam_h; a point projects to (vx + f X / z, hy + f (cam_h - Y) / z). A scene is planned
// first (every random draw of the layout, materials, sky and light, in a fixed order:
// synthetic_plan.cpp); the background (ground, facades, end of the street, sky) is then
// ray-cast pixel by pixel, nearest hit winning (synthetic_background.cpp, the ground
// shaded by synthetic_ground.cpp); the objects standing in the
// street are painted far to near (synthetic_objects.cpp, synthetic_vehicles_people.cpp,
// synthetic_trees_poles.cpp); last the camera's exposure, haze and noise
// (synthetic_scene.cpp). One generator feeds every draw, so the order of the calls is
// part of the output.
#include <array>
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "data/dataset.h"
#include "data/synthetic_raster.h"

namespace pmsdsen::data::synthetic {

struct Camera {
  double f = 1, vx = 0, hy = 0, cam_h = 1.6;
  double sx(double X, double z) const { return vx + f * X / z; }
  double sy(double Y, double z) const { return hy + f * (cam_h - Y) / z; }
};

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

inline double segment_height(const Segment& s, double u) {
  if (s.kind == Kind::Vegetation) return s.height * (0.7 + 0.6 * fbm(u * 0.35, 3.0, s.seed, 2));
  return s.height;
}

class Scene {
 public:
  Scene(int64_t height, int64_t width, uint64_t seed)
      : H_(height), W_(width), gen_(seed), cv_(height, width), tex_(static_cast<uint32_t>(seed)) {}

  Sample render();

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


  // ---- planning (synthetic_plan.cpp) ----------------------------------------------------
  void plan_camera();
  Col building_colour();
  Col vegetation_colour();
  Segment make_segment(double z0, double len, Kind kind);
  void plan_side(Side& s, bool left);
  void plan_street();
  void plan_sky_colours();
  void plan_sky_and_light();

  // ---- shading (synthetic_ground.cpp, synthetic_background.cpp) ------------------------
  float grain(double a, double b, float amount) const {
    return 1.f + amount * (value_noise(a * 9.0, b * 9.0, tex_ + 17) - 0.5f);
  }
  bool in_shadow(double X, double z) const;
  Col shade_road(double X, double z) const;
  Col shade_ground(double X, double z, uint8_t& cls) const;
  // A facade point: u metres along the segment, Y up. side_light darkens a side in shade.
  // Inlined into cast_background, its only caller, as it always was: the compiler then
  // fuses the same multiply-adds (FMA), which keeps every scene's pixels as they were.
  [[gnu::always_inline]] inline Col shade_facade(const Segment& s, double u, double Y, float light, uint8_t& cls) const;
  Col shade_sky(double px, double py) const;
  // Height in pixels above the horizon of the far skyline at column px.
  double skyline_height(double px) const;

  // ---- the background (synthetic_background.cpp) ----------------------------------------
  void cast_background();

  // ---- objects (synthetic_objects.cpp and the files of each kind) -----------------------
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
  void draw_car(double Xc, double z0, bool facing);
  void draw_person(double X, double z);
  void draw_tree(double X, double z);
  void draw_pole(double X, double z, double towards_road);
  void plan_and_draw_objects();
  // The ego vehicle's bonnet at the bottom, ignored as Cityscapes' "ego vehicle".
  void draw_bonnet();

  // ---- the camera (synthetic_scene.cpp) -------------------------------------------------
  Sample finish();

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

}  // namespace pmsdsen::data::synthetic
