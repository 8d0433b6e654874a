// The image decoders (PNG through stb_image, JPEG through libjpeg-turbo) on any bytes.
// A small pixel limit keeps each input cheap; the limit check itself is what it guards.
#include "data/image_decode.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

void run(const std::string& bytes) {
  const pmsdsen::data::Image im = pmsdsen::data::decode_image(bytes, "fuzz.png", pmsdsen::data::DecodeLimits{1 << 20});
  if (im.pixels.size() != static_cast<size_t>(im.width * im.height * 3)) __builtin_trap();
}

}  // namespace

PMSDSEN_FUZZ_TARGET(run)
