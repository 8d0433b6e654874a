#include "layers/trace.h"

#include <chrono>

#include "layers/conv.h"

namespace pmsdsen {
namespace {
thread_local LayerTrace* active_trace = nullptr;

void collect(const Module& m, const std::string& name,
             std::vector<std::pair<const Module*, std::string>>& out) {
  out.emplace_back(&m, name);
  for (const auto& [child_name, child] : m.children())
    collect(*child, name.empty() ? child_name : name + "." + child_name, out);
}
}  // namespace

LayerTrace::LayerTrace(const TraceOptions& options) : options_(options), previous_(active_trace) {
  active_trace = this;
}
LayerTrace::~LayerTrace() { active_trace = previous_; }
LayerTrace* LayerTrace::active() { return active_trace; }

double LayerTrace::begin(Device device) const {
  if (!options_.timing) return 0.0;
  synchronize(device);
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void LayerTrace::record(const Module* module, const Shape& input, const Tensor& output, double started) {
  double seconds = 0.0;
  if (options_.timing) {
    synchronize(output.device());
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count() - started;
  }
  entries_.push_back({module, input, output.shape(), options_.keep_values ? output.detach() : Tensor(), seconds});
}

int64_t layer_macs(const Module& module, const Shape& input, const Shape& output) {
  if (auto* c = dynamic_cast<const Conv2d*>(&module)) {
    const Conv2dSpec& s = c->spec();
    return shape_numel(output) * (s.in_channels / s.groups) * s.kernel * s.kernel;
  }
  if (auto* t = dynamic_cast<const ConvTranspose2d*>(&module)) {
    const ConvTranspose2dSpec& s = t->spec();
    return shape_numel(input) * s.out_channels * s.kernel * s.kernel;
  }
  if (auto* e = dynamic_cast<const ChannelConv1d*>(&module)) return shape_numel(output) * e->kernel();
  return 0;
}

std::vector<std::pair<const Module*, std::string>> named_modules(const Module& root) {
  std::vector<std::pair<const Module*, std::string>> out;
  collect(root, "", out);
  return out;
}

}  // namespace pmsdsen
