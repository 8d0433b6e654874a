#pragma once
// Cityscapes in the official layout:
//   <root>/leftImg8bit/<split>/<city>/<name>_leftImg8bit.png
//   <root>/gtFine/<split>/<city>/<name>_gtFine_labelTrainIds.png   (used when present)
//   <root>/gtFine/<split>/<city>/<name>_gtFine_labelIds.png        (mapped to train ids)
// 19 classes, ignore 255.
#include <string>
#include <vector>

#include "data/dataset.h"

namespace pmsdsen::data {

// labelIds value -> train id: ids 7 8 11 12 13 17 19 20 21 22 23 24 25 26 27 28 31 32 33
// become 0..18, every other id in 0..33 and 255 (the licence plate's -1 stored in 8
// bits) becomes 255. Returns -1 for a value outside the table (34..254, or anything a
// 16-bit file holds above 255): such a file is not a labelIds map, and reading it is
// an error naming it.
int cityscapes_train_id(int label_id);

// Maps a labelIds file (train_ids false) or checks a labelTrainIds file (values 0..18
// or 255); any other value is an error naming `path` and the pixel.
LabelMap cityscapes_label_map(const RawLabel& raw, bool train_ids, const std::string& path);

class CityscapesDataset : public Dataset {
 public:
  struct Entry {
    std::string id, image_path, label_path;
    bool train_ids = false;  // label_path is a labelTrainIds file
  };

  CityscapesDataset(const std::string& root, const std::string& split, bool skip_bad = false,
                    const DecodeLimits& limits = {});

  std::string name() const override { return "cityscapes"; }
  std::string split() const override { return split_; }
  int64_t size() const override { return static_cast<int64_t>(entries_.size()); }
  std::string sample_id(int64_t index) const override;
  Sample sample(int64_t index) const override;
  const std::vector<std::string>& class_names() const override;
  const std::vector<Rgb>& palette() const override;

  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::string split_;
  DecodeLimits limits_;
  std::vector<Entry> entries_;
};

}  // namespace pmsdsen::data
