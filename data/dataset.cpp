#include "data/dataset.h"

#include "core/error.h"

namespace pmsdsen::data {

void Dataset::check_index(int64_t index) const {
  PMSDSEN_CHECK(index >= 0 && index < size(), name(), " ", split(), ": sample index ", index,
                " out of range [0, ", size(), ")");
}

void Dataset::reject_at_listing(const std::string& message) {
  PMSDSEN_CHECK(skip_bad_, message, " (--skip-bad leaves such files out)");
  skipped_at_listing_.push_back(message);
}

}  // namespace pmsdsen::data
