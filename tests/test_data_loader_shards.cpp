// The loader's shards (data parallelism): the slices of a batch, each rank's, together
// are the one-process batch, sample for sample and pixel for pixel, augmentation on.
#include <gtest/gtest.h>

#include <vector>

#include "data/loader.h"
#include "data/synthetic.h"
#include "tests/test_util.h"

namespace pmsdsen::data {
namespace {

SyntheticDataset scenes() {
  SyntheticOptions o;
  o.height = 24;
  o.width = 40;
  o.train_size = 11;
  return SyntheticDataset("train", o);
}

LoaderConfig config(int64_t shard, int64_t shards) {
  LoaderConfig c;
  c.batch_size = 5;
  c.workers = 1;
  c.seed = 7;
  c.augmentation.crop_width = 32;
  c.augmentation.crop_height = 16;
  c.augmentation.color_jitter = true;
  c.shard = shard;
  c.shards = shards;
  return c;
}

TEST(DataLoaderShards, TheSlicesOfABatchAreTheWholeBatch) {
  const SyntheticDataset ds = scenes();
  const Loader whole(ds, config(0, 1));
  const Loader first(ds, config(0, 2)), second(ds, config(1, 2));
  for (int64_t it : {0, 1, 3}) {  // epoch 0 and 1 (two batches of 5 an epoch)
    const Batch w = whole.build_batch(it), a = first.build_batch(it), b = second.build_batch(it);
    ASSERT_EQ(a.images.size(0), 2);  // 5 on 2 ranks: 2 and 3
    ASSERT_EQ(b.images.size(0), 3);
    std::vector<int64_t> indices = a.indices;
    indices.insert(indices.end(), b.indices.begin(), b.indices.end());
    EXPECT_EQ(indices, w.indices) << "iteration " << it;
    EXPECT_EQ(first.batch_indices(it), a.indices);
    std::vector<float> pixels = a.images.to_vector<float>(), bp = b.images.to_vector<float>();
    pixels.insert(pixels.end(), bp.begin(), bp.end());
    EXPECT_EQ(pixels, w.images.to_vector<float>()) << "iteration " << it;
    std::vector<int64_t> labels = a.labels.to_vector<int64_t>(), bl = b.labels.to_vector<int64_t>();
    labels.insert(labels.end(), bl.begin(), bl.end());
    EXPECT_EQ(labels, w.labels.to_vector<int64_t>()) << "iteration " << it;
  }
}

TEST(DataLoaderShards, MoreShardsThanSamplesLeaveSomeEmptyAndABadShardIsRefused) {
  const SyntheticDataset ds = scenes();
  LoaderConfig c = config(3, 4);
  c.batch_size = 3;  // positions [3*3/4, 3*4/4) = [2, 3): one sample; shard 0: [0, 0), none
  EXPECT_EQ(Loader(ds, c).build_batch(0).indices.size(), 1u);
  c.shard = 0;
  EXPECT_FALSE(Loader(ds, c).build_batch(0).images.defined());
  c.shard = 4;
  EXPECT_NE(test::error_of([&] { Loader l(ds, c); }).find("loader: shard 4 of 4 (expected 0 <= shard < shards)"),
            std::string::npos);
}

}  // namespace
}  // namespace pmsdsen::data
