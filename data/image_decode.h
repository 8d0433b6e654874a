#pragma once
// Image files in memory -> pixels. Only PNG and JPEG are read, whatever a file is called:
// the format is told from its first bytes, anything else is an error saying so. PNG goes
// through stb_image (built for PNG alone, data/stb.h), JPEG through libjpeg-turbo. The
// size is read from the header and checked against DecodeLimits before anything is
// allocated for the pixels.
#include <string>

#include "data/image.h"

namespace pmsdsen::data {

enum class ImageFormat { Png, Jpeg, Other };
ImageFormat sniff_image_format(const std::string& bytes);

// Throws unless width x height fits the limits; `what` starts the message
// ("cannot read image 'a.png'").
void check_image_size(int64_t width, int64_t height, const DecodeLimits& limits, const std::string& what);

// `name` (the file's path) is named in every error.
Image decode_image(const std::string& bytes, const std::string& name, const DecodeLimits& limits = {});
RawLabel decode_raw_label(const std::string& bytes, const std::string& name, const DecodeLimits& limits = {});

}  // namespace pmsdsen::data
