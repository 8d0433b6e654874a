#pragma once
// CamVid in the SegNet layout: <root>/<split>/<name>.png with its label
// <root>/<split>annot/<name>.png, for split train, val, test, or trainval (train then
// val, the authors' training set). Label pixels 0..10 are the 11 classes, 11 is void
// (mapped to 255); any other value is an error naming the file.
#include <string>
#include <vector>

#include "data/dataset.h"

namespace pmsdsen::data {

LabelMap camvid_label_map(const RawLabel& raw, const std::string& path);

class CamVidDataset : public Dataset {
 public:
  struct Entry {
    std::string id, image_path, label_path;
  };

  CamVidDataset(const std::string& root, const std::string& split, bool skip_bad = false,
                const DecodeLimits& limits = {});

  std::string name() const override { return "camvid"; }
  std::string split() const override { return split_; }
  int64_t size() const override { return static_cast<int64_t>(entries_.size()); }
  std::string sample_id(int64_t index) const override;
  Sample sample(int64_t index) const override;
  const std::vector<std::string>& class_names() const override;
  const std::vector<Rgb>& palette() const override;

  const std::vector<Entry>& entries() const { return entries_; }

 private:
  void add_split(const std::string& root, const std::string& split);

  std::string split_;
  DecodeLimits limits_;
  std::vector<Entry> entries_;
};

}  // namespace pmsdsen::data
