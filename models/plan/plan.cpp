#include "models/plan/plan.h"

#include "models/plan/builder.h"
#include "models/plan/weights.h"

namespace pmsdsen::plan {

InferencePlan::InferencePlan(const PMSDSEN& model)
    : config_(model.config()), weights_(std::make_unique<PlanWeights>(model)), io_(std::make_unique<PlanIo>()) {}

InferencePlan::~InferencePlan() = default;

void InferencePlan::compile(int64_t batch, int64_t height, int64_t width, bool heads) {
  if (compiled_ && batch == batch_ && height == height_ && width == width_ && heads == heads_) return;
  compiled_ = false;
  program_ = Program();
  ProgramBuilder::compile(
      [&](ProgramBuilder& pb) {
        NetBuilder nb(pb, *weights_, batch, height, width, heads, io_.get());
        nb.build();
      },
      program_);
  batch_ = batch, height_ = height, width_ = width, heads_ = heads, compiled_ = true;
  profile_.clear();
  profile_runs_ = 0;
}

const Program& InferencePlan::program(int64_t batch, int64_t height, int64_t width, bool heads) {
  compile(program_batch(batch, height, width), height, width, heads);
  return program_;
}

size_t InferencePlan::buffer_bytes() const {
  size_t total = 0;
  for (const Program::Buffer& b : program_.buffers()) total += b.bytes;
  return total;
}

size_t InferencePlan::memory_bytes() const {
  return program_.arena_bytes() + program_.scratch_bytes() + weights_->bytes();
}

void InferencePlan::set_profiling(bool on) {
  profiling_ = on;
  profile_.clear();
  profile_runs_ = 0;
}

int64_t InferencePlan::program_batch(int64_t batch, int64_t height, int64_t width) {
  // Large images run one at a time: a quarter of the arena, and each step's data stays in
  // the caches far more often than with the whole batch in flight.
  return height * width >= kPerSamplePixels ? 1 : batch;
}

PmsdsenOutput InferencePlan::run(const Tensor& x, bool heads) {
  check_pmsdsen_input(x);
  PMSDSEN_CHECK(x.dtype() == DType::F32 && !x.is_cuda(), "inference plan: expected a CPU float32 input, got ",
                x.str());
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3), k = config_.classes;
  const int64_t step = program_batch(n, h, w);
  compile(step, h, w, heads);
  const Shape shape{n, k, h, w};
  PmsdsenOutput out;
  Tensor* slots[3] = {&out.logits, &out.aux_x4, &out.aux_x8};
  const int outputs = heads ? 3 : 1;
  for (int i = 0; i < outputs; ++i) {
    // Reuse last run's output when nobody else holds it any more.
    Tensor& keep = outputs_[i];
    if (!keep.defined() || keep.shape() != shape || keep.impl_ptr().use_count() > 1 ||
        keep.impl()->storage.use_count() > 1)
      keep = Tensor::empty(shape);
    *slots[i] = keep;
  }
  for (int64_t first = 0; first < n; first += step) {
    io_->image = x.data<float>() + first * 3 * h * w;
    for (int i = 0; i < outputs; ++i) io_->outputs[i] = slots[i]->data<float>() + first * k * h * w;
    program_.run(profiling_ ? &profile_ : nullptr);
    if (profiling_) ++profile_runs_;
  }
  io_->image = nullptr;
  return out;
}

}  // namespace pmsdsen::plan
