// The threaded batch loader: order, reproducibility, resumption, errors, skipping.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <thread>

#include "data/cityscapes.h"
#include "data/loader.h"
#include "data/synthetic.h"
#include "tests/test_data_util.h"
#include "tests/test_limits.h"

namespace pmsdsen::data {
namespace {

LoaderConfig small_config(int64_t batch, int workers, uint64_t seed) {
  LoaderConfig c;
  c.batch_size = batch;
  c.workers = workers;
  c.seed = seed;
  c.augmentation.crop_height = 12;
  c.augmentation.crop_width = 16;
  c.augmentation.scale_min = 0.5;
  c.augmentation.scale_max = 1.5;
  c.augmentation.color_jitter = true;
  return c;
}

bool same_batch(const Batch& a, const Batch& b) {
  return a.iteration == b.iteration && a.epoch == b.epoch && a.indices == b.indices &&
         a.images.to_vector<float>() == b.images.to_vector<float>() &&
         a.labels.to_vector<int64_t>() == b.labels.to_vector<int64_t>();
}

TEST(DataLoader, BatchesHaveTheTrainingShapesAndTypes) {
  test::PatternDataset ds(10, 20, 24);
  Loader loader(ds, small_config(4, 2, 1));
  EXPECT_EQ(loader.batches_per_epoch(), 2);  // drop_last
  const Batch b = *loader.next();
  EXPECT_EQ(b.images.shape(), (Shape{4, 3, 12, 16}));
  EXPECT_EQ(b.images.dtype(), DType::F32);
  EXPECT_EQ(b.labels.shape(), (Shape{4, 12, 16}));
  EXPECT_EQ(b.labels.dtype(), DType::I64);
  EXPECT_EQ(b.iteration, 0);
  EXPECT_EQ(b.epoch, 0);
  ASSERT_EQ(b.ids.size(), 4u);
  EXPECT_EQ(b.ids[0], "pattern_" + std::to_string(b.indices[0]));
  for (int64_t v : b.labels.to_vector<int64_t>()) ASSERT_TRUE((v >= 0 && v < 5) || v == 255);
  const Batch b1 = *loader.next();
  EXPECT_EQ(b1.iteration, 1);
  const Batch b2 = *loader.next();
  EXPECT_EQ(b2.epoch, 1);
  EXPECT_EQ(b2.iteration, 2);
}

TEST(DataLoader, EachEpochIsASeededPermutation) {
  const std::vector<int64_t> a = epoch_order(50, 3, 0, true), b = epoch_order(50, 3, 0, true);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, epoch_order(50, 3, 1, true));
  EXPECT_NE(a, epoch_order(50, 4, 0, true));
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_EQ(epoch_order(4, 3, 0, false), (std::vector<int64_t>{0, 1, 2, 3}));

