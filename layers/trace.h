#pragma once
// Recording which layers a forward pass ran, with their input and output shapes: the
// layer table of `pmsdsen info` and the multiply-accumulate count come from one real
// forward with a LayerTrace alive, so they cannot drift from what the network does.
// Layers built as Traced<Layer> (and blocks run through trace_call / trace_scope) report
// themselves; with no trace alive the cost is one thread-local read per layer. A trace
// can also keep every output (layer-by-layer comparisons) and time every call (profiles).
#include <string>
#include <vector>

#include "layers/module.h"

namespace pmsdsen {

struct TraceEntry {
  const Module* module;
  Shape input;   // the first input's shape
  Shape output;
  Tensor value;         // the output itself, detached, when the trace keeps values
  double seconds = 0;   // wall time of the call, when the trace times calls
};

struct TraceOptions {
  bool keep_values = false;
  bool timing = false;  // on CUDA, synchronises before and after every traced call
};

class LayerTrace {
 public:
  // Becomes the active trace on this thread (restores the previous one when it dies).
  explicit LayerTrace(const TraceOptions& options = {});
  ~LayerTrace();
  LayerTrace(const LayerTrace&) = delete;
  LayerTrace& operator=(const LayerTrace&) = delete;

  static LayerTrace* active();
  // begin() before the call (a time stamp), record() after it.
  double begin(Device device) const;
  void record(const Module* module, const Shape& input, const Tensor& output, double started);
  const std::vector<TraceEntry>& entries() const { return entries_; }

 private:
  std::vector<TraceEntry> entries_;
  TraceOptions options_;
  LayerTrace* previous_;
};

// Runs f() (returning the module's output for input x) and reports the call.
template <class F>
Tensor trace_scope(const Module& module, const Tensor& x, F&& f) {
  LayerTrace* t = LayerTrace::active();
  if (!t) return f();
  const double started = t->begin(x.device());
  Tensor y = f();
  t->record(&module, x.shape(), y, started);
  return y;
}

inline Tensor trace_call(Module& module, const Tensor& x) {
  return trace_scope(module, x, [&] { return module.forward(x); });
}

// A layer that reports each call to the active trace.
template <class Layer>
class Traced : public Layer {
 public:
  using Layer::Layer;
  Tensor forward(const Tensor& x) override {
    return trace_scope(*this, x, [&] { return Layer::forward(x); });
  }
};

// Multiply-accumulates of one call of a Conv2d, ConvTranspose2d or ChannelConv1d for the
// whole batch (biases not counted): a convolution costs (Cin/groups) * k * k per output
// element, a transposed convolution Cout * k * k per input element, ECA's 1-D convolution
// k per channel. Any other module: 0.
int64_t layer_macs(const Module& module, const Shape& input, const Shape& output);

// Dotted names of every module under root ("" for root itself), by address.
std::vector<std::pair<const Module*, std::string>> named_modules(const Module& root);

}  // namespace pmsdsen
