#include "bench/kernel_runner.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/error.h"

namespace pmsdsen::bench {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> host_values(const Tensor& t) { return t.cpu().to(DType::F64).to_vector<double>(); }

int64_t default_budget(const DeviceInfo& info) {
  if (info.device.is_cpu()) return int64_t(1) << 30;
  return std::min<int64_t>(int64_t(4) << 30, info.memory_bytes / 4);
}

void put_stats(nlohmann::json& r, const std::string& prefix, const Stats& s) {
  r[prefix + "ms"] = s.median;
  r[prefix + "ms_min"] = s.min;
  r[prefix + "ms_p10"] = s.p10;
  r[prefix + "ms_p90"] = s.p90;
  r[prefix + "ms_max"] = s.max;
  r[prefix + "reps"] = s.count;
  if (!std::isnan(s.cpu_median)) r[prefix + "cpu_ms"] = s.cpu_median;
}

double gbps(double bytes, double ms) { return ms > 0 ? bytes / (ms * 1e6) : kNaN; }

// Runs the baseline part of a record; every failure becomes cudnn_note.
void run_baseline(const KernelBench& b, const SharedBuffers& buffers, const KernelRunOptions& o,
                  const std::vector<Tensor>& ours_out, double ours_ms, double copy_gbps,
                  nlohmann::json& r) {
  Baseline base;
  try {
    base = b.baseline(buffers);
  } catch (const std::exception& e) {
    r["cudnn_note"] = std::string("skipped: ") + e.what();
    return;
  }
  r["cudnn_algo"] = base.name;
  if (!base.note.empty()) r["cudnn_note"] = base.note;
  r["cudnn_same_op"] = base.same_function;
  try {
    const Tensors& set0 = buffers->set(0);
    for (int i : base.compare) {
      Tensor t = set0[static_cast<size_t>(i)];
      poison(t);
    }
    base.run(0);
    synchronize(o.device);
    if (base.same_function) {
      double worst = 0.0;
      size_t compared = 0;
      for (int i : base.compare) {
        // ours_out is indexed like b.outputs; find this output's snapshot.
        for (size_t k = 0; k < b.outputs.size(); ++k)
          if (b.outputs[k] == i) {
            const double e = rel_l2_error(set0[static_cast<size_t>(i)], ours_out[k]);
            if (!(e <= worst)) worst = e;  // NaN wins
            ++compared;
          }
      }
      if (compared != base.compare.size()) worst = kNaN;  // a baseline output ours does not write: misconfigured
      r["cudnn_rel_error"] = worst;
      r["cudnn_agrees"] = worst <= o.tolerance;
    }
    const Stats s = time_reps(o.device, base.run, o.timer);
    put_stats(r, "cudnn_", s);
    r["cudnn_gbps"] = gbps(b.bytes, s.median);
    r["cudnn_copy_fraction"] = gbps(b.bytes, s.median) / copy_gbps;
    r["speedup_vs_cudnn"] = ours_ms > 0 ? s.median / ours_ms : kNaN;
  } catch (const std::exception& e) {
    r["cudnn_note"] = std::string("failed: ") + e.what();
  }
}

}  // namespace

void poison(Tensor& t) { t.fill_(is_floating(t.dtype()) ? kNaN : kPoisonInt); }

int64_t count_unwritten(const Tensor& t) {
  const std::vector<double> v = host_values(t);
  int64_t n = 0;
  if (is_floating(t.dtype())) {
    for (double x : v) n += std::isfinite(x) ? 0 : 1;
  } else {
    for (double x : v) n += x == kPoisonInt ? 1 : 0;
  }
  return n;
}

double rel_l2_error(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return kNaN;
  const std::vector<double> x = host_values(a), y = host_values(b);
  double diff = 0.0, ref = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    diff += (x[i] - y[i]) * (x[i] - y[i]);
    ref += y[i] * y[i];
  }
  if (std::isnan(diff) || std::isnan(ref)) return kNaN;
  return std::sqrt(diff) / std::max(std::sqrt(ref), 1e-30);
}

nlohmann::json describe(const KernelBench& b) {
  nlohmann::json r;
  r["name"] = b.name;
  r["op"] = b.op;
  r["kernel"] = b.kernel;
  r["bandwidth_bound"] = b.bandwidth_bound;
  r["pass"] = b.pass;
  r["where"] = b.where;
  r["input"] = b.config.str();
  // NCHW for feature maps; otherwise (the SGD step's parameter list) zeros and a count.
  const bool nchw = b.shape.size() == 4;
  r["batch"] = nchw ? b.shape[0] : 0;
  r["channels"] = nchw ? b.shape[1] : 0;
  r["height"] = nchw ? b.shape[2] : 0;
  r["width"] = nchw ? b.shape[3] : 0;
  if (!nchw) r["elements"] = shape_numel(b.shape);
  r["shape"] = b.detail;
  r["bytes"] = b.bytes;
  r["flops"] = b.flops;
  return r;
}

nlohmann::json run_kernel_bench(const KernelBench& b, const KernelRunOptions& o,
                                const DeviceInfo& info, double copy_gbps) {
  nlohmann::json r = describe(b);
  try {
    Generator gen = Generator::derive(o.seed, {std::hash<std::string>{}(b.name + b.where + b.config.str())});
    Tensors set0 = b.make(o.device, gen);
    for (int i : b.outputs) poison(set0.at(static_cast<size_t>(i)));
    const int64_t budget = o.budget_bytes > 0 ? o.budget_bytes : default_budget(info);
    const int64_t sets =
        std::max<int64_t>(1, std::min(o.max_sets, rotation_sets(tensors_bytes(set0), info.cache_bytes, budget)));
    auto buffers = std::make_shared<const RotatingBuffers>(std::move(set0), sets);
    r["sets"] = sets;
    r["set_bytes"] = buffers->set_bytes();

    RunFn ours = b.ours(buffers);
    ours(0);
    synchronize(o.device);
    std::vector<Tensor> snapshot;
    int64_t unwritten = 0;
    for (int i : b.outputs) {
      const Tensor& t = buffers->set(0)[static_cast<size_t>(i)];
      unwritten += count_unwritten(t);
      snapshot.push_back(t.cpu().clone());
    }
    r["outputs_written"] = unwritten == 0;
    if (unwritten > 0) r["unwritten_elements"] = unwritten;

    const Stats s = time_reps(o.device, ours, o.timer);
    put_stats(r, "", s);
    r["gbps"] = gbps(b.bytes, s.median);
    r["copy_fraction"] = gbps(b.bytes, s.median) / copy_gbps;
    if (b.flops > 0) r["gflops"] = b.flops / (s.median * 1e6);

    if (o.device.is_cuda()) {
      if (!o.cudnn) {
        r["cudnn_note"] = "not run (--no-cudnn)";
      } else if (b.baseline) {
        run_baseline(b, buffers, o, snapshot, s.median, copy_gbps, r);
      } else {
        r["cudnn_note"] = b.no_baseline.empty() ? "no cuDNN baseline in this build" : b.no_baseline;
      }
    }
  } catch (const std::exception& e) {
    r["error"] = e.what();
  }
  try {
    synchronize(o.device);
  } catch (const std::exception& e) {
    // A sticky CUDA error: every later kernel would fail too. Say so in this record.
    r["error"] = r.value("error", std::string()) + " | device error after the run: " + e.what();
  }
  empty_cache(o.device);
  return r;
}

}  // namespace pmsdsen::bench
