#include "data/loader.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <system_error>

#include "core/error.h"
#include "core/rng.h"

namespace pmsdsen::data {
namespace {

constexpr uint64_t kOrderStream = 0x6f726465725f5eedull;  // keeps order draws apart from samples

}  // namespace

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (!shuffle) return order;
  Generator gen = Generator::derive(seed, {kOrderStream, static_cast<uint64_t>(epoch)});
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[gen.randint(0, i)]);
  return order;
}

Loader::Loader(const Dataset& dataset, const LoaderConfig& config)
    : dataset_(dataset), config_(config) {
  const int64_t n = dataset.size(), b = config.batch_size;
  PMSDSEN_CHECK(b > 0, "loader: batch size ", b, " must be positive");
  PMSDSEN_CHECK(config.workers > 0, "loader: ", config.workers, " workers; need at least 1");
  PMSDSEN_CHECK(config.queue_batches > 0, "loader: queue of ", config.queue_batches, " batches");
  PMSDSEN_CHECK(config.shards > 0 && config.shard >= 0 && config.shard < config.shards, "loader: shard ",
                config.shard, " of ", config.shards, " (expected 0 <= shard < shards)");
  PMSDSEN_CHECK(config.start_iteration >= 0 && config.epochs >= 0,
                "loader: negative start_iteration or epochs");
  batches_per_epoch_ = config.drop_last ? n / b : (n + b - 1) / b;
  PMSDSEN_CHECK(batches_per_epoch_ > 0, "loader: ", dataset.name(), " ", dataset.split(),
                " has ", n, " samples, fewer than one batch of ", b, " (drop_last)");
  end_ = config.epochs > 0 ? config.epochs * batches_per_epoch_
                           : std::numeric_limits<int64_t>::max();
  next_job_ = next_out_ = config.start_iteration;
  workers_.reserve(config.workers);
  try {
    for (int i = 0; i < config.workers; ++i) workers_.emplace_back([this] { work(); });
  } catch (const std::system_error& e) {
    // The destructor does not run for a constructor that throws: join what started.
    const size_t started = workers_.size();
    shut_down();
    PMSDSEN_FAIL("loader: could start only ", started, " of ", config.workers, " worker threads (", e.what(),
                 "); use fewer workers");
  }
}

Loader::~Loader() { shut_down(); }

void Loader::shut_down() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  space_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

std::pair<int64_t, int64_t> Loader::positions(int64_t iteration) const {
  const int64_t whole_first = (iteration % batches_per_epoch_) * config_.batch_size;
  const int64_t whole_last = std::min<int64_t>(whole_first + config_.batch_size, dataset_.size());
  const int64_t n = whole_last - whole_first;
  const auto [first, last] = shard_range(n, config_.shard, config_.shards);
  return {whole_first + first, whole_first + last};
}

std::vector<int64_t> Loader::batch_indices(int64_t iteration) const {
  const int64_t epoch = iteration / batches_per_epoch_;
  const auto [first, last] = positions(iteration);
  const std::vector<int64_t> order =
      epoch_order(dataset_.size(), config_.seed, epoch, config_.shuffle);
  return std::vector<int64_t>(order.begin() + first, order.begin() + last);
}

