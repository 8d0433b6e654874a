// Cars (3-D boxes with cabin, windows, wheels and lamps) and persons.
#include "data/synthetic_scene.h"

namespace pmsdsen::data::synthetic {

void Scene::draw_car(double Xc, double z0, bool facing) {
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

void Scene::draw_person(double X, double z) {
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

}  // namespace pmsdsen::data::synthetic
