#include "models/summary.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>

#include "autograd/grad_mode.h"
#include "core/allocator.h"
#include "layers/trace.h"

namespace pmsdsen {
namespace {

// Drops the batch dimension; ECA's Conv1d sees [N, C, 1, 1] as [N, 1, C].
Shape per_image(const Shape& s, bool conv1d) {
  if (conv1d) return {1, s.size() > 1 ? s[1] : 1};
  return Shape(s.begin() + 1, s.end());
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

double ModelSummary::median_seconds() const {
  if (run_seconds.empty()) return 0.0;
  std::vector<double> v = run_seconds;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

ModelSummary summarize(PMSDSEN& model, int64_t height, int64_t width, int timed_runs) {
  std::map<const Module*, std::string> names;
  for (const auto& [m, n] : named_modules(model)) names[m] = n;

  struct RestoreMode {
    PMSDSEN& m;
    bool training;
    ~RestoreMode() { m.train(training); }
  } restore{model, model.is_training()};
  autograd::NoGradGuard no_grad;
  model.eval();
  const Device device = model.device();
  const Tensor input = Tensor::zeros({1, 3, height, width}, DType::F32, device);

  std::vector<TraceEntry> entries;
  {
    LayerTrace trace;
    model.run(input);
    entries = trace.entries();
  }
  std::vector<double> seconds(entries.size(), 0.0);
  ModelSummary s;
  for (int r = 0; r < timed_runs; ++r) {
    const size_t before = memory_stats(device).current_bytes;
    reset_peak_memory(device);
    LayerTrace trace(TraceOptions{false, true});
    synchronize(device);
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = process_cpu_seconds();
    model.run(input);
    synchronize(device);
    s.run_seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    s.run_cpu_seconds.push_back(process_cpu_seconds() - cpu_start);
    const size_t peak = memory_stats(device).peak_bytes;
    s.peak_bytes = std::max(s.peak_bytes, peak > before ? peak - before : 0);
    PMSDSEN_CHECK(trace.entries().size() == entries.size(), "summarize: the forward passes differ");
    for (size_t i = 0; i < entries.size(); ++i) seconds[i] += trace.entries()[i].seconds / timed_runs;
  }

  s.height = height;
  s.width = width;
  s.parameters = model.parameter_count();
  s.state_dict_tensors = static_cast<int64_t>(model.state_dict().size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const TraceEntry& e = entries[i];
    SummaryRow row;
    row.name = names.at(e.module);
    row.type = e.module->type_name();
    const bool conv1d = row.type == "Conv1d";
    row.input = per_image(e.input, conv1d);
    row.output = per_image(e.output, conv1d);
    row.parameters = e.module->parameter_count();
    row.seconds = seconds[i];
    const int64_t batch = e.input.empty() ? 1 : e.input[0];
    row.macs = layer_macs(*e.module, e.input, e.output) / batch;
    if (row.macs > 0) {
      s.layers.push_back(row);
      s.macs += row.macs;
      (row.type == "Conv2d" ? s.macs_conv2d : row.type == "ConvTranspose2d" ? s.macs_conv_transpose2d
                                                                            : s.macs_conv1d) += row.macs;
    } else {
      s.blocks.push_back(row);
    }
  }
  // A block's MACs are those of the convolutions inside it.
  for (SummaryRow& b : s.blocks)
    for (const SummaryRow& l : s.layers)
      if (l.name.compare(0, b.name.size() + 1, b.name + ".") == 0) b.macs += l.macs;
  return s;
}

}  // namespace pmsdsen
