#pragma once
// The batch loader: worker threads decode and augment samples into a bounded queue of
// ready batches, which next() hands out in order.
//
// Batches are numbered by a global iteration i: epoch e = i / batches_per_epoch holds
// the samples of a permutation drawn from (seed, e), and each sample's augmentation
// draws from Generator::derive(seed, {e, index}). A batch therefore depends only on
// (seed, i): a run resumed with start_iteration = k sees exactly the batches an
// uninterrupted run sees from iteration k, whatever the number of workers.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "data/augment.h"
#include "data/dataset.h"

namespace pmsdsen::data {

struct LoaderConfig {
  int64_t batch_size = 8;
  int workers = 2;
  uint64_t seed = 0;
  bool shuffle = true;
  bool drop_last = true;
  // true: training samples (AugmentConfig); false: evaluation samples, full size,
  // normalisation only (every image of a batch must then have the same size).
  bool augment = true;
  AugmentConfig augmentation;
  Normalization normalization;
  int64_t queue_batches = 4;    // ready or in-progress batches ahead of the consumer, at most
  int64_t start_iteration = 0;  // resume: the first batch next() returns
  int64_t epochs = 0;           // next() ends after this many epochs; 0: never
  // With the dataset's skip_bad: a skipped sample's place is taken by the next samples
  // in the epoch's order after the batch (training: batches keep their size, which
  // batch normalisation needs). Off: the batch is smaller (evaluation: each sample once).
  bool refill_skipped = false;
  // Data parallelism: this process's slice of every batch, positions
  // [n * shard / shards, n * (shard + 1) / shards) of the n samples of the whole batch
  // (uneven when shards does not divide n: batch 5 on 2 ranks gives 2 and 3). Samples
  // keep their own augmentation draws, so the shards together are the one-process batch.
  // (With refill_skipped, each shard refills from the samples after the whole batch.)
  int64_t shard = 0, shards = 1;
};

// Positions [n * shard / shards, n * (shard + 1) / shards) of n: the slice of a batch of n
// samples that shard `shard` of `shards` takes (LoaderConfig::shard).
inline std::pair<int64_t, int64_t> shard_range(int64_t n, int64_t shard, int64_t shards) {
  return {n * shard / shards, n * (shard + 1) / shards};
}

struct Batch {
  Tensor images;  // [N, 3, H, W] float32, CPU, normalised
  Tensor labels;  // [N, H, W] int64, CPU, 255 = ignore
  int64_t epoch = 0, iteration = 0;
  std::vector<int64_t> indices;  // dataset indices of the N samples
  std::vector<std::string> ids;
  // With the dataset's skip_bad: why each sample left out of this batch was left out
  // (a batch with a skipped sample is smaller unless refilled; one with no good sample is
  // not returned).
  std::vector<std::string> skipped;
};

// The sample order of one epoch: a seeded permutation of [0, n), or 0..n-1 unshuffled.
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle);

class Loader {
 public:
  // `dataset` must outlive the loader. Workers start at once; when the system cannot
  // start them all, those that did are stopped and joined and an Error says so.
  Loader(const Dataset& dataset, const LoaderConfig& config);
  ~Loader();  // stops and joins the workers; batches not taken are dropped
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // The next batch in iteration order, waiting for it if needed; std::nullopt after the
  // last epoch. A worker's error is rethrown here (pmsdsen::Error naming the file).
  std::optional<Batch> next();

  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  // Samples skipped (skip_bad) in the batches next() has returned or passed over, and
  // why each was.
  int64_t skipped() const;
  std::vector<std::string> skipped_log() const;
  // The dataset indices of global iteration `iteration`.
  std::vector<int64_t> batch_indices(int64_t iteration) const;
  // Builds batch `iteration` on the calling thread (what a worker does).
  Batch build_batch(int64_t iteration) const;

 private:
  struct Ready {
    Batch batch;
    std::exception_ptr error;
  };
  void work();
  void shut_down();  // stops and joins the workers
  std::pair<int64_t, int64_t> positions(int64_t iteration) const;  // this shard's, in the epoch's order

  const Dataset& dataset_;
  LoaderConfig config_;
  int64_t batches_per_epoch_ = 0;
  int64_t end_ = 0;  // one past the last iteration (INT64_MAX when endless)

  mutable std::mutex mutex_;
  std::condition_variable ready_cv_, space_cv_;
  std::map<int64_t, Ready> ready_;
  int64_t next_job_ = 0, next_out_ = 0;
  std::vector<std::string> skipped_log_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace pmsdsen::data