  // Without drop_last the last batch is short and every sample comes exactly once.
  test::PatternDataset ds(7, 8, 8);
  LoaderConfig c = small_config(3, 2, 5);
  c.drop_last = false;
  c.augment = false;
  c.epochs = 1;
  Loader loader(ds, c);
  std::vector<int64_t> seen;
  int64_t batches = 0;
  while (auto b = loader.next()) {
    seen.insert(seen.end(), b->indices.begin(), b->indices.end());
    EXPECT_EQ(b->images.size(0), static_cast<int64_t>(b->indices.size()));
    ++batches;
  }
  EXPECT_EQ(batches, 3);
  EXPECT_EQ(seen, epoch_order(7, 5, 0, true));
}

TEST(DataLoader, ResumingAtIterationKGivesTheSameBatches) {
  test::PatternDataset ds(9, 20, 24);
  std::vector<Batch> straight;
  {
    Loader loader(ds, small_config(2, 1, 42));
    for (int i = 0; i < 10; ++i) straight.push_back(*loader.next());  // crosses two epochs
  }
  LoaderConfig resumed = small_config(2, 3, 42);
  resumed.start_iteration = 6;
  Loader loader(ds, resumed);
  for (int i = 6; i < 10; ++i) {
    const Batch b = *loader.next();
    EXPECT_TRUE(same_batch(b, straight[i])) << "iteration " << i;
  }
  // Another seed gives other batches.
  Loader other(ds, small_config(2, 2, 43));
  EXPECT_FALSE(same_batch(*other.next(), straight[0]));
}

TEST(DataLoader, AWorkerErrorReachesNextWithTheFileName) {
  test::PatternDataset ds(6, 16, 16, {3});
  LoaderConfig c = small_config(6, 2, 1);
  c.shuffle = false;
  Loader loader(ds, c);
  test::expect_error_naming([&] { loader.next(); }, {"bad_3.png", "pattern train sample 3"});
}

TEST(DataLoader, SkipBadShrinksTheBatchAndCounts) {
  test::PatternDataset ds(6, 16, 16, {1, 4}, /*skip_bad=*/true);
  LoaderConfig c = small_config(3, 2, 1);
  c.shuffle = false;
  c.epochs = 2;
  Loader loader(ds, c);
  const Batch b0 = *loader.next();
  EXPECT_EQ(b0.indices, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(b0.images.size(0), 2);
  ASSERT_EQ(b0.skipped.size(), 1u);
  EXPECT_NE(b0.skipped[0].find("bad_1.png"), std::string::npos);
  const Batch b1 = *loader.next();
  EXPECT_EQ(b1.indices, (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(loader.skipped(), 2);
  loader.next();
  loader.next();
  EXPECT_FALSE(loader.next().has_value());
  EXPECT_EQ(loader.skipped(), 4);
  EXPECT_EQ(loader.skipped_log().size(), 4u);

  // A batch with no good sample is passed over; a whole epoch of them is an error.
  test::PatternDataset all_bad(4, 8, 8, {0, 1, 2, 3}, true);
  Loader doomed(all_bad, small_config(2, 1, 1));
  test::expect_error_naming([&] { doomed.next(); }, {"every sample", "bad_"});
}

TEST(DataLoader, SkipBadRefillsTrainingBatchesFromTheFollowingSamples) {
  test::PatternDataset ds(6, 16, 16, {1}, /*skip_bad=*/true);
  LoaderConfig c = small_config(2, 1, 1);
  c.shuffle = false;
  c.refill_skipped = true;
  Loader loader(ds, c);
  const Batch b0 = loader.build_batch(0);
  EXPECT_EQ(b0.indices, (std::vector<int64_t>{0, 2}));  // 1 is bad: 2, the next, takes its place
  EXPECT_EQ(b0.images.size(0), 2);
  ASSERT_EQ(b0.skipped.size(), 1u);
  EXPECT_NE(b0.skipped[0].find("bad_1.png"), std::string::npos);
  // A function of (seed, iteration) alone, whatever the workers: the same batch again,
  // and 2's refill draw differs from its own batch's.
  EXPECT_TRUE(same_batch(b0, loader.build_batch(0)));
  const Batch b1 = loader.build_batch(1);
  EXPECT_EQ(b1.indices, (std::vector<int64_t>{2, 3}));
  const std::vector<float> v0 = b0.images.to_vector<float>(), v1 = b1.images.to_vector<float>();
  const size_t one = v0.size() / 2;
  EXPECT_NE(std::vector<float>(v0.begin() + one, v0.end()), std::vector<float>(v1.begin(), v1.begin() + one));
  // Not enough good samples in the epoch: the batch is as full as it can be.
  test::PatternDataset mostly_bad(4, 8, 8, {0, 1, 2}, true);
  LoaderConfig cb = small_config(2, 1, 1);
  cb.shuffle = false;
  cb.refill_skipped = true;
  Loader sparse(mostly_bad, cb);
  EXPECT_EQ(sparse.build_batch(0).indices, (std::vector<int64_t>{3}));
}

TEST(DataLoader, WorkersTheSystemCannotStartAreAnErrorNotAnAbort) {
  test::PatternDataset ds(8, 16, 16);
  LoaderConfig c = small_config(2, 100000, 1);
  const std::string err = test::error_with_address_space_limit(256 << 20, [&] { Loader loader(ds, c); });
  EXPECT_NE(err.find("loader: could start only "), std::string::npos) << err;
  EXPECT_NE(err.find(" of 100000 worker threads"), std::string::npos) << err;
  EXPECT_NE(err.find("use fewer workers"), std::string::npos) << err;
}

TEST(DataLoader, TheQueueIsBounded) {
  test::PatternDataset ds(100, 16, 16);
  LoaderConfig c = small_config(2, 3, 1);
  c.queue_batches = 3;
  Loader loader(ds, c);
  loader.next();
  // One batch taken: the workers fill the queue (1 + 3 batches of 2 samples) and stop.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ds.calls.load() < 8 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(ds.calls.load(), 8);
}

TEST(DataLoader, ShutsDownWhileWorkersWait) {
  test::PatternDataset ds(100, 16, 16);
  for (int i = 0; i < 5; ++i) {
    Loader loader(ds, small_config(4, 2, i));
    if (i % 2) loader.next();
  }  // destructors join without consuming the queue
  SUCCEED();
}

// Throughput at Cityscapes resolution: PNG decode of 1024x2048 images and labels plus
// augmentation to 1024x512 crops, 2 workers. Run with --gtest_also_run_disabled_tests.
TEST(DataLoaderBench, DISABLED_Throughput1024x2048) {
  test::TempDir dir;
  const int n = 8;
  test::make_dirs(dir / "leftImg8bit/train/synth");
  test::make_dirs(dir / "gtFine/train/synth");
  for (int i = 0; i < n; ++i) {
    const Sample s = render_street_scene(1024, 2048, 100 + i);
    const std::string name = "synth_" + std::to_string(i);
    write_png(dir / ("leftImg8bit/train/synth/" + name + "_leftImg8bit.png"), s.image);
    write_png(dir / ("gtFine/train/synth/" + name + "_gtFine_labelTrainIds.png"), s.label);
  }
  CityscapesDataset ds(dir.path(), "train");
  LoaderConfig c;
  c.batch_size = 2;
  c.workers = 2;
  c.augmentation.crop_height = 512;
  c.augmentation.crop_width = 1024;
  c.augmentation.scale_min = 0.35;
  c.augmentation.scale_max = 1.0;
  c.augmentation.color_jitter = true;
  Loader loader(ds, c);
  loader.next();  // warm-up
  const int batches = 20;
  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t cpu0 = std::clock();
  for (int i = 0; i < batches; ++i) loader.next();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  const int images = batches * static_cast<int>(c.batch_size);
  std::printf("loader: %.1f images/s (1024x2048 PNG decode + augment to 1024x512, 2 workers, "
              "%u hw threads); %.0f ms of CPU per image\n",
              images / s, std::thread::hardware_concurrency(), 1000.0 * cpu / images);
}

}  // namespace
}  // namespace pmsdsen::data
