#include "data/png_encode.h"

#include <memory>

#include "core/error.h"
#include "data/stb.h"

namespace pmsdsen::data {
namespace {

void check_dims(int64_t h, int64_t w, const char* what, const std::string& path) {
  PMSDSEN_CHECK(h > 0 && w > 0, "write ", what, " ", path, ": empty ", h, "x", w, " image");
  PMSDSEN_CHECK(h < (1 << 24) && w < (1 << 24), "write ", what, " ", path, ": ", h, "x", w, " is too large");
}

void append(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

std::string stb_png(const uint8_t* pixels, int64_t h, int64_t w, int channels, const std::string& path) {
  std::string bytes;
  PMSDSEN_CHECK(stbi_write_png_to_func(append, &bytes, static_cast<int>(w), static_cast<int>(h), channels, pixels,
                                       static_cast<int>(w) * channels),
                "cannot write '", path, "': PNG encoding failed (out of memory?)");
  return bytes;
}

// PNG chunk CRC (ISO 3309), table-free: only the 16-bit writer uses it.
uint32_t crc32(const uint8_t* data, size_t n, uint32_t crc = 0xFFFFFFFFu) {
  for (size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc;
}

void put_be32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

void put_chunk(std::string& out, const char type[4], const uint8_t* data, size_t n) {
  put_be32(out, static_cast<uint32_t>(n));
  const size_t start = out.size();
  out.append(type, 4);
  out.append(reinterpret_cast<const char*>(data), n);
  put_be32(out, crc32(reinterpret_cast<const uint8_t*>(out.data()) + start, n + 4) ^ 0xFFFFFFFFu);
}

}  // namespace

std::string encode_png(const Image& image, const std::string& path) {
  check_dims(image.height, image.width, "image", path);
  PMSDSEN_CHECK(image.pixels.size() == static_cast<size_t>(image.height * image.width * 3), "write image ", path,
                ": pixel buffer does not match ", image.height, "x", image.width);
  return stb_png(image.pixels.data(), image.height, image.width, 3, path);
}

std::string encode_png(const LabelMap& label, const std::string& path) {
  check_dims(label.height, label.width, "label", path);
  PMSDSEN_CHECK(label.ids.size() == static_cast<size_t>(label.height * label.width), "write label ", path,
                ": buffer does not match ", label.height, "x", label.width);
  return stb_png(label.ids.data(), label.height, label.width, 1, path);
}

std::string encode_png16(int64_t height, int64_t width, const std::vector<uint16_t>& values,
                         const std::string& path) {
  check_dims(height, width, "16-bit label", path);
  PMSDSEN_CHECK(values.size() == static_cast<size_t>(height * width), "write ", path, ": buffer does not match ",
                height, "x", width);
  // Filter type 0 (none) on every row, samples big-endian.
  std::vector<uint8_t> raw;
  raw.reserve(static_cast<size_t>(height * (1 + 2 * width)));
  for (int64_t y = 0; y < height; ++y) {
    raw.push_back(0);
    for (int64_t x = 0; x < width; ++x) {
      const uint16_t v = values[y * width + x];
      raw.push_back(static_cast<uint8_t>(v >> 8));
      raw.push_back(static_cast<uint8_t>(v & 0xFF));
    }
  }
  int zlen = 0;
  std::unique_ptr<uint8_t, decltype(&std::free)> z(
      stbi_zlib_compress(raw.data(), static_cast<int>(raw.size()), &zlen, 8), &std::free);
  PMSDSEN_CHECK(z != nullptr, "write ", path, ": compression failed");

  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  put_be32(ihdr, static_cast<uint32_t>(width));
  put_be32(ihdr, static_cast<uint32_t>(height));
  ihdr.append("\x10\0\0\0\0", 5);  // bit depth 16, grey, deflate, no filter, no interlace
  put_chunk(png, "IHDR", reinterpret_cast<const uint8_t*>(ihdr.data()), ihdr.size());
  put_chunk(png, "IDAT", z.get(), static_cast<size_t>(zlen));
  put_chunk(png, "IEND", nullptr, 0);
  return png;
}

}  // namespace pmsdsen::data
