#pragma once
// The kernel benchmarks: one KernelBench per op, pass and shape that PMSDSEN really
// runs, at each of the two network configurations. A bench describes itself (shape,
// fewest bytes) without allocating; `make` and `ours` (and `baseline`, where cuDNN has
// the op) build what is timed.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

namespace pmsdsen::bench {

using Tensors = std::vector<Tensor>;

// A network input: the kernels run at the shapes PMSDSEN has for it.
struct NetConfig {
  int64_t batch = 1, height = 512, width = 1024;
  std::string str() const;  // "1x3x512x1024"
};
// The two: batch 1 at 512x1024 (inference) and batch 12 at 256x512 (training).
const std::vector<NetConfig>& kernel_configs();

// The tensors of one run in several copies ("sets"), so that consecutive reps touch
// different memory and the cache does not flatter the figure. Set 0 is what `make`
// returned; the others are device-side copies of it.
class RotatingBuffers {
 public:
  RotatingBuffers(Tensors first, int64_t sets);
  int64_t sets() const { return static_cast<int64_t>(sets_.size()); }
  const Tensors& set(int64_t i) const { return sets_[static_cast<size_t>(i % sets())]; }
  int64_t set_bytes() const { return set_bytes_; }

 private:
  std::vector<Tensors> sets_;
  int64_t set_bytes_ = 0;
};

int64_t tensors_bytes(const Tensors& ts);

// Sets needed so that between two uses of one set at least 3x the cache of other data
// is touched (and never fewer than 2), within budget_bytes in all (1 if even 2 sets do
// not fit), and at most 512.
int64_t rotation_sets(int64_t set_bytes, int64_t cache_bytes, int64_t budget_bytes);

// Runs on rotation set `set` (any integer; taken modulo the number of sets).
using RunFn = std::function<void(int64_t set)>;
using SharedBuffers = std::shared_ptr<const RotatingBuffers>;

// Adapts a function of one set's tensors to a RunFn factory.
std::function<RunFn(const SharedBuffers&)> per_set(std::function<void(const Tensors&)> f);

// A library's version of the same op, timed on the same data.
struct Baseline {
  std::string name;          // e.g. "cuDNN ConvolutionForward, algo IMPLICIT_PRECOMP_GEMM"
  RunFn run;                 // writes the outputs listed in `compare` (same buffers as ours)
  std::vector<int> compare;  // indices of the tensors compared with ours
  bool same_function = true; // false for a stand-in (then no error is computed)
  std::string note;          // caveats, printed and kept in the JSON
  std::shared_ptr<void> state;  // descriptors, workspace: alive as long as `run`
};

struct KernelBench {
  std::string name;   // "dwconv3x3_d2.fwd": op and pass (unique per config with `where`)
  std::string op;      // the op, as the op table names it (autograd/op_table.def): "conv2d"
  std::string kernel;  // which of its kernels: "depthwise conv 3x3", "pointwise conv", ...
  bool bandwidth_bound = false;  // judged by its fraction of copy bandwidth
  std::string pass;   // "forward", "input_grad", "weight_grad", "backward" or "step"
  std::string where;  // the layers that have this shape ("LRMS x2, stage 1 (H/2)")
  NetConfig config;
  Shape shape;         // the op's main input (NCHW)
  std::string detail;  // all tensors and parameters ("x[1,4,256,512] w[4,1,3,3] dil 2")
  double bytes = 0;    // fewest bytes: each input read once, each output written once
  double flops = 0;    // 2 x multiply-adds for convolutions; 0 elsewhere

  // Set 0 on `device`: inputs random (never zeros), outputs allocated.
  std::function<Tensors(Device, Generator&)> make;
  // Indices of the tensors the kernel only writes: poisoned before the first run and
  // checked to be all written.
  std::vector<int> outputs;
  // Builds our runner once per bench (it may keep state, e.g. the fused SGD's table).
  std::function<RunFn(const SharedBuffers&)> ours;
  // Builds the cuDNN baseline (CUDA with cuDNN only); throws pmsdsen::Error saying why
  // when cuDNN refuses the configuration. Empty when there is none:
  std::function<Baseline(const SharedBuffers&)> baseline;
  std::string no_baseline;  // ...then why
};

// Every bench for one configuration, in a fixed order (by family, then as added).
std::vector<KernelBench> kernel_benches(const NetConfig& config);

// The families register generators, each called once per configuration.
using BenchGenerator = std::function<void(const NetConfig&, std::vector<KernelBench>&)>;
struct BenchFamily {
  BenchFamily(int order, BenchGenerator generator);
};

// The (op, pass) pairs every configuration must cover: the op table's benchmark passes.
struct RequiredOp {
  std::string op;
  std::string pass;
};
std::vector<RequiredOp> required_ops();

// --- helpers for the families ------------------------------------------------------
// Uniform random float32 in [lo, hi) (drawn on the CPU, copied to the device).
Tensor random_f32(const Shape& shape, Device device, Generator& gen, double lo = -1.0, double hi = 1.0);
Tensor empty_f32(const Shape& shape, Device device);
double f32_bytes(const Shape& shape);  // 4 x numel

}  // namespace pmsdsen::bench

#define PMSDSEN_BENCH_CAT2(a, b) a##b
#define PMSDSEN_BENCH_CAT(a, b) PMSDSEN_BENCH_CAT2(a, b)
// PMSDSEN_BENCH_FAMILY(10, add_dwconv_benches);
#define PMSDSEN_BENCH_FAMILY(order, fn) \
  static ::pmsdsen::bench::BenchFamily PMSDSEN_BENCH_CAT(pmsdsen_bench_family_, __LINE__)(order, fn)
