#pragma once
// JPEG decoding with libjpeg-turbo: greyscale or colour (YCbCr, RGB) baseline and
// progressive JPEGs to 8-bit RGB. The size is checked from the header before the pixels
// are allocated; truncated or corrupt image data (libjpeg's "premature end", "bad
// Huffman code" and such warnings) is an error, not a grey patch; CMYK is refused; more
// than kMaxJpegScans scans (a tiny file can ask for endless passes) is refused.
#include <string>

#include "data/image.h"

namespace pmsdsen::data {

constexpr int kMaxJpegScans = 100;

Image decode_jpeg_rgb(const std::string& bytes, const DecodeLimits& limits, const std::string& what);

}  // namespace pmsdsen::data
