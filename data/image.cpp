#include "data/image.h"

#include "core/error.h"
#include "core/file_io.h"
#include "data/image_decode.h"
#include "data/png_encode.h"

namespace pmsdsen::data {

Image read_image(const std::string& path, const DecodeLimits& limits) {
  return decode_image(read_file(path, "image"), path, limits);
}

RawLabel read_raw_label(const std::string& path, const DecodeLimits& limits) {
  return decode_raw_label(read_file(path, "label"), path, limits);
}

void write_png(const std::string& path, const Image& image) { write_file_atomically(path, encode_png(image, path)); }

void write_png(const std::string& path, const LabelMap& label) {
  write_file_atomically(path, encode_png(label, path));
}

void write_png16(const std::string& path, int64_t height, int64_t width, const std::vector<uint16_t>& values) {
  write_file_atomically(path, encode_png16(height, width, values, path));
}

void check_same_size(const Image& image, const LabelMap& label, const std::string& image_path,
                     const std::string& label_path) {
  PMSDSEN_CHECK(image.height == label.height && image.width == label.width,
                "size mismatch: image ", image_path, " is ", image.width, "x", image.height,
                " but its label ", label_path, " is ", label.width, "x", label.height);
}

}  // namespace pmsdsen::data
