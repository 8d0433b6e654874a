#include "autograd/grad_average.h"

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops_basic.h"
#include "autograd/device_reduce.h"

namespace pmsdsen {

struct GradAverager::Bucket {
  std::vector<size_t> members;  // indices into params_, in the order laid out
  std::vector<int64_t> offsets;
  int64_t numel = 0;
  DType dtype = DType::F32;
  Device device = Device::cpu();
  // Per pass.
  size_t pending = 0;
  bool started = false;
  Tensor flat;
  std::unique_ptr<autograd::DeviceReduce> reduce;
};

struct GradAverager::Hook {
  explicit Hook(GradAverager& a) : hook([&a](const Tensor& leaf) { a.on_ready(leaf); }) {}
  autograd::LeafGradReadyHook hook;
};

GradAverager::GradAverager(std::vector<Tensor> params, comm::Communicator& comm, GradAverageOptions options)
    : params_(std::move(params)), comm_(comm), options_(options) {
  PMSDSEN_CHECK(options.bucket_bytes > 0, "GradAverager: bucket_bytes must be positive, got ", options.bucket_bytes);
  for (size_t i = 0; i < params_.size(); ++i) {
    check_defined(params_[i], "GradAverager", "parameter");
    PMSDSEN_CHECK(is_floating(params_[i].dtype()), "GradAverager: parameter ", i, " is a ", params_[i].str(),
                  ", expected float32 or float64");
  }
  // Reverse order; a bucket closes when full or when the device or dtype changes.
  for (size_t k = params_.size(); k-- > 0;) {
    const Tensor& p = params_[k];
    const int64_t bytes = p.numel() * static_cast<int64_t>(dtype_size(p.dtype()));
    const bool fits = !buckets_.empty() && buckets_.back().device == p.device() && buckets_.back().dtype == p.dtype() &&
                      buckets_.back().numel * static_cast<int64_t>(dtype_size(p.dtype())) + bytes <= options.bucket_bytes;
    if (!fits) {
      buckets_.emplace_back();
      buckets_.back().dtype = p.dtype();
      buckets_.back().device = p.device();
    }
    Bucket& b = buckets_.back();
    b.members.push_back(k);
    b.offsets.push_back(b.numel);
    b.numel += p.numel();
  }
  for (size_t bi = 0; bi < buckets_.size(); ++bi)
    for (size_t m : buckets_[bi].members) {
      const bool fresh = index_.emplace(params_[m].impl(), bi).second;
      PMSDSEN_CHECK(fresh, "GradAverager: parameter ", m, " is listed twice");
    }
}

GradAverager::~GradAverager() = default;

int GradAverager::bucket_count() const { return static_cast<int>(buckets_.size()); }

void GradAverager::begin() {
  PMSDSEN_CHECK(!in_pass_, "GradAverager::begin: the previous pass was not finished");
  in_pass_ = true;
  next_start_ = 0;
  started_early_ = 0;
  for (Bucket& b : buckets_) {
    b.pending = b.members.size();
    b.started = false;
    b.flat = Tensor();
    b.reduce.reset();
  }
  if (comm_.size() > 1 && options_.overlap) hook_ = std::make_unique<Hook>(*this);
}

void GradAverager::on_ready(const Tensor& leaf) {
  auto it = index_.find(leaf.impl());
  if (it == index_.end()) return;  // a leaf that is not one of ours
  Bucket& b = buckets_[it->second];
  if (b.started || b.pending == 0) return;
  --b.pending;
  start_ready_buckets();
  for (size_t i = 0; i < next_start_; ++i)
    if (buckets_[i].reduce) buckets_[i].reduce->progress();
}

void GradAverager::start_ready_buckets() {
  while (next_start_ < buckets_.size() && buckets_[next_start_].pending == 0) {
    start(buckets_[next_start_]);
    ++next_start_;
    ++started_early_;
  }
}

void GradAverager::start(Bucket& b) {
  autograd::NoGradGuard no_grad;
  b.flat = Tensor::zeros({b.numel}, b.dtype, b.device);
  for (size_t j = 0; j < b.members.size(); ++j) {
    const Tensor g = params_[b.members[j]].grad();
    if (!g.defined()) continue;
    b.flat.narrow_batch(b.offsets[j], g.numel()).copy_(g.view({g.numel()}));
  }
  b.reduce = autograd::device_all_reduce_start(b.flat, comm_);
  b.started = true;
}

void GradAverager::finish() {
  PMSDSEN_CHECK(in_pass_, "GradAverager::finish without begin()");
  hook_.reset();
  in_pass_ = false;
  if (comm_.size() == 1) return;
  autograd::NoGradGuard no_grad;
  while (next_start_ < buckets_.size()) start(buckets_[next_start_++]);
  const double inv = 1.0 / comm_.size();
  for (Bucket& b : buckets_) {
    b.reduce->wait();
    const Tensor mean = ops::scale(b.flat, inv);
    for (size_t j = 0; j < b.members.size(); ++j) {
      Tensor& p = params_[b.members[j]];
      p.set_grad(mean.narrow_batch(b.offsets[j], p.numel()).view(p.shape()));
    }
    b.flat = Tensor();
    b.reduce.reset();
  }
}

}  // namespace pmsdsen