Batch Loader::build_batch(int64_t iteration) const {
  Batch batch;
  batch.iteration = iteration;
  batch.epoch = iteration / batches_per_epoch_;
  const uint64_t epoch = static_cast<uint64_t>(batch.epoch);
  const int64_t samples = dataset_.size();
  const std::vector<int64_t> order = epoch_order(samples, config_.seed, batch.epoch, config_.shuffle);
  const auto [first, last] = positions(iteration);
  const int64_t whole_last = std::min<int64_t>((iteration % batches_per_epoch_ + 1) * config_.batch_size, samples);
  std::vector<Image> images;
  std::vector<LabelMap> labels;
  auto add = [&](int64_t index, Generator gen) {
    try {
      Sample s = dataset_.sample(index);
      if (config_.augment) {
        const AugmentParams p = draw_augment(s.image.height, s.image.width, config_.augmentation, gen);
        Image image;
        LabelMap label;
        apply_augment(s.image, s.label, p, image, label);
        s.image = std::move(image);
        s.label = std::move(label);
      }
      images.push_back(std::move(s.image));
      labels.push_back(std::move(s.label));
      batch.indices.push_back(index);
      batch.ids.push_back(std::move(s.id));
    } catch (const Error& e) {
      const std::string why = str(dataset_.name(), " ", dataset_.split(), " sample ", index,
                                  ": ", e.what());
      if (!dataset_.skip_bad()) throw Error(why);
      batch.skipped.push_back(why);
    }
  };
  for (int64_t pos = first; pos < last; ++pos)
    add(order[pos], Generator::derive(config_.seed, {epoch, static_cast<uint64_t>(order[pos])}));
  // Refill what was skipped from the samples after the batch in the epoch's order (with
  // an augmentation draw of their own, so that a sample seen twice is not seen alike).
  // Still a function of (seed, iteration) alone.
  if (config_.refill_skipped) {
    const int64_t size = last - first;
    for (int64_t k = 0; static_cast<int64_t>(images.size()) < size && k < samples - size; ++k) {
      const int64_t index = order[(whole_last + k) % samples];
      if (std::find(batch.indices.begin(), batch.indices.end(), index) != batch.indices.end()) continue;
      add(index, Generator::derive(config_.seed, {epoch, static_cast<uint64_t>(index),
                                                  static_cast<uint64_t>(iteration) + 1}));
    }
  }
  if (images.empty()) return batch;

  const int64_t n = static_cast<int64_t>(images.size());
  const int64_t h = images[0].height, w = images[0].width;
  for (int64_t i = 1; i < n; ++i)
    PMSDSEN_CHECK(images[i].height == h && images[i].width == w, "loader: batch ", iteration,
                  " mixes image sizes: ", batch.ids[0], " is ", w, "x", h, ", ", batch.ids[i],
                  " is ", images[i].width, "x", images[i].height, " (use batch size 1)");
  batch.images = Tensor::empty({n, 3, h, w}, DType::F32);
  batch.labels = Tensor::empty({n, h, w}, DType::I64);
  for (int64_t i = 0; i < n; ++i) {
    normalize_into(images[i], config_.normalization, batch.images.data<float>() + i * 3 * h * w);
    label_into(labels[i], batch.labels.data<int64_t>() + i * h * w);
  }
  return batch;
}

void Loader::work() {
  for (;;) {
    int64_t iteration;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      space_cv_.wait(lock, [&] {
        return stop_ || next_job_ >= end_ || next_job_ < next_out_ + config_.queue_batches;
      });
      if (stop_ || next_job_ >= end_) return;
      iteration = next_job_++;
    }
    Ready r;
    try {
      r.batch = build_batch(iteration);
    } catch (...) {
      r.error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready_[iteration] = std::move(r);
    }
    ready_cv_.notify_all();
  }
}

std::optional<Batch> Loader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  int64_t empty_in_a_row = 0;
  while (next_out_ < end_) {
    ready_cv_.wait(lock, [&] { return ready_.count(next_out_) > 0; });
    auto it = ready_.find(next_out_);
    Ready r = std::move(it->second);
    ready_.erase(it);
    ++next_out_;
    space_cv_.notify_all();
    if (r.error) std::rethrow_exception(r.error);
    skipped_log_.insert(skipped_log_.end(), r.batch.skipped.begin(), r.batch.skipped.end());
    if (r.batch.images.defined()) return std::move(r.batch);
    if (r.batch.skipped.empty()) continue;  // an empty shard of a short last batch
    PMSDSEN_CHECK(++empty_in_a_row < batches_per_epoch_, "loader: every sample of ",
                  dataset_.name(), " ", dataset_.split(), " over a whole epoch was skipped; last: ",
                  r.batch.skipped.back());
  }
  return std::nullopt;
}

int64_t Loader::skipped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(skipped_log_.size());
}

std::vector<std::string> Loader::skipped_log() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return skipped_log_;
}

}  // namespace pmsdsen::data
