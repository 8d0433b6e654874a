// Cityscapes and CamVid in their official layouts, built in a temp dir.
#include <gtest/gtest.h>

#include "data/camvid.h"
#include "data/cityscapes.h"
#include "data/datasets.h"
#include "tests/test_data_util.h"

namespace pmsdsen::data {
namespace {

using test::expect_error_naming;
using test::make_dirs;
using test::TempDir;

// labelIds value at (y, x) of the test labels: a few valid ids, void ids and 255.
uint16_t planted_id(int64_t y, int64_t x) {
  static const uint16_t ids[] = {7, 8, 11, 26, 33, 0, 4, 255, 24, 21};
  return ids[(y * 5 + x) % 10];
}

struct CityscapesTree {
  TempDir dir;
  std::string root = dir.path();
  std::string image(const std::string& split, const std::string& city, const std::string& name) {
    return dir / ("leftImg8bit/" + split + "/" + city + "/" + name + "_leftImg8bit.png");
  }
  std::string label_ids(const std::string& split, const std::string& city, const std::string& name) {
    return dir / ("gtFine/" + split + "/" + city + "/" + name + "_gtFine_labelIds.png");
  }
  std::string train_ids(const std::string& split, const std::string& city, const std::string& name) {
    return dir / ("gtFine/" + split + "/" + city + "/" + name + "_gtFine_labelTrainIds.png");
  }
  void add(const std::string& split, const std::string& city, const std::string& name, int64_t h = 6,
           int64_t w = 10, bool with_image = true, bool with_label = true) {
    make_dirs(dir / ("leftImg8bit/" + split + "/" + city));
    make_dirs(dir / ("gtFine/" + split + "/" + city));
    if (with_image) write_png(image(split, city, name), test::ramp_image(h, w));
    if (with_label) {
      LabelMap l(h, w);
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) l.at(y, x) = static_cast<uint8_t>(planted_id(y, x));
      write_png(label_ids(split, city, name), l);
    }
  }
};

TEST(DataCityscapes, TrainIdTable) {
  const int valid[19] = {7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33};
  for (int t = 0; t < 19; ++t) EXPECT_EQ(cityscapes_train_id(valid[t]), t) << "id " << valid[t];
  int ignored = 0;
  for (int id = 0; id <= 33; ++id)
    if (cityscapes_train_id(id) == 255) ++ignored;
  EXPECT_EQ(ignored, 34 - 19);
  EXPECT_EQ(cityscapes_train_id(255), 255);  // the licence plate's -1 in 8 bits
  EXPECT_EQ(cityscapes_train_id(34), -1);
  EXPECT_EQ(cityscapes_train_id(254), -1);
  EXPECT_EQ(cityscapes_train_id(256), -1);
  EXPECT_EQ(cityscapes_train_id(-1), -1);
}

TEST(DataCityscapes, ListsSortedAndMapsLabelIds) {
  CityscapesTree t;
  t.add("val", "munster", "munster_000001_000019");
  t.add("val", "frankfurt", "frankfurt_000000_000294");
  t.add("val", "frankfurt", "frankfurt_000000_000576");
  t.add("train", "aachen", "aachen_000000_000019");
  test::write_bytes(t.dir / "leftImg8bit/val/frankfurt/readme.txt", "not an image");
  CityscapesDataset ds(t.root, "val");
  ASSERT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.sample_id(0), "frankfurt_000000_000294");
  EXPECT_EQ(ds.sample_id(1), "frankfurt_000000_000576");
  EXPECT_EQ(ds.sample_id(2), "munster_000001_000019");
  EXPECT_EQ(ds.num_classes(), 19);
  const Sample s = ds.sample(2);
  EXPECT_EQ(s.id, "munster_000001_000019");
  ASSERT_EQ(s.image.height, 6);
  ASSERT_EQ(s.image.width, 10);
  EXPECT_EQ(s.image.pixels, test::ramp_image(6, 10).pixels);
  for (int64_t y = 0; y < 6; ++y)
    for (int64_t x = 0; x < 10; ++x)
      ASSERT_EQ(s.label.at(y, x), cityscapes_train_id(planted_id(y, x))) << y << "," << x;
  // Spot checks against the table by hand: id 26 is car (13), 4 is void, 33 bicycle.
  EXPECT_EQ(s.label.at(0, 3), 13);
  EXPECT_EQ(s.label.at(0, 6), 255);
  EXPECT_EQ(s.label.at(0, 4), 18);
}

