// Trees (a trunk and ragged blobs of leaves) and poles: bare, with a traffic sign, a
// traffic light (on the pole or at the end of an arm) or a street lamp.
#include "data/synthetic_scene.h"

namespace pmsdsen::data::synthetic {

void Scene::draw_tree(double X, double z) {
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

void Scene::draw_pole(double X, double z, double towards_road) {
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

}  // namespace pmsdsen::data::synthetic
