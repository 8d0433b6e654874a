#pragma once
// The built-in dataset: procedurally rendered street scenes, needing no download.
//
// Each scene is a perspective street (camera height, focal length, horizon and
// vanishing point drawn per scene) ray-cast analytically: road with lane markings and
// crossings, kerbs and tiled sidewalks, grass strips, facades of buildings with floors
// and windows, walls, fences and hedges, side streets, a far skyline, a sky with
// clouds; then cars (3-D boxes), persons, trees, poles with traffic signs and lights,
// drawn far to near. Lighting varies per scene (building shadows, brightness, colour
// cast, gamma, haze, vignetting) and every surface carries texture and sensor noise,
// with colour ranges that overlap between classes: a pixel's colour alone does not
// tell its class. Labels are Cityscapes train ids (road, sidewalk, building, wall,
// fence, pole, traffic light, traffic sign, vegetation, terrain, sky, person, car; an
// ego-vehicle bonnet in some scenes is 255), so a model uses the Cityscapes palette.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace pmsdsen::data {

struct SyntheticOptions {
  int64_t height = 256, width = 512;
  int64_t train_size = 200, val_size = 40, test_size = 40;
  uint64_t seed = 2023;
  // Keep each rendered scene in memory (about 4 bytes a pixel), so that epochs after
  // the first cost a copy instead of a render (~10 ms at 256x512).
  bool cache = true;
};

// One scene, a function of (height, width, scene_seed) only.
Sample render_street_scene(int64_t height, int64_t width, uint64_t scene_seed);

// Split "train", "val" or "test": sample i is render_street_scene of a seed derived
// from (options.seed, split, i), so splits never share a scene.
class SyntheticDataset : public Dataset {
 public:
  SyntheticDataset(const std::string& split, const SyntheticOptions& options = {});

  std::string name() const override { return "synthetic"; }
  std::string split() const override { return split_; }
  int64_t size() const override { return size_; }
  std::string sample_id(int64_t index) const override;
  Sample sample(int64_t index) const override;
  const std::vector<std::string>& class_names() const override;
  const std::vector<Rgb>& palette() const override;

 private:
  std::string split_;
  SyntheticOptions options_;
  uint64_t split_code_ = 0;
  int64_t size_ = 0;
  mutable std::mutex cache_mutex_;
  mutable std::vector<std::shared_ptr<const Sample>> cache_;
};

}  // namespace pmsdsen::data