TEST(DataCityscapes, PrefersLabelTrainIds) {
  CityscapesTree t;
  t.add("val", "lindau", "lindau_000000_000019");
  LabelMap train(6, 10, 5);  // pole everywhere, unlike the labelIds file
  train.at(1, 1) = 255;
  write_png(t.train_ids("val", "lindau", "lindau_000000_000019"), train);
  CityscapesDataset ds(t.root, "val");
  ASSERT_EQ(ds.size(), 1);
  EXPECT_TRUE(ds.entries()[0].train_ids);
  const Sample s = ds.sample(0);
  EXPECT_EQ(s.label.at(0, 0), 5);
  EXPECT_EQ(s.label.at(1, 1), 255);
  EXPECT_EQ(s.label.at(5, 9), 5);
}

TEST(DataCityscapes, SixteenBitLabelIds) {
  CityscapesTree t;
  t.add("val", "lindau", "a", 2, 3, true, false);
  write_png16(t.label_ids("val", "lindau", "a"), 2, 3, {7, 26, 255, 0, 33, 8});
  CityscapesDataset ds(t.root, "val");
  EXPECT_EQ(ds.sample(0).label.ids, (std::vector<uint8_t>{0, 13, 255, 255, 18, 1}));

  write_png16(t.label_ids("val", "lindau", "a"), 2, 3, {7, 26, 300, 0, 33, 8});
  expect_error_naming([&] { ds.sample(0); }, {t.label_ids("val", "lindau", "a"), "300"});
}

TEST(DataCityscapes, IdOutsideTheTableIsAnErrorNamingTheFile) {
  CityscapesTree t;
  t.add("val", "lindau", "a", 4, 4, true, false);
  LabelMap l(4, 4, 7);
  l.at(2, 3) = 40;
  write_png(t.label_ids("val", "lindau", "a"), l);
  CityscapesDataset ds(t.root, "val");
  expect_error_naming([&] { ds.sample(0); }, {t.label_ids("val", "lindau", "a"), "40", "x 3, y 2"});

  LabelMap bad_train(4, 4, 3);
  bad_train.at(0, 0) = 19;
  write_png(t.train_ids("val", "lindau", "a"), bad_train);
  CityscapesDataset ds2(t.root, "val");
  expect_error_naming([&] { ds2.sample(0); }, {t.train_ids("val", "lindau", "a"), "19"});
}

TEST(DataCityscapes, MissingFolderIsNamed) {
  CityscapesTree t;
  t.add("train", "aachen", "a");
  expect_error_naming([&] { CityscapesDataset(t.root, "val"); }, {t.dir / "leftImg8bit/val"});
  std::filesystem::remove_all(t.dir / "gtFine");
  expect_error_naming([&] { CityscapesDataset(t.root, "train"); }, {t.dir / "gtFine/train"});
}

TEST(DataCityscapes, UnpairedFilesAreErrorsOrSkippedAndCounted) {
  CityscapesTree t;
  t.add("val", "bremen", "b1");
  t.add("val", "bremen", "b2", 6, 10, true, false);  // image without label
  t.add("val", "bremen", "b3", 6, 10, false, true);  // label without image
  expect_error_naming([&] { CityscapesDataset(t.root, "val"); },
                      {t.image("val", "bremen", "b2"), "no label"});
  std::filesystem::remove(t.image("val", "bremen", "b2"));
  expect_error_naming([&] { CityscapesDataset(t.root, "val"); },
                      {t.label_ids("val", "bremen", "b3"), "no image"});

  t.add("val", "bremen", "b2", 6, 10, true, false);
  CityscapesDataset ds(t.root, "val", /*skip_bad=*/true);
  EXPECT_EQ(ds.size(), 1);
  EXPECT_EQ(ds.sample_id(0), "b1");
  ASSERT_EQ(ds.skipped_at_listing().size(), 2u);
  EXPECT_NE(ds.skipped_at_listing()[0].find(t.image("val", "bremen", "b2")), std::string::npos);
  EXPECT_NE(ds.skipped_at_listing()[1].find(t.label_ids("val", "bremen", "b3")), std::string::npos);
}

