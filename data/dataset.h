#pragma once
// A segmentation dataset: a fixed, ordered list of samples, each an RGB image with its
// label map of train ids (kIgnoreLabel where not counted), decoded on demand.
#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"
#include "data/palette.h"

namespace pmsdsen::data {

struct Sample {
  Image image;
  LabelMap label;  // same height and width as the image
  std::string id;  // e.g. "frankfurt_000000_000294"
};

class Dataset {
 public:
  explicit Dataset(bool skip_bad) : skip_bad_(skip_bad) {}
  virtual ~Dataset() = default;
  Dataset(const Dataset&) = delete;
  Dataset& operator=(const Dataset&) = delete;

  virtual std::string name() const = 0;  // "cityscapes", "camvid", "synthetic"
  virtual std::string split() const = 0;
  virtual int64_t size() const = 0;
  virtual std::string sample_id(int64_t index) const = 0;
  // Decodes sample `index`. Safe to call from several threads at once. Bad data (a
  // corrupt file, a size mismatch, an id outside the label table) throws
  // pmsdsen::Error whose message names the file.
  virtual Sample sample(int64_t index) const = 0;

  virtual const std::vector<std::string>& class_names() const = 0;
  virtual const std::vector<Rgb>& palette() const = 0;
  int64_t num_classes() const { return static_cast<int64_t>(class_names().size()); }

  // --skip-bad: the loader and the evaluator skip (and count) a sample whose decoding
  // throws instead of stopping; listing already left out unpaired files.
  bool skip_bad() const { return skip_bad_; }
  // Why each file was left out when the split was listed (only with skip_bad).
  const std::vector<std::string>& skipped_at_listing() const { return skipped_at_listing_; }

 protected:
  void check_index(int64_t index) const;
  // Throws `message` or, with skip_bad, records it and returns.
  void reject_at_listing(const std::string& message);

 private:
  bool skip_bad_;
  std::vector<std::string> skipped_at_listing_;
};

}  // namespace pmsdsen::data
