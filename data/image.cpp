#include "data/image.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/error.h"

#include <stb_image.h>
#include <stb_image_write.h>

// Defined (not declared) by the stb_image_write implementation in data/stb_impl.cpp.
extern "C" unsigned char* stbi_zlib_compress(unsigned char* data, int data_len, int* out_len,
                                             int quality);

namespace pmsdsen::data {
namespace {

struct StbFree {
  void operator()(void* p) const { stbi_image_free(p); }
};

std::string stb_reason() {
  const char* r = stbi_failure_reason();
  return r ? r : "unknown decoder error";
}

void check_dims(int64_t h, int64_t w, const char* what, const std::string& path) {
  PMSDSEN_CHECK(h > 0 && w > 0, "write ", what, " ", path, ": empty ", h, "x", w, " image");
  PMSDSEN_CHECK(h < (1 << 24) && w < (1 << 24), "write ", what, " ", path, ": ", h, "x", w,
                " is too large");
}

// PNG chunk CRC (ISO 3309), table-free: only the 16-bit writer uses it.
uint32_t crc32(const uint8_t* data, size_t n, uint32_t crc = 0xFFFFFFFFu) {
  for (size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc;
}

void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v >> 24));
  out.push_back(static_cast<uint8_t>(v >> 16));
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void put_chunk(std::vector<uint8_t>& out, const char type[4], const uint8_t* data, size_t n) {
  put_be32(out, static_cast<uint32_t>(n));
  const size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data, data + n);
  put_be32(out, crc32(out.data() + start, n + 4) ^ 0xFFFFFFFFu);
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  PMSDSEN_CHECK(f != nullptr, "cannot open ", path, " for writing");
  PMSDSEN_CHECK(std::fwrite(bytes.data(), 1, bytes.size(), f.get()) == bytes.size(),
                "short write to ", path);
}

}  // namespace

Image read_image(const std::string& path) {
  int w = 0, h = 0, channels = 0;
  std::unique_ptr<uint8_t, StbFree> pixels(stbi_load(path.c_str(), &w, &h, &channels, 3));
  PMSDSEN_CHECK(pixels != nullptr, "cannot read image ", path, ": ", stb_reason());
  Image image;
  image.height = h;
  image.width = w;
  image.pixels.assign(pixels.get(), pixels.get() + static_cast<size_t>(w) * h * 3);
  return image;
}

namespace {

// PNG colour type 3: palette indices, which stb_image expands to RGB colours.
bool is_palette_png(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  uint8_t head[26];
  if (!f || std::fread(head, 1, sizeof head, f.get()) != sizeof head) return false;
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  return std::equal(sig, sig + 8, head) && head[25] == 3;
}

}  // namespace

RawLabel read_raw_label(const std::string& path) {
  int w = 0, h = 0, channels = 0;
  PMSDSEN_CHECK(stbi_info(path.c_str(), &w, &h, &channels), "cannot read label ", path, ": ",
                stb_reason());
  PMSDSEN_CHECK(!is_palette_png(path), "label ", path,
                " is a palette (indexed-colour) PNG, which is not supported; save the ids as a "
                "single-channel grey PNG");
  PMSDSEN_CHECK(channels == 1, "label ", path, " has ", channels,
                " channels; a label map must be a single-channel (grey) 8- or 16-bit PNG");
  RawLabel label;
  const size_t n = static_cast<size_t>(w) * h;
  if (stbi_is_16_bit(path.c_str())) {
    std::unique_ptr<uint16_t, StbFree> v(stbi_load_16(path.c_str(), &w, &h, &channels, 1));
    PMSDSEN_CHECK(v != nullptr, "cannot read label ", path, ": ", stb_reason());
    label.bits = 16;
    label.values.assign(v.get(), v.get() + n);
  } else {
    std::unique_ptr<uint8_t, StbFree> v(stbi_load(path.c_str(), &w, &h, &channels, 1));
    PMSDSEN_CHECK(v != nullptr, "cannot read label ", path, ": ", stb_reason());
    label.bits = 8;
    label.values.assign(v.get(), v.get() + n);
  }
  label.height = h;
  label.width = w;
  return label;
}

void write_png(const std::string& path, const Image& image) {
  check_dims(image.height, image.width, "image", path);
  PMSDSEN_CHECK(image.pixels.size() == static_cast<size_t>(image.height * image.width * 3),
                "write image ", path, ": pixel buffer does not match ", image.height, "x",
                image.width);
  const int w = static_cast<int>(image.width), h = static_cast<int>(image.height);
  PMSDSEN_CHECK(stbi_write_png(path.c_str(), w, h, 3, image.pixels.data(), w * 3),
                "cannot write ", path);
}

void write_png(const std::string& path, const LabelMap& label) {
  check_dims(label.height, label.width, "label", path);
  PMSDSEN_CHECK(label.ids.size() == static_cast<size_t>(label.height * label.width),
                "write label ", path, ": buffer does not match ", label.height, "x", label.width);
  const int w = static_cast<int>(label.width), h = static_cast<int>(label.height);
  PMSDSEN_CHECK(stbi_write_png(path.c_str(), w, h, 1, label.ids.data(), w), "cannot write ", path);
}

void write_png16(const std::string& path, int64_t height, int64_t width,
                 const std::vector<uint16_t>& values) {
  check_dims(height, width, "16-bit label", path);
  PMSDSEN_CHECK(values.size() == static_cast<size_t>(height * width), "write ", path,
                ": buffer does not match ", height, "x", width);
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

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  put_be32(ihdr, static_cast<uint32_t>(width));
  put_be32(ihdr, static_cast<uint32_t>(height));
  ihdr.insert(ihdr.end(), {16, 0, 0, 0, 0});  // bit depth 16, grey, deflate, no filter, no interlace
  put_chunk(png, "IHDR", ihdr.data(), ihdr.size());
  put_chunk(png, "IDAT", z.get(), static_cast<size_t>(zlen));
  put_chunk(png, "IEND", nullptr, 0);
  write_file(path, png);
}

void check_same_size(const Image& image, const LabelMap& label, const std::string& image_path,
                     const std::string& label_path) {
  PMSDSEN_CHECK(image.height == label.height && image.width == label.width,
                "size mismatch: image ", image_path, " is ", image.width, "x", image.height,
                " but its label ", label_path, " is ", label.width, "x", label.height);
}

}  // namespace pmsdsen::data
