#include "data/cityscapes.h"

#include <set>

#include "core/error.h"
#include "data/files.h"

namespace pmsdsen::data {
namespace {

const char kImageSuffix[] = "_leftImg8bit.png";
const char kLabelIdsSuffix[] = "_gtFine_labelIds.png";
const char kTrainIdsSuffix[] = "_gtFine_labelTrainIds.png";

std::string strip(const std::string& s, const std::string& suffix) {
  return s.substr(0, s.size() - suffix.size());
}

}  // namespace

int cityscapes_train_id(int label_id) {
  static const int kTable[34] = {
      255, 255, 255, 255, 255, 255, 255, 0,   1,   255, 255, 2,   3,   4,   255, 255, 255,
      5,   255, 6,   7,   8,   9,   10,  11,  12,  13,  14,  15,  255, 255, 16,  17,  18};
  if (label_id >= 0 && label_id <= 33) return kTable[label_id];
  if (label_id == 255) return 255;
  return -1;
}

LabelMap cityscapes_label_map(const RawLabel& raw, bool train_ids, const std::string& path) {
  LabelMap out(raw.height, raw.width);
  std::vector<int> lut(raw.bits == 16 ? 65536 : 256);
  for (int v = 0; v < static_cast<int>(lut.size()); ++v)
    lut[v] = train_ids ? (v <= 18 || v == 255 ? v : -1) : cityscapes_train_id(v);
  for (int64_t i = 0; i < raw.height * raw.width; ++i) {
    const int t = lut[raw.values[i]];
    if (t < 0)
      PMSDSEN_FAIL("cityscapes: ", train_ids ? "train id " : "label id ", raw.values[i],
                   " at (x ", i % raw.width, ", y ", i / raw.width, ") of ", path,
                   " is outside the table (",
                   train_ids ? "train ids 0..18 and 255" : "label ids 0..33 and 255", ")");
    out.ids[i] = static_cast<uint8_t>(t);
  }
  return out;
}

CityscapesDataset::CityscapesDataset(const std::string& root, const std::string& split,
                                     bool skip_bad, const DecodeLimits& limits)
    : Dataset(skip_bad), split_(split), limits_(limits) {
  const std::string image_root = join_path(join_path(root, "leftImg8bit"), split);
  const std::string label_root = join_path(join_path(root, "gtFine"), split);
  require_dir(image_root, "cityscapes");
  require_dir(label_root, "cityscapes");

  std::set<std::string> paired_labels;  // label files used, to find labels without images
  for (const std::string& city : list_dirs(image_root)) {
    const std::string image_dir = join_path(image_root, city);
    const std::string label_dir = join_path(label_root, city);
    for (const std::string& file : list_files(image_dir)) {
      if (!ends_with(file, kImageSuffix)) continue;
      const std::string id = strip(file, kImageSuffix);
      const std::string train_ids = join_path(label_dir, id + kTrainIdsSuffix);
      const std::string label_ids = join_path(label_dir, id + kLabelIdsSuffix);
      Entry e{id, join_path(image_dir, file), "", false};
      if (file_exists(train_ids)) {
        e.label_path = train_ids;
        e.train_ids = true;
      } else if (file_exists(label_ids)) {
        e.label_path = label_ids;
      } else {
        reject_at_listing(str("cityscapes: image ", e.image_path, " has no label (expected ",
                              train_ids, " or ", label_ids, ")"));
        continue;
      }
      paired_labels.insert(id);
      entries_.push_back(std::move(e));
    }
  }
  for (const std::string& city : list_dirs(label_root)) {
    const std::string label_dir = join_path(label_root, city);
    for (const std::string& file : list_files(label_dir)) {
      std::string id;
      if (ends_with(file, kTrainIdsSuffix)) id = strip(file, kTrainIdsSuffix);
      else if (ends_with(file, kLabelIdsSuffix)) id = strip(file, kLabelIdsSuffix);
      else continue;
      if (paired_labels.count(id) == 0)
        reject_at_listing(str("cityscapes: label ", join_path(label_dir, file),
                              " has no image (expected ",
                              join_path(join_path(image_root, city), id + kImageSuffix), ")"));
    }
  }
  PMSDSEN_CHECK(!entries_.empty(), "cityscapes: no image with its label under ", image_root);
}

std::string CityscapesDataset::sample_id(int64_t index) const {
  check_index(index);
  return entries_[index].id;
}

Sample CityscapesDataset::sample(int64_t index) const {
  check_index(index);
  const Entry& e = entries_[index];
  Sample s;
  s.id = e.id;
  s.image = read_image(e.image_path, limits_);
  s.label = cityscapes_label_map(read_raw_label(e.label_path, limits_), e.train_ids, e.label_path);
  check_same_size(s.image, s.label, e.image_path, e.label_path);
  return s;
}

const std::vector<std::string>& CityscapesDataset::class_names() const {
  return cityscapes_class_names();
}
const std::vector<Rgb>& CityscapesDataset::palette() const { return cityscapes_palette(); }

}  // namespace pmsdsen::data
