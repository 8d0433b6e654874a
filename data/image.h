#pragma once
// Images and label maps in memory, and their files (PNG and JPEG in, PNG out; see
// image_decode.h for the decoders). Every read failure throws pmsdsen::Error naming the
// file; every write is atomic (core/file_io.h): a failure leaves no partial file.
#include <cstdint>
#include <string>
#include <vector>

namespace pmsdsen::data {

constexpr uint8_t kIgnoreLabel = 255;

// Images larger than this are refused from their header, before any decoding: a small
// file can declare a huge image (a decompression bomb). 40 megapixels holds an 8K frame
// (33 Mpx) and most camera photos; Cityscapes images are 2 Mpx.
constexpr int64_t kDefaultMaxPixels = 40'000'000;
constexpr int64_t kMaxImageSide = 65535;  // PNG allows more, JPEG 65500

struct DecodeLimits {
  int64_t max_pixels = kDefaultMaxPixels;  // --max-pixels
};

// 8-bit RGB, row-major HWC.
struct Image {
  int64_t height = 0, width = 0;
  std::vector<uint8_t> pixels;  // height * width * 3

  Image() = default;
  Image(int64_t h, int64_t w, uint8_t fill = 0) : height(h), width(w), pixels(h * w * 3, fill) {}
  uint8_t* at(int64_t y, int64_t x) { return pixels.data() + (y * width + x) * 3; }
  const uint8_t* at(int64_t y, int64_t x) const { return pixels.data() + (y * width + x) * 3; }
};

// Train ids (0..classes-1) per pixel, kIgnoreLabel where the pixel is not counted.
struct LabelMap {
  int64_t height = 0, width = 0;
  std::vector<uint8_t> ids;  // height * width

  LabelMap() = default;
  LabelMap(int64_t h, int64_t w, uint8_t fill = kIgnoreLabel) : height(h), width(w), ids(h * w, fill) {}
  uint8_t& at(int64_t y, int64_t x) { return ids[y * width + x]; }
  uint8_t at(int64_t y, int64_t x) const { return ids[y * width + x]; }
};

// A single-channel label file as stored (8- or 16-bit), before any id mapping.
struct RawLabel {
  int64_t height = 0, width = 0;
  int bits = 8;                  // 8 or 16
  std::vector<uint16_t> values;  // height * width
};

// A PNG or JPEG file (told from its bytes, not its name), converted to RGB.
Image read_image(const std::string& path, const DecodeLimits& limits = {});
// A single-channel 8- or 16-bit PNG; more channels, a palette PNG, fewer bits or a JPEG
// is an error naming the file.
RawLabel read_raw_label(const std::string& path, const DecodeLimits& limits = {});

void write_png(const std::string& path, const Image& image);
void write_png(const std::string& path, const LabelMap& label);  // 8-bit grey
// 16-bit grey PNG (used by tests and tools).
void write_png16(const std::string& path, int64_t height, int64_t width,
                 const std::vector<uint16_t>& values);

// "f.png: 12x34 image, 12x35 label" style check shared by the datasets.
void check_same_size(const Image& image, const LabelMap& label, const std::string& image_path,
                     const std::string& label_path);

}  // namespace pmsdsen::data
