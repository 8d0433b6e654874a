#include "data/synthetic.h"

#include <cstdio>

#include "core/error.h"
#include "core/rng.h"

namespace pmsdsen::data {

SyntheticDataset::SyntheticDataset(const std::string& split, const SyntheticOptions& options)
    : Dataset(false), split_(split), options_(options) {
  if (split == "train") {
    split_code_ = 1;
    size_ = options.train_size;
  } else if (split == "val") {
    split_code_ = 2;
    size_ = options.val_size;
  } else if (split == "test") {
    split_code_ = 3;
    size_ = options.test_size;
  } else {
    PMSDSEN_FAIL("synthetic: unknown split '", split, "' (train, val or test)");
  }
  PMSDSEN_CHECK(size_ > 0, "synthetic: split ", split, " has size ", size_);
  PMSDSEN_CHECK(options.height >= 8 && options.width >= 8, "synthetic: scene size ",
                options.width, "x", options.height, " is too small");
  if (options.cache) cache_.resize(size_);
}

std::string SyntheticDataset::sample_id(int64_t index) const {
  check_index(index);
  char id[64];
  std::snprintf(id, sizeof id, "synthetic_%s_%06lld", split_.c_str(), static_cast<long long>(index));
  return id;
}

Sample SyntheticDataset::sample(int64_t index) const {
  check_index(index);
  if (options_.cache) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_[index]) return *cache_[index];
  }
  Generator g = Generator::derive(options_.seed, {split_code_, static_cast<uint64_t>(index)});
  Sample s = render_street_scene(options_.height, options_.width, g.next_u64());
  s.id = sample_id(index);
  if (options_.cache) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    cache_[index] = std::make_shared<const Sample>(s);
  }
  return s;
}

const std::vector<std::string>& SyntheticDataset::class_names() const {
  return cityscapes_class_names();
}
const std::vector<Rgb>& SyntheticDataset::palette() const { return cityscapes_palette(); }

}  // namespace pmsdsen::data
