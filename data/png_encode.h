#pragma once
// PNG files this program writes, encoded in memory (stb_image_write for 8-bit, our own
// chunks for 16-bit grey); image.h's writers then write the bytes atomically.
#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"

namespace pmsdsen::data {

// `path` only names the file in errors.
std::string encode_png(const Image& image, const std::string& path);     // 8-bit RGB
std::string encode_png(const LabelMap& label, const std::string& path);  // 8-bit grey
std::string encode_png16(int64_t height, int64_t width, const std::vector<uint16_t>& values,
                         const std::string& path);  // 16-bit grey

}  // namespace pmsdsen::data
