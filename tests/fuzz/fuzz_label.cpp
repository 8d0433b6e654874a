// The label reader and the three id mappings (Cityscapes labelIds and labelTrainIds,
// CamVid) on any bytes.
#include "data/camvid.h"
#include "data/cityscapes.h"
#include "data/image_decode.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

void run(const std::string& bytes) {
  using namespace pmsdsen::data;
  const RawLabel raw = decode_raw_label(bytes, "fuzz.png", DecodeLimits{1 << 20});
  if (raw.values.size() != static_cast<size_t>(raw.width * raw.height)) __builtin_trap();
  auto attempt = [](auto f) {
    try {
      f();
    } catch (const pmsdsen::Error&) {
    }
  };
  attempt([&] { cityscapes_label_map(raw, false, "fuzz.png"); });
  attempt([&] { cityscapes_label_map(raw, true, "fuzz.png"); });
  attempt([&] { camvid_label_map(raw, "fuzz.png"); });
}

}  // namespace

PMSDSEN_FUZZ_TARGET(run)
