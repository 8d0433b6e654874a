#include "bench/kernel_registry.h"

#include "autograd/op_table.h"

#include <algorithm>
#include <map>
#include <utility>

#include "core/error.h"
#include "core/init.h"
#include "core/parallel.h"

namespace pmsdsen::bench {
namespace {

std::multimap<int, BenchGenerator>& families() {
  static std::multimap<int, BenchGenerator> f;
  return f;
}

}  // namespace

std::string NetConfig::str() const { return pmsdsen::str(batch, "x3x", height, "x", width); }

const std::vector<NetConfig>& kernel_configs() {
  static const std::vector<NetConfig> configs = {{1, 512, 1024}, {12, 256, 512}};
  return configs;
}

int64_t tensors_bytes(const Tensors& ts) {
  int64_t b = 0;
  for (const Tensor& t : ts)
    if (t.defined()) b += static_cast<int64_t>(t.nbytes());
  return b;
}

RotatingBuffers::RotatingBuffers(Tensors first, int64_t sets) {
  PMSDSEN_CHECK(sets >= 1, "bench: rotation needs at least one set, got ", sets);
  set_bytes_ = tensors_bytes(first);
  sets_.reserve(static_cast<size_t>(sets));
  sets_.push_back(std::move(first));
  for (int64_t s = 1; s < sets; ++s) {
    Tensors copy;
    copy.reserve(sets_[0].size());
    for (const Tensor& t : sets_[0]) copy.push_back(t.defined() ? t.clone() : Tensor());
    sets_.push_back(std::move(copy));
  }
}

int64_t rotation_sets(int64_t set_bytes, int64_t cache_bytes, int64_t budget_bytes) {
  if (set_bytes <= 0) return 1;
  const int64_t want = std::max<int64_t>(2, (3 * cache_bytes + set_bytes - 1) / set_bytes);
  const int64_t fit = budget_bytes / set_bytes;
  if (fit < 2) return 1;
  return std::min<int64_t>({want, fit, 512});
}

std::function<RunFn(const SharedBuffers&)> per_set(std::function<void(const Tensors&)> f) {
  return [f = std::move(f)](const SharedBuffers& buffers) -> RunFn {
    return [f, buffers](int64_t set) { f(buffers->set(set)); };
  };
}

BenchFamily::BenchFamily(int order, BenchGenerator generator) {
  families().emplace(order, std::move(generator));
}

std::vector<KernelBench> kernel_benches(const NetConfig& config) {
  std::vector<KernelBench> out;
  for (const auto& [order, generate] : families()) generate(config, out);
  for (KernelBench& b : out) b.config = config;
  return out;
}

std::vector<RequiredOp> required_ops() {
  std::vector<RequiredOp> ops;
  for (const autograd::OpInfo& op : autograd::op_table())
    for (const std::string& pass : op.passes()) ops.push_back({op.name, pass});
  return ops;
}

Tensor random_f32(const Shape& shape, Device device, Generator& gen, double lo, double hi) {
  // Counter-based (a hash of the index), so that the fill runs on every thread: the
  // benchmark's inputs reach hundreds of MB.
  const uint64_t seed = gen.next_u64();
  Tensor t = Tensor::empty(shape, DType::F32, Device::cpu());
  float* p = t.data<float>();
  const double scale = (hi - lo) / 9007199254740992.0;  // 2^53
  parallel_for(0, t.numel(), [&](int64_t i) {
    uint64_t state = seed ^ (static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull);
    const uint64_t bits = splitmix64(state) >> 11;  // 53 random bits
    p[i] = static_cast<float>(lo + scale * static_cast<double>(bits));
  }, 1 << 14);
  return device.is_cpu() ? t : t.to(device);
}

Tensor empty_f32(const Shape& shape, Device device) { return Tensor::empty(shape, DType::F32, device); }

double f32_bytes(const Shape& shape) { return 4.0 * static_cast<double>(shape_numel(shape)); }

}  // namespace pmsdsen::bench
