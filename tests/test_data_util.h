#pragma once
// Helpers for the data tests: temporary folders, dataset layouts written at test time,
// and an in-memory dataset with planted patterns.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/dataset.h"
#include "data/image.h"
#include "data/palette.h"

namespace pmsdsen::test {

// A fresh folder under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pmsdsen_data_XXXXXX").string();
    PMSDSEN_CHECK(mkdtemp(tmpl.data()) != nullptr, "mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return (std::filesystem::path(path_) / rel).string(); }

 private:
  std::string path_;
};

inline void make_dirs(const std::string& path) { std::filesystem::create_directories(path); }

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// An image whose pixel (y, x) has colour (x * 7 + y) % 256, (y * 5) % 256, (x + y * 3) % 256.
inline data::Image ramp_image(int64_t h, int64_t w) {
  data::Image im(h, w);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      im.at(y, x)[0] = static_cast<uint8_t>((x * 7 + y) % 256);
      im.at(y, x)[1] = static_cast<uint8_t>((y * 5) % 256);
      im.at(y, x)[2] = static_cast<uint8_t>((x + y * 3) % 256);
    }
  return im;
}

// The colour planted for class c in the block patterns (distinct for c < 32).
inline data::Rgb class_colour(int c) {
  return {static_cast<uint8_t>(40 + (c * 53) % 200), static_cast<uint8_t>(30 + (c * 97) % 210),
          static_cast<uint8_t>(20 + (c * 31) % 220)};
}

// Blocks of `block` pixels, each of one class in [0, classes) drawn from `seed`,
// painted with class_colour: the label is a function of the pixel colour.
inline void block_pattern(int64_t h, int64_t w, int64_t block, int classes, uint32_t seed,
                          data::Image& image, data::LabelMap& label) {
  image = data::Image(h, w);
  label = data::LabelMap(h, w);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      uint32_t v = static_cast<uint32_t>((y / block) * 7919 + (x / block) * 104729) ^ seed;
      v = (v ^ (v >> 13)) * 0x5bd1e995u;
      v ^= v >> 15;
      const int c = static_cast<int>(v % static_cast<uint32_t>(classes));
      const data::Rgb rgb = class_colour(c);
      for (int k = 0; k < 3; ++k) image.at(y, x)[k] = rgb[k];
      label.at(y, x) = static_cast<uint8_t>(c);
    }
}

// In-memory dataset: sample i is a block pattern (seeded by i) of h x w, with id
// "pattern_<i>"; samples listed in `bad` throw an Error naming "bad_<i>.png".
class PatternDataset : public data::Dataset {
 public:
  PatternDataset(int64_t n, int64_t h, int64_t w, std::set<int64_t> bad = {}, bool skip_bad = false,
                 int classes = 5)
      : Dataset(skip_bad), n_(n), h_(h), w_(w), bad_(std::move(bad)), classes_(classes) {
    for (int c = 0; c < classes; ++c) {
      names_.push_back("class" + std::to_string(c));
      palette_.push_back(class_colour(c));
    }
  }
  std::string name() const override { return "pattern"; }
  std::string split() const override { return "train"; }
  int64_t size() const override { return n_; }
  std::string sample_id(int64_t i) const override { return "pattern_" + std::to_string(i); }
  data::Sample sample(int64_t i) const override {
    check_index(i);
    calls.fetch_add(1);
    if (bad_.count(i)) PMSDSEN_FAIL("cannot read image bad_", i, ".png: corrupt");
    data::Sample s;
    block_pattern(h_, w_, 4, classes_, static_cast<uint32_t>(i) * 2654435761u, s.image, s.label);
    s.id = sample_id(i);
    return s;
  }
  const std::vector<std::string>& class_names() const override { return names_; }
  const std::vector<data::Rgb>& palette() const override { return palette_; }

  mutable std::atomic<int64_t> calls{0};

 private:
  int64_t n_, h_, w_;
  std::set<int64_t> bad_;
  int classes_;
  std::vector<std::string> names_;
  std::vector<data::Rgb> palette_;
};

// Expects `f` to throw pmsdsen::Error whose message contains every one of `parts`.
template <class F>
void expect_error_naming(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no error thrown; expected one naming " << parts.front();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const std::string& p : parts)
      EXPECT_NE(msg.find(p), std::string::npos) << "message does not name '" << p << "': " << msg;
  }
}

}  // namespace pmsdsen::test
