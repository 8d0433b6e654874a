// The objects in the street: where cars (moving and parked), persons, poles and trees
// stand, drawn far to near; and the ego vehicle's bonnet over everything.
#include "data/synthetic_scene.h"

namespace pmsdsen::data::synthetic {

void Scene::plan_and_draw_objects() {
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

void Scene::draw_bonnet() {
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

}  // namespace pmsdsen::data::synthetic
