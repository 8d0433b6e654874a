#pragma once
// Image files built byte by byte for the decoder tests: PNGs of every colour type and
// bit depth (with palette and transparency chunks), JPEGs through libjpeg's encoder.
#include <jpeglib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "data/stb.h"

namespace pmsdsen::test {

inline void put_be32(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>(v >> s));
}

inline uint32_t png_crc(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xFFFFFFFFu;
}

inline void put_chunk(std::string& png, const std::string& type, const std::string& data) {
  put_be32(png, static_cast<uint32_t>(data.size()));
  png += type + data;
  put_be32(png, png_crc(type + data));
}

inline std::string zlib(const std::string& raw) {
  int n = 0;
  std::unique_ptr<unsigned char, decltype(&std::free)> z(
      stbi_zlib_compress(reinterpret_cast<unsigned char*>(const_cast<char*>(raw.data())), static_cast<int>(raw.size()),
                         &n, 8),
      &std::free);
  return std::string(reinterpret_cast<const char*>(z.get()), static_cast<size_t>(n));
}

// A PNG whose IHDR says width x height, `depth` bits, `colour_type`, around the zlib of
// `raw` (the filtered rows as stored: a 0 filter byte, then the packed samples, per row).
inline std::string png_file(uint32_t width, uint32_t height, int depth, int colour_type, const std::string& raw,
                            const std::string& plte = "", const std::string& trns = "") {
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  put_be32(ihdr, width);
  put_be32(ihdr, height);
  ihdr += static_cast<char>(depth);
  ihdr += static_cast<char>(colour_type);
  ihdr += std::string(3, '\0');
  put_chunk(png, "IHDR", ihdr);
  if (!plte.empty()) put_chunk(png, "PLTE", plte);
  if (!trns.empty()) put_chunk(png, "tRNS", trns);
  put_chunk(png, "IDAT", zlib(raw));
  put_chunk(png, "IEND", "");
  return png;
}

// Rows of samples (bytes already packed/big-endian) with filter byte 0 in front of each.
inline std::string png_rows(const std::vector<std::string>& rows) {
  std::string raw;
  for (const std::string& r : rows) raw += '\0' + r;
  return raw;
}

// A JPEG of `components` (1 grey, 3 RGB, 4 CMYK) from interleaved 8-bit samples.
inline std::string jpeg_file(int width, int height, int components, const std::vector<uint8_t>& samples,
                             bool progressive = false, int quality = 95) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &out, &size);
  c.image_width = width;
  c.image_height = height;
  c.input_components = components;
  c.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(samples.data()) + static_cast<size_t>(c.next_scanline) * width * components;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::string bytes(reinterpret_cast<const char*>(out), size);
  std::free(out);
  return bytes;
}

}  // namespace pmsdsen::test
