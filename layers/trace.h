#pragma once
// Recording which layers a forward pass ran, with their input and output shapes: the
// layer table of `pmsdsen info` and the multiply-accumulate count come from one real
// forward with a LayerTrace alive, so they cannot drift from what the network does.
// Layers built as Traced<Layer> (and blocks passed to trace_call) report themselves;
// with no trace alive the cost is one thread-local read per layer.
#include <string>
#include <vector>

#include "layers/module.h"

namespace pmsdsen {

struct TraceEntry {
  const Module* module;
  Shape input;   // the first input's shape
  Shape output;
};

class LayerTrace {
 public:
  LayerTrace();   // becomes the active trace on this thread (restores the previous one when it dies)
  ~LayerTrace();
  LayerTrace(const LayerTrace&) = delete;
  LayerTrace& operator=(const LayerTrace&) = delete;

  static LayerTrace* active();
  void record(const Module* module, const Shape& input, const Shape& output);
  const std::vector<TraceEntry>& entries() const { return entries_; }

 private:
  std::vector<TraceEntry> entries_;
  LayerTrace* previous_;
};

inline void trace_record(const Module* module, const Shape& input, const Shape& output) {
  if (LayerTrace* t = LayerTrace::active()) t->record(module, input, output);
}

// A layer that reports each call to the active trace.
template <class Layer>
class Traced : public Layer {
 public:
  using Layer::Layer;
  Tensor forward(const Tensor& x) override {
    Tensor y = Layer::forward(x);
    trace_record(this, x.shape(), y.shape());
    return y;
  }
};

// Runs module.forward(x) and reports the call.
inline Tensor trace_call(Module& module, const Tensor& x) {
  Tensor y = module.forward(x);
  trace_record(&module, x.shape(), y.shape());
  return y;
}

// Multiply-accumulates of one call of a Conv2d, ConvTranspose2d or ChannelConv1d for the
// whole batch (biases not counted): a convolution costs (Cin/groups) * k * k per output
// element, a transposed convolution Cout * k * k per input element, ECA's 1-D convolution
// k per channel. Any other module: 0.
int64_t layer_macs(const Module& module, const Shape& input, const Shape& output);

// Dotted names of every module under root ("" for root itself), by address.
std::vector<std::pair<const Module*, std::string>> named_modules(const Module& root);

}  // namespace pmsdsen