TEST(DataCityscapes, SizeMismatchAndCorruptImageNameTheFiles) {
  CityscapesTree t;
  t.add("val", "ulm", "u1", 6, 10, false, true);
  write_png(t.image("val", "ulm", "u1"), test::ramp_image(6, 11));
  t.add("val", "ulm", "u2", 6, 10, false, true);
  test::write_bytes(t.image("val", "ulm", "u2"), "\x89PNG\r\n\x1a\n broken");
  CityscapesDataset ds(t.root, "val");
  expect_error_naming([&] { ds.sample(0); },
                      {t.image("val", "ulm", "u1"), t.label_ids("val", "ulm", "u1"), "11x6", "10x6"});
  expect_error_naming([&] { ds.sample(1); }, {t.image("val", "ulm", "u2")});
}

TEST(DataCityscapes, FactoryByName) {
  CityscapesTree t;
  t.add("val", "ulm", "u1");
  auto ds = make_dataset("cityscapes", t.root, "val");
  EXPECT_EQ(ds->name(), "cityscapes");
  EXPECT_EQ(ds->size(), 1);
  EXPECT_EQ(dataset_class_names("camvid").size(), 11u);
  expect_error_naming([&] { make_dataset("kitti", t.root, "val"); }, {"kitti"});
}

// ---- CamVid -------------------------------------------------------------------------------

struct CamVidTree {
  TempDir dir;
  void add(const std::string& split, const std::string& name, bool with_image = true,
           bool with_label = true, uint8_t extra = 0) {
    make_dirs(dir / split);
    make_dirs(dir / (split + "annot"));
    if (with_image) write_png(dir / (split + "/" + name + ".png"), test::ramp_image(4, 6));
    if (with_label) {
      LabelMap l(4, 6);
      for (int64_t i = 0; i < 24; ++i) l.ids[i] = static_cast<uint8_t>(i % 12);  // 0..11
      if (extra) l.ids[5] = extra;
      write_png(dir / (split + "annot/" + name + ".png"), l);
    }
  }
};

TEST(DataCamVid, ClassesKeptAndVoidIgnored) {
  CamVidTree t;
  t.add("train", "0001TP_006690");
  t.add("train", "0001TP_006720");
  CamVidDataset ds(t.dir.path(), "train");
  ASSERT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.sample_id(1), "0001TP_006720");
  EXPECT_EQ(ds.num_classes(), 11);
  const Sample s = ds.sample(0);
  for (int64_t i = 0; i < 24; ++i) {
    const int v = static_cast<int>(i % 12);
    EXPECT_EQ(s.label.ids[i], v == 11 ? 255 : v) << i;
  }
}

TEST(DataCamVid, ValueOutsideTheTableIsAnErrorNamingTheFile) {
  CamVidTree t;
  t.add("test", "Seq05VD_f00000", true, true, 12);
  CamVidDataset ds(t.dir.path(), "test");
  expect_error_naming([&] { ds.sample(0); }, {t.dir / "testannot/Seq05VD_f00000.png", "12"});
}

TEST(DataCamVid, TrainvalIsTrainThenVal) {
  CamVidTree t;
  t.add("train", "b");
  t.add("val", "a");
  CamVidDataset ds(t.dir.path(), "trainval");
  ASSERT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.sample_id(0), "b");
  EXPECT_EQ(ds.sample_id(1), "a");
}

TEST(DataCamVid, MissingFolderAndUnpairedFiles) {
  CamVidTree t;
  t.add("train", "x");
  expect_error_naming([&] { CamVidDataset(t.dir.path(), "val"); }, {t.dir / "val"});
  t.add("train", "only_image", true, false);
  t.add("train", "only_label", false, true);
  expect_error_naming([&] { CamVidDataset(t.dir.path(), "train"); }, {t.dir / "train/only_image.png"});
  CamVidDataset ds(t.dir.path(), "train", /*skip_bad=*/true);
  EXPECT_EQ(ds.size(), 1);
  ASSERT_EQ(ds.skipped_at_listing().size(), 2u);
  EXPECT_NE(ds.skipped_at_listing()[1].find(t.dir / "trainannot/only_label.png"), std::string::npos);
}

}  // namespace
}  // namespace pmsdsen::data
