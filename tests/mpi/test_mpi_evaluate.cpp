// Validation across ranks (data/evaluate.h with a communicator): each rank predicts its
// share of the images and every rank gets the one-process confusion matrix.
#include <gtest/gtest.h>

#include <vector>

#include "data/evaluate.h"
#include "data/synthetic.h"

namespace pmsdsen::data {
namespace {

TEST(MpiEvaluate, ShardedValidationSumsToTheOneProcessConfusionMatrix) {
  SyntheticOptions so;
  so.height = 16;
  so.width = 24;
  so.val_size = 5;  // uneven over 2 ranks
  const SyntheticDataset ds("val", so);
  int calls = 0;
  // A "network" whose classes follow the red channel, so the matrix is not trivial.
  const Predictor predictor([&calls](const Tensor& image) {
    ++calls;
    const int64_t h = image.size(2), w = image.size(3);
    const std::vector<float> px = image.to_vector<float>();
    std::vector<float> logits(static_cast<size_t>(19 * h * w), 0.f);
    for (int64_t i = 0; i < h * w; ++i) logits[static_cast<size_t>((px[i] > 0 ? 0 : 2) * h * w + i)] = 1.f;
    return Tensor::from_vector(logits, {1, 19, h, w});
  }, 19);
  EvalOptions o;
  o.workers = 1;
  const EvalResult one = evaluate(ds, predictor, o);
  const int one_calls = calls;
  calls = 0;
  o.comm = &comm::world();
  int64_t last_done = 0, told_total = -1;
  o.progress = [&](int64_t done, int64_t total) {
    last_done = done;
    told_total = total;
  };
  const EvalResult all = evaluate(ds, predictor, o);
  EXPECT_EQ(last_done, told_total);  // progress counts this rank's images
  EXPECT_EQ(one.images, 5);
  EXPECT_EQ(all.images, 5);
  EXPECT_EQ(all.confusion.counts(), one.confusion.counts());
  EXPECT_GT(one.confusion.count(0, 0) + one.confusion.count(2, 2), 0);
  EXPECT_EQ(one_calls, 5);
  const int r = comm::world().rank(), n = comm::world().size();
  // This rank's share only: batches of n images, positions split as in training
  // (5 on 2 ranks: {0, 2} and {1, 3, 4}).
  EXPECT_EQ(calls, n == 1 ? 5 : n == 2 ? 2 + r : calls);
  o.limit = 3;
  const EvalResult limited = evaluate(ds, predictor, o);
  EXPECT_EQ(limited.images, 3);
}

}  // namespace
}  // namespace pmsdsen::data
