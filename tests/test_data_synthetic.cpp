// The built-in synthetic street scenes.
#include <gtest/gtest.h>

#include <set>

#include "data/baseline.h"
#include "data/datasets.h"
#include "data/synthetic.h"
#include "tests/test_data_util.h"

namespace pmsdsen::data {
namespace {

SyntheticOptions small(int64_t h, int64_t w, int64_t train, int64_t val) {
  SyntheticOptions o;
  o.height = h;
  o.width = w;
  o.train_size = train;
  o.val_size = val;
  return o;
}

TEST(DataSynthetic, DeterministicFromSeedSplitAndIndex) {
  const SyntheticOptions o = small(48, 96, 4, 3);
  SyntheticDataset a("train", o), b("train", o), val("val", o);
  const Sample s1 = a.sample(2), s2 = b.sample(2), again = a.sample(2);
  EXPECT_EQ(s1.image.pixels, s2.image.pixels);
  EXPECT_EQ(s1.label.ids, s2.label.ids);
  EXPECT_EQ(again.image.pixels, s1.image.pixels);  // from the cache
  EXPECT_EQ(s1.id, "synthetic_train_000002");
  EXPECT_NE(a.sample(1).image.pixels, s1.image.pixels);
  EXPECT_NE(val.sample(2).image.pixels, s1.image.pixels);
  SyntheticOptions other = o;
  other.seed = 7;
  other.cache = false;
  EXPECT_NE(SyntheticDataset("train", other).sample(2).image.pixels, s1.image.pixels);
  EXPECT_EQ(render_street_scene(48, 96, 123).label.ids, render_street_scene(48, 96, 123).label.ids);
  EXPECT_EQ(a.size(), 4);
  EXPECT_EQ(val.size(), 3);
  EXPECT_EQ(a.num_classes(), 19);
  test::expect_error_naming([&] { SyntheticDataset("extra", o); }, {"extra"});
}

uint64_t fnv1a(const std::vector<uint8_t>& bytes) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 1099511628211ull;
  }
  return h;
}

// The renderer's output, pinned: any change to what a scene draws changes these hashes
// (an intended change records new ones). The scenes are ones whose pixels do not depend
// on whether the compiler fuses multiply-adds: in about one scene in eight they do (an
// FMA build at -O3 and one without FMA differ by a level here and there), while the
// labels never did in 400 scenes.
TEST(DataSynthetic, ScenesArePinned) {
  struct Pinned {
    int64_t height, width;
    uint64_t seed, pixels, labels;
  };
  const Pinned scenes[] = {
      {64, 128, 3, 0xbd434b643259bfd8ull, 0xc2d4bbfe4585f085ull},
      {96, 200, 7922, 0xf768865724ecf85cull, 0xdb9128a74170aa4eull},
      {128, 256, 15841, 0x196bd21d735a1be5ull, 0x9faf7ee14ca2bdc8ull},
      {48, 96, 23760, 0x6b05509ab276d4d1ull, 0x3bcb3725eec3ee02ull},
      {200, 104, 31679, 0xc577b32a88949dafull, 0x37299ebe5f1bc23eull},
      {256, 512, 39598, 0x43f93a044ccd2491ull, 0x1b9c8ffe312d3e2cull},
  };
  for (const Pinned& p : scenes) {
    const Sample s = render_street_scene(p.height, p.width, p.seed);
    EXPECT_EQ(fnv1a(s.image.pixels), p.pixels) << p.width << "x" << p.height << " seed " << p.seed;
    EXPECT_EQ(fnv1a(s.label.ids), p.labels) << p.width << "x" << p.height << " seed " << p.seed;
  }
}

TEST(DataSynthetic, AnyResolutionWithStreetLayoutAndManyClasses) {
  std::set<int> classes;
  int64_t sky_top = 0, ground_bottom = 0, top_total = 0, bottom_total = 0;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    const int64_t h = seed % 2 ? 96 : 128, w = seed % 2 ? 200 : 256;
    const Sample s = render_street_scene(h, w, seed);
    ASSERT_EQ(s.image.height, h);
    ASSERT_EQ(s.image.width, w);
    ASSERT_EQ(s.label.height, h);
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const uint8_t c = s.label.at(y, x);
        ASSERT_TRUE(c < 19 || c == kIgnoreLabel) << int(c);
        classes.insert(c);
        if (y < h / 10) {
          ++top_total;
          sky_top += c == 10 || c == 2 || c == 8;  // sky, building or trees above
        }
        if (y >= h - h / 10) {
          ++bottom_total;
          ground_bottom += c == 0 || c == 1 || c == 9 || c == 13 || c == kIgnoreLabel;
        }
      }
  }
  // road, sidewalk, building, pole, vegetation, sky, car at least; persons, signs and
  // lights are small and need not appear at this size in every draw.
  for (int c : {0, 1, 2, 5, 8, 10, 13}) EXPECT_TRUE(classes.count(c)) << "class " << c;
  EXPECT_GE(classes.size(), 9u);
  EXPECT_GT(sky_top, top_total * 9 / 10);
  EXPECT_GT(ground_bottom, bottom_total * 8 / 10);
}

TEST(DataSynthetic, TheSmallClassesAppearAcrossScenes) {
  std::set<int> classes;
  for (uint64_t seed = 0; seed < 12; ++seed)
    for (uint8_t c : render_street_scene(128, 256, 1000 + seed).label.ids) classes.insert(c);
  for (int c : {3, 4, 6, 7, 9, 11}) EXPECT_TRUE(classes.count(c)) << "class " << c;
}

TEST(DataSynthetic, ColourAloneDoesNotSolveIt) {
  const SyntheticOptions o = small(64, 128, 12, 6);
  SyntheticDataset train("train", o), val("val", o);
  const double miou = colour_baseline_miou(train, val);
  EXPECT_GT(miou, 0.0);
  EXPECT_LT(miou, 0.3);
}

TEST(DataSynthetic, FactoryIgnoresTheRoot) {
  DatasetOptions o;
  o.synthetic = small(32, 64, 5, 2);
  auto ds = make_dataset("synthetic", "", "val", o);
  EXPECT_EQ(ds->name(), "synthetic");
  EXPECT_EQ(ds->size(), 2);
  EXPECT_EQ(ds->palette()[10], (Rgb{0, 130, 180}));
}

}  // namespace
}  // namespace pmsdsen::data
