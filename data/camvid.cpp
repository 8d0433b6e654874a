#include "data/camvid.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "core/error.h"
#include "data/files.h"

namespace pmsdsen::data {
namespace {

constexpr int kVoid = 11;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "0001TP_006690.png" -> "0001TP_006690" when the extension is one we decode, else "".
std::string stem_if(const std::string& file, const std::vector<std::string>& extensions) {
  const std::string l = lower(file);
  for (const std::string& ext : extensions)
    if (ends_with(l, ext)) return file.substr(0, file.size() - ext.size());
  return "";
}

}  // namespace

LabelMap camvid_label_map(const RawLabel& raw, const std::string& path) {
  LabelMap out(raw.height, raw.width);
  for (int64_t i = 0; i < raw.height * raw.width; ++i) {
    const int v = raw.values[i];
    if (v < kVoid) out.ids[i] = static_cast<uint8_t>(v);
    else if (v == kVoid) out.ids[i] = kIgnoreLabel;
    else
      PMSDSEN_FAIL("camvid: label value ", v, " at (x ", i % raw.width, ", y ", i / raw.width,
                   ") of ", path, " is outside the table (0..10 classes, 11 void)");
  }
  return out;
}

CamVidDataset::CamVidDataset(const std::string& root, const std::string& split, bool skip_bad,
                             const DecodeLimits& limits)
    : Dataset(skip_bad), split_(split), limits_(limits) {
  if (split == "trainval") {
    add_split(root, "train");
    add_split(root, "val");
  } else {
    add_split(root, split);
  }
  PMSDSEN_CHECK(!entries_.empty(), "camvid: no image with its label in split '", split,
                "' under ", root);
}

void CamVidDataset::add_split(const std::string& root, const std::string& split) {
  const std::string image_dir = join_path(root, split);
  const std::string label_dir = join_path(root, split + "annot");
  require_dir(image_dir, "camvid");
  require_dir(label_dir, "camvid");

  std::map<std::string, std::string> labels;  // stem -> file
  for (const std::string& file : list_files(label_dir)) {
    const std::string stem = stem_if(file, {".png"});
    if (!stem.empty()) labels[stem] = file;
  }
  std::map<std::string, std::string> images;
  for (const std::string& file : list_files(image_dir)) {
    const std::string stem = stem_if(file, {".png", ".jpg", ".jpeg"});
    if (!stem.empty()) images[stem] = file;
  }
  for (const auto& [stem, file] : images) {
    auto it = labels.find(stem);
    if (it == labels.end()) {
      reject_at_listing(str("camvid: image ", join_path(image_dir, file), " has no label (expected ",
                            join_path(label_dir, stem + ".png"), ")"));
      continue;
    }
    entries_.push_back({stem, join_path(image_dir, file), join_path(label_dir, it->second)});
  }
  for (const auto& [stem, file] : labels)
    if (images.count(stem) == 0)
      reject_at_listing(str("camvid: label ", join_path(label_dir, file), " has no image in ",
                            image_dir));
}

std::string CamVidDataset::sample_id(int64_t index) const {
  check_index(index);
  return entries_[index].id;
}

Sample CamVidDataset::sample(int64_t index) const {
  check_index(index);
  const Entry& e = entries_[index];
  Sample s;
  s.id = e.id;
  s.image = read_image(e.image_path, limits_);
  s.label = camvid_label_map(read_raw_label(e.label_path, limits_), e.label_path);
  check_same_size(s.image, s.label, e.image_path, e.label_path);
  return s;
}

const std::vector<std::string>& CamVidDataset::class_names() const { return camvid_class_names(); }
const std::vector<Rgb>& CamVidDataset::palette() const { return camvid_palette(); }

}  // namespace pmsdsen::data
