// A synthetic street scene from plan to picture: the order of the steps, and the camera
// (exposure, haze, vignetting, gamma and sensor noise) that turns the canvas into an image.
#include "data/synthetic_scene.h"

#include "core/error.h"
#include "data/synthetic.h"

namespace pmsdsen::data {
namespace synthetic {

Sample Scene::render() {
  plan_camera();
  plan_street();
  plan_sky_and_light();
  cast_background();
  plan_and_draw_objects();
  draw_bonnet();
  return finish();
}

Sample Scene::finish() {
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

}  // namespace synthetic

Sample render_street_scene(int64_t height, int64_t width, uint64_t scene_seed) {
  PMSDSEN_CHECK(height >= 8 && width >= 8 && height <= 8192 && width <= 8192,
                "synthetic: scene size ", width, "x", height, " must be within 8..8192");
  synthetic::Scene scene(height, width, scene_seed);
  return scene.render();
}

}  // namespace pmsdsen::data
