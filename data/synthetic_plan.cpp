// Planning a scene: the camera, both sides of the street and the row closing it (facade
// segments of buildings, vegetation, walls, fences and side streets), road markings and
// materials, the sky, and the light. Every random draw of the layout happens here.
#include "data/synthetic_scene.h"

namespace pmsdsen::data::synthetic {

void Scene::plan_camera() {
  cam_.f = W_ * U(0.75, 1.15);
  cam_.hy = H_ * U(0.36, 0.52);
  cam_.vx = W_ * U(0.35, 0.65);
  cam_.cam_h = U(1.3, 1.9);
}

Col Scene::building_colour() {
  static const std::vector<Col> families = {
      {200, 180, 150}, {170, 170, 170}, {120, 120, 125}, {150, 80, 62}, {220, 218, 210},
      {80, 78, 82},    {190, 160, 120}, {140, 150, 160}, {175, 130, 110}, {110, 120, 95}};
  return jitter(pick(families), 0.18f);
}
Col Scene::vegetation_colour() {
  if (P(0.15)) return jitter({140, 115, 45}, 0.2f);  // autumn
  return jitter({static_cast<float>(U(45, 100)), static_cast<float>(U(75, 140)),
                 static_cast<float>(U(25, 70))}, 0.15f);
}

Segment Scene::make_segment(double z0, double len, Kind kind) {
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

void Scene::plan_side(Side& s, bool left) {
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

void Scene::plan_street() {
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

void Scene::plan_sky_colours() {
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

void Scene::plan_sky_and_light() {
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

}  // namespace pmsdsen::data::synthetic
