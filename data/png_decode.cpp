#include "data/png_decode.h"

#include <cstdint>
#include <memory>

#include "core/error.h"
#include "data/stb.h"
#include "data/stb_alloc.h"

namespace pmsdsen::data {
namespace {

struct StbFree {
  void operator()(void* p) const { stbi_image_free(p); }
};

uint32_t be32(const std::string& b, size_t at) {
  return (uint32_t(uint8_t(b[at])) << 24) | (uint32_t(uint8_t(b[at + 1])) << 16) |
         (uint32_t(uint8_t(b[at + 2])) << 8) | uint32_t(uint8_t(b[at + 3]));
}

bool valid_depth(int colour_type, int depth) {
  switch (colour_type) {
    case 0: return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3: return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2:
    case 4:
    case 6: return depth == 8 || depth == 16;
  }
  return false;
}

// stb_image copies each IDAT chunk into a buffer it allocates on the first non-empty
// one; an empty first IDAT makes it call memcpy(NULL, ..., 0), undefined behaviour (found
// by fuzzing). No encoder writes one: it is refused before stb sees the file.
void check_first_idat(const std::string& bytes, const std::string& what) {
  size_t pos = 8;
  while (pos + 8 <= bytes.size()) {  // length and type: what stb reads before copying
    const uint32_t length = be32(bytes, pos);
    if (bytes.compare(pos + 4, 4, "IDAT") == 0) {
      PMSDSEN_CHECK(length > 0, what, ": not a valid PNG (an empty IDAT chunk before any image data)");
      return;
    }
    if (pos + 12 > bytes.size() || length > bytes.size() - pos - 12) return;  // cut short: stb reports it
    pos += 12 + length;
  }
}

std::string stb_reason() {
  const char* r = stbi_failure_reason();
  return r ? r : "unknown decoder error";
}

// What stb may allocate at once for this file: its zlib stream inflated (the stored rows
// with their filter bytes, plus slack for interlacing), the decoded image at up to 16-bit
// RGBA, the compressed data gathered from the IDAT chunks; each doubled, as stb grows its
// buffers by doubling. A stream that inflates past this is not the image its header says.
size_t allocation_cap(const PngHeader& h, size_t file_bytes) {
  const size_t w = static_cast<size_t>(h.width), ht = static_cast<size_t>(h.height);
  const size_t row = (w * h.channels() * h.bit_depth + 7) / 8 + 1;
  const size_t stored = ht * row + 7 * (ht + 8);
  const size_t decoded = w * ht * 4 * 2;
  return 2 * (stored + decoded + file_bytes) + (1u << 20);
}

std::string decode_failure(const std::string& what, const StbAllocationCap& cap, const PngHeader& h) {
  if (cap.refused())
    return str(what, ": its compressed data inflates to more than its ", h.width, "x", h.height,
               " header declares (a corrupt file or a decompression bomb)");
  return str(what, ": ", stb_reason());
}

template <class T>
std::unique_ptr<T, StbFree> load(const std::string& bytes, const PngHeader& h, int channels, const std::string& what,
                                 const StbAllocationCap& cap) {
  PMSDSEN_CHECK(bytes.size() <= static_cast<size_t>(INT32_MAX), what, ": PNG files over 2 GiB are not read");
  check_first_idat(bytes, what);
  int w = 0, ht = 0, n = 0;
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());
  T* p;
  if constexpr (sizeof(T) == 2) p = stbi_load_16_from_memory(data, len, &w, &ht, &n, channels);
  else p = stbi_load_from_memory(data, len, &w, &ht, &n, channels);
  std::unique_ptr<T, StbFree> pixels(p);
  PMSDSEN_CHECK(pixels != nullptr, decode_failure(what, cap, h));
  PMSDSEN_CHECK(w == h.width && ht == h.height, what, ": decoded as ", w, "x", ht, ", its header says ", h.width,
                "x", h.height);
  return pixels;
}

}  // namespace

int PngHeader::channels() const {
  switch (colour_type) {
    case 2: return 3;
    case 4: return 2;
    case 6: return 4;
  }
  return 1;
}

PngHeader parse_png_header(const std::string& bytes, const std::string& what) {
  PMSDSEN_CHECK(bytes.size() >= 33, what, ": truncated PNG (", bytes.size(), " bytes, less than its header)");
  PMSDSEN_CHECK(be32(bytes, 8) == 13 && bytes.compare(12, 4, "IHDR") == 0, what,
                ": not a valid PNG (its first chunk is not a 13-byte IHDR)");
  PngHeader h;
  h.width = be32(bytes, 16);
  h.height = be32(bytes, 20);
  h.bit_depth = static_cast<uint8_t>(bytes[24]);
  h.colour_type = static_cast<uint8_t>(bytes[25]);
  PMSDSEN_CHECK(valid_depth(h.colour_type, h.bit_depth), what, ": not a valid PNG (colour type ", h.colour_type,
                " with bit depth ", h.bit_depth, ")");
  PMSDSEN_CHECK(bytes[26] == 0 && bytes[27] == 0 && (bytes[28] == 0 || bytes[28] == 1), what,
                ": not a valid PNG (unknown compression, filter or interlace method)");
  return h;
}

Image decode_png_rgb(const std::string& bytes, const PngHeader& h, const std::string& what) {
  StbAllocationCap cap(allocation_cap(h, bytes.size()));
  Image image;
  image.height = h.height;
  image.width = h.width;
  const size_t n = static_cast<size_t>(h.width * h.height * 3);
  if (h.bit_depth == 16) {
    // Loaded at 16 bits and reduced here: stb's own 16-to-8 conversion is not used.
    const auto p = load<uint16_t>(bytes, h, 3, what, cap);
    image.pixels.resize(n);
    for (size_t i = 0; i < n; ++i) image.pixels[i] = static_cast<uint8_t>(p.get()[i] >> 8);
  } else {
    const auto p = load<uint8_t>(bytes, h, 3, what, cap);
    image.pixels.assign(p.get(), p.get() + n);
  }
  return image;
}

RawLabel decode_png_grey(const std::string& bytes, const PngHeader& h, const std::string& what) {
  PMSDSEN_CHECK(h.colour_type != 3, what,
                ": a palette (indexed-colour) PNG, which is not supported; save the ids as a single-channel "
                "grey PNG");
  PMSDSEN_CHECK(h.colour_type == 0, what, ": ", h.channels(),
                " channels; a label map must be a single-channel (grey) 8- or 16-bit PNG");
  PMSDSEN_CHECK(h.bit_depth == 8 || h.bit_depth == 16, what, ": a ", h.bit_depth,
                "-bit grey PNG; a label map must be 8- or 16-bit");
  StbAllocationCap cap(allocation_cap(h, bytes.size()));
  RawLabel label;
  label.height = h.height;
  label.width = h.width;
  label.bits = h.bit_depth;
  const size_t n = static_cast<size_t>(h.width * h.height);
  if (h.bit_depth == 16) {
    const auto p = load<uint16_t>(bytes, h, 1, what, cap);
    label.values.assign(p.get(), p.get() + n);
  } else {
    const auto p = load<uint8_t>(bytes, h, 1, what, cap);
    label.values.assign(p.get(), p.get() + n);
  }
  return label;
}

}  // namespace pmsdsen::data
