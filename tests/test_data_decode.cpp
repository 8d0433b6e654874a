// The image decoders on every PNG colour type and bit depth, JPEG kinds, and hostile
// files: other formats under a .png name, sizes past the limits, decompression bombs,
// truncated and corrupt data. Every error names the file and says why.
#include <gtest/gtest.h>

#include "data/image.h"
#include "data/image_decode.h"
#include "tests/test_data_util.h"
#include "tests/test_image_bytes.h"
#include "tests/test_util.h"

namespace pmsdsen::data {
namespace {

using test::png_file;
using test::png_rows;

std::vector<uint8_t> rgb(const Image& im) { return im.pixels; }

std::string decode_error(const std::string& bytes, const DecodeLimits& limits = {}) {
  return test::error_of([&] { decode_image(bytes, "x.png", limits); });
}

std::string label_error(const std::string& bytes) {
  return test::error_of([&] { decode_raw_label(bytes, "l.png"); });
}

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

TEST(DataDecode, PngColourTypesAndDepthsBecomeRgb) {
  // grey 8
  EXPECT_EQ(rgb(decode_image(png_file(3, 1, 8, 0, png_rows({{"\x00\x64\xff", 3}})), "g8")),
            (std::vector<uint8_t>{0, 0, 0, 100, 100, 100, 255, 255, 255}));
  // grey 16: the high byte
  EXPECT_EQ(rgb(decode_image(png_file(2, 1, 16, 0, png_rows({{"\x12\x34\xff\x01", 4}})), "g16")),
            (std::vector<uint8_t>{0x12, 0x12, 0x12, 0xff, 0xff, 0xff}));
  // grey 1: bits scaled to 0 / 255
  EXPECT_EQ(rgb(decode_image(png_file(3, 1, 1, 0, png_rows({{"\xa0", 1}})), "g1")),
            (std::vector<uint8_t>{255, 255, 255, 0, 0, 0, 255, 255, 255}));
  // grey + alpha: alpha dropped
  EXPECT_EQ(rgb(decode_image(png_file(2, 1, 8, 4, png_rows({{"\x10\x00\x20\xff", 4}})), "ga")),
            (std::vector<uint8_t>{16, 16, 16, 32, 32, 32}));
  // RGB 16
  EXPECT_EQ(rgb(decode_image(png_file(1, 1, 16, 2, png_rows({{"\x01\x02\x03\x04\x05\x06", 6}})), "rgb16")),
            (std::vector<uint8_t>{1, 3, 5}));
  // RGBA 8 (two rows)
  EXPECT_EQ(rgb(decode_image(png_file(1, 2, 8, 6, png_rows({{"\x01\x02\x03\x00", 4}, {"\x07\x08\x09\x80", 4}})),
                             "rgba")),
            (std::vector<uint8_t>{1, 2, 3, 7, 8, 9}));
  // palette 8 with transparency, and palette 2 (four 2-bit indices in one byte)
  const std::string plte("\x0a\x0b\x0c\x14\x15\x16\x1e\x1f\x20\x28\x29\x2a", 12);
  EXPECT_EQ(rgb(decode_image(png_file(2, 1, 8, 3, png_rows({{"\x02\x00", 2}}), plte, "\x00\xff"), "p8")),
            (std::vector<uint8_t>{30, 31, 32, 10, 11, 12}));
  EXPECT_EQ(rgb(decode_image(png_file(4, 1, 2, 3, png_rows({{"\x1b", 1}}), plte), "p2")),
            (std::vector<uint8_t>{10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42}));
}

TEST(DataDecode, LabelsMustBeEightOrSixteenBitGreyPng) {
  const RawLabel l16 = decode_raw_label(png_file(2, 1, 16, 0, png_rows({{"\x01\x00\x00\x21", 4}})), "l16");
  EXPECT_EQ(l16.bits, 16);
  EXPECT_EQ(l16.values, (std::vector<uint16_t>{256, 33}));
  const std::string plte("\x0a\x0b\x0c\x14\x15\x16", 6);
  EXPECT_HAS(label_error(png_file(2, 1, 8, 3, png_rows({{"\x01\x00", 2}}), plte)),
             "cannot read label 'l.png': a palette (indexed-colour) PNG, which is not supported");
  EXPECT_HAS(label_error(png_file(2, 1, 4, 0, png_rows({{"\x12", 1}}))),
             "cannot read label 'l.png': a 4-bit grey PNG; a label map must be 8- or 16-bit");
  EXPECT_HAS(label_error(png_file(1, 1, 8, 4, png_rows({{"\x01\x02", 2}}))),
             "cannot read label 'l.png': 2 channels; a label map must be a single-channel");
  EXPECT_HAS(label_error(test::jpeg_file(8, 8, 1, std::vector<uint8_t>(64, 3))),
             "cannot read label 'l.png': a JPEG; label maps must be PNG");
}

TEST(DataDecode, OtherFormatsAreRefusedWhateverTheirName) {
  // The 16-bit PGM: stb read past its buffer converting it to 8 bits.
  const std::string pgm = "P5\n4 4\n65535\n" + std::string(32, '\x7f');
  EXPECT_HAS(decode_error(pgm), "cannot read image 'x.png': a PNM (PBM/PGM/PPM) file; only PNG and JPEG images are read");
  EXPECT_HAS(label_error(pgm), "cannot read label 'l.png': a PNM (PBM/PGM/PPM) file; label maps are read from PNG files");
  // A 127-byte GIF declaring 5604x53502.
  std::string gif = "GIF89a";
  gif += std::string("\xe4\x15\xfe\xd0\xf7\x00\x00", 7) + std::string(114, '\0');
  EXPECT_HAS(decode_error(gif), "a GIF file; only PNG and JPEG images are read");
  EXPECT_HAS(decode_error("BM" + std::string(60, '\0')), "a BMP file");
  EXPECT_HAS(decode_error(""), "cannot read image 'x.png': an empty file");
  EXPECT_HAS(decode_error("plain text"), "not an image this program reads");
}

TEST(DataDecode, FoldersAndMissingFilesAreNamed) {
  test::TempDir dir;
  EXPECT_HAS(test::error_of([&] { read_image(dir.path()); }), "cannot read image '" + dir.path() + "': is a directory");
  EXPECT_HAS(test::error_of([&] { read_raw_label(dir.path()); }), "cannot read label '" + dir.path() + "': is a directory");
  EXPECT_HAS(test::error_of([&] { read_image(dir / "none.png"); }), "No such file or directory");
}

// A PNG that declares width x height but holds a few bytes of data.
std::string declared_png(uint32_t width, uint32_t height) { return png_file(width, height, 8, 2, std::string(100, '\0')); }

TEST(DataDecode, SizesPastTheLimitsAreRefusedFromTheHeader) {
  EXPECT_HAS(decode_error(declared_png(8000, 8000)),
             "cannot read image 'x.png': 8000x8000 is 64000000 pixels, more than the 40000000 allowed "
             "(--max-pixels raises the limit)");
  EXPECT_HAS(decode_error(declared_png(20000, 20000)), "20000x20000 is 400000000 pixels");
  EXPECT_HAS(decode_error(declared_png(70000, 1)), "70000x1 is more than 65535 pixels a side");
  EXPECT_HAS(decode_error(declared_png(0, 5)), "its header declares 0x5 pixels");
  EXPECT_HAS(label_error(declared_png(8000, 8000)), "cannot read label 'l.png': 8000x8000 is 64000000 pixels");

  // The limit is the caller's: 100x100 passes 10,000 and fails 9,999.
  const std::string png = png_file(100, 100, 8, 0, png_rows(std::vector<std::string>(100, std::string(100, 'a'))));
  EXPECT_EQ(decode_image(png, "ok", DecodeLimits{10000}).height, 100);
  EXPECT_HAS(decode_error(png, DecodeLimits{9999}), "100x100 is 10000 pixels, more than the 9999 allowed");

  // An 896-byte-style JPEG whose frame header declares 9489x11020.
  std::string jpeg = test::jpeg_file(16, 8, 3, std::vector<uint8_t>(16 * 8 * 3, 90));
  const size_t sof = jpeg.find("\xff\xc0");
  ASSERT_NE(sof, std::string::npos);
  jpeg[sof + 5] = static_cast<char>(11020 >> 8);
  jpeg[sof + 6] = static_cast<char>(11020 & 0xff);
  jpeg[sof + 7] = static_cast<char>(9489 >> 8);
  jpeg[sof + 8] = static_cast<char>(9489 & 0xff);
  EXPECT_HAS(decode_error(jpeg), "cannot read image 'x.png': 9489x11020 is 104568780 pixels, more than the 40000000");
}

TEST(DataDecode, APngThatInflatesPastItsHeaderIsRefused) {
  // 16x16 RGB is 784 bytes of rows; this stream inflates to 8 MB.
  const std::string bomb = png_file(16, 16, 8, 2, std::string(8 << 20, '\0'));
  EXPECT_LT(bomb.size(), 100000u);  // a hundred times smaller than what it inflates to
  EXPECT_HAS(decode_error(bomb), "its compressed data inflates to more than its 16x16 header declares");
  // Too little data is an error too.
  EXPECT_HAS(decode_error(png_file(16, 16, 8, 2, std::string(100, '\0'))), "cannot read image 'x.png'");
}

TEST(DataDecode, InputsThatOnceCrashedAreErrors) {
  // Each file of tests/fuzz/corpus/*/crash-* is decoded here too, under the test build's
  // sanitizers, with the error it must give.
  const std::string dir = std::string(PMSDSEN_FIXTURES_DIR) + "/../fuzz/corpus/";
  EXPECT_HAS(label_error(test::read_bytes(dir + "label/crash-empty-first-idat")),
             "cannot read label 'l.png': not a valid PNG (an empty IDAT chunk before any image data)");
  EXPECT_HAS(decode_error(test::read_bytes(dir + "image/crash-empty-first-idat")), "an empty IDAT chunk");
  // The same cut off after the chunk's type.
  EXPECT_HAS(label_error(test::read_bytes(dir + "label/crash-empty-first-idat-truncated")), "an empty IDAT chunk");
  EXPECT_HAS(decode_error(test::read_bytes(dir + "image/crash-empty-first-idat-truncated-rgba")),
             "an empty IDAT chunk");
}

TEST(DataDecode, JpegKinds) {
  std::vector<uint8_t> colour(32 * 16 * 3);
  for (size_t i = 0; i < colour.size(); ++i) colour[i] = static_cast<uint8_t>(i % 3 == 0 ? 200 : i % 3 == 1 ? 60 : 30);
  for (bool progressive : {false, true}) {
    const Image im = decode_image(test::jpeg_file(32, 16, 3, colour, progressive), "c.jpg");
    ASSERT_EQ(im.width, 32);
    ASSERT_EQ(im.height, 16);
    for (size_t i = 0; i < colour.size(); ++i) ASSERT_NEAR(im.pixels[i], colour[i], 4) << i;
  }
  const Image grey = decode_image(test::jpeg_file(8, 8, 1, std::vector<uint8_t>(64, 77)), "g.jpg");
  for (size_t i = 0; i < grey.pixels.size(); ++i) ASSERT_NEAR(grey.pixels[i], 77, 2) << i;

  EXPECT_HAS(decode_error(test::jpeg_file(8, 8, 4, std::vector<uint8_t>(256, 10))),
             "cannot read image 'x.png': CMYK JPEGs are not read");
  // Cut short: an error, not an image padded with grey.
  std::vector<uint8_t> noisy(64 * 64 * 3);
  uint32_t s = 7;
  for (uint8_t& v : noisy) v = static_cast<uint8_t>((s = s * 1664525u + 1013904223u) >> 24);
  const std::string full = test::jpeg_file(64, 64, 3, noisy);
  EXPECT_HAS(decode_error(full.substr(0, full.size() / 2)), "Premature end of JPEG file");
  EXPECT_HAS(decode_error(full.substr(0, 40)), "cannot read image 'x.png'");

  // An oversized Huffman table (stb wrote past its arrays on one): counts summing to
  // 16 x 255 codes where a table holds 256.
  std::string dht = test::jpeg_file(16, 16, 3, noisy, true);
  const size_t at = dht.find("\xff\xc4");
  ASSERT_NE(at, std::string::npos);
  for (size_t i = 0; i < 16; ++i) dht[at + 5 + i] = '\xff';
  EXPECT_HAS(decode_error(dht), "cannot read image 'x.png': Bogus Huffman table definition");
}

}  // namespace
}  // namespace pmsdsen::data
