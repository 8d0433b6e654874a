#pragma once
// PNG decoding (stb_image): the IHDR header read and checked by hand first, then the
// pixels, with stb's allocations capped by what the header declares.
#include <cstdint>
#include <string>

#include "data/image.h"

namespace pmsdsen::data {

struct PngHeader {
  int64_t width = 0, height = 0;
  int bit_depth = 8;    // 1, 2, 4, 8 or 16 (per sample; per index for palette images)
  int colour_type = 0;  // 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA
  int channels() const;  // samples per pixel as stored (palette: 1)
};

// The IHDR chunk, which must come first; `what` starts every error message.
PngHeader parse_png_header(const std::string& bytes, const std::string& what);

// Any PNG as 8-bit RGB: grey replicated, palette expanded, alpha dropped (as PIL's
// convert("RGB")), 16-bit samples reduced to their high byte, 1/2/4-bit grey scaled.
Image decode_png_rgb(const std::string& bytes, const PngHeader& header, const std::string& what);
// An 8- or 16-bit grey PNG's values as stored; anything else is an error saying why.
RawLabel decode_png_grey(const std::string& bytes, const PngHeader& header, const std::string& what);

}  // namespace pmsdsen::data
