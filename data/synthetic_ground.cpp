// The ground: road (lane and edge markings, crossings, repaired patches), kerbs, tiled
// sidewalks, grass strips, the ground past the facades, and the facades' shadows on it.
#include "data/synthetic_scene.h"

namespace pmsdsen::data::synthetic {

bool Scene::in_shadow(double X, double z) const {
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

Col Scene::shade_road(double X, double z) const {
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

Col Scene::shade_ground(double X, double z, uint8_t& cls) const {
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

}  // namespace pmsdsen::data::synthetic
