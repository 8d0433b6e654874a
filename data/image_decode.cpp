#include "data/image_decode.h"

#include "core/error.h"
#include "data/jpeg_decode.h"
#include "data/png_decode.h"

namespace pmsdsen::data {
namespace {

bool starts_with(const std::string& bytes, const std::string& magic, size_t at = 0) {
  return bytes.size() >= at + magic.size() && bytes.compare(at, magic.size(), magic) == 0;
}

// For the error message: what a file we do not read seems to be.
std::string other_format(const std::string& b) {
  if (b.empty()) return "an empty file";
  if (starts_with(b, "GIF8")) return "a GIF file";
  if (starts_with(b, "BM")) return "a BMP file";
  if (starts_with(b, std::string("II*\0", 4)) || starts_with(b, std::string("MM\0*", 4))) return "a TIFF file";
  if (starts_with(b, "RIFF") && starts_with(b, "WEBP", 8)) return "a WebP file";
  if (starts_with(b, "8BPS")) return "a PSD file";
  if (b.size() >= 2 && b[0] == 'P' && b[1] >= '1' && b[1] <= '7') return "a PNM (PBM/PGM/PPM) file";
  if (starts_with(b, "#?RADIANCE") || starts_with(b, "#?RGBE")) return "an HDR file";
  return "not an image this program reads";
}

std::string image_what(const std::string& name) { return "cannot read image '" + name + "'"; }
std::string label_what(const std::string& name) { return "cannot read label '" + name + "'"; }

[[noreturn]] void unsupported(const std::string& bytes, const std::string& what, const char* what_is_read) {
  PMSDSEN_FAIL(what, ": ", other_format(bytes), "; ", what_is_read);
}

}  // namespace

ImageFormat sniff_image_format(const std::string& bytes) {
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n")) return ImageFormat::Png;
  if (starts_with(bytes, "\xff\xd8\xff")) return ImageFormat::Jpeg;
  return ImageFormat::Other;
}

void check_image_size(int64_t width, int64_t height, const DecodeLimits& limits, const std::string& what) {
  PMSDSEN_CHECK(width >= 1 && height >= 1, what, ": its header declares ", width, "x", height, " pixels");
  PMSDSEN_CHECK(width <= kMaxImageSide && height <= kMaxImageSide, what, ": ", width, "x", height,
                " is more than ", kMaxImageSide, " pixels a side");
  PMSDSEN_CHECK(width * height <= limits.max_pixels, what, ": ", width, "x", height, " is ", width * height,
                " pixels, more than the ", limits.max_pixels, " allowed (--max-pixels raises the limit)");
}

Image decode_image(const std::string& bytes, const std::string& name, const DecodeLimits& limits) {
  const std::string what = image_what(name);
  switch (sniff_image_format(bytes)) {
    case ImageFormat::Png: {
      const PngHeader h = parse_png_header(bytes, what);
      check_image_size(h.width, h.height, limits, what);
      return decode_png_rgb(bytes, h, what);
    }
    case ImageFormat::Jpeg: return decode_jpeg_rgb(bytes, limits, what);
    case ImageFormat::Other: break;
  }
  unsupported(bytes, what, "only PNG and JPEG images are read");
}

RawLabel decode_raw_label(const std::string& bytes, const std::string& name, const DecodeLimits& limits) {
  const std::string what = label_what(name);
  PMSDSEN_CHECK(sniff_image_format(bytes) != ImageFormat::Jpeg, what,
                ": a JPEG; label maps must be PNG (JPEG's lossy compression changes the ids)");
  if (sniff_image_format(bytes) != ImageFormat::Png) unsupported(bytes, what, "label maps are read from PNG files");
  const PngHeader h = parse_png_header(bytes, what);
  check_image_size(h.width, h.height, limits, what);
  return decode_png_grey(bytes, h, what);
}

}  // namespace pmsdsen::data
