#include "models/summary.h"

#include <map>

#include "autograd/grad_mode.h"
#include "layers/trace.h"

namespace pmsdsen {
namespace {

// Drops the batch dimension; ECA's Conv1d sees [N, C, 1, 1] as [N, 1, C].
Shape per_image(const Shape& s, bool conv1d) {
  if (conv1d) return {1, s.size() > 1 ? s[1] : 1};
  return Shape(s.begin() + 1, s.end());
}

}  // namespace

ModelSummary summarize(PMSDSEN& model, int64_t height, int64_t width) {
  std::map<const Module*, std::string> names;
  for (const auto& [m, n] : named_modules(model)) names[m] = n;

  const bool was_training = model.is_training();
  LayerTrace trace;
  {
    autograd::NoGradGuard no_grad;
    model.eval();
    try {
      model.run(Tensor::zeros({1, 3, height, width}, DType::F32, model.device()));
    } catch (...) {
      model.train(was_training);
      throw;
    }
    model.train(was_training);
  }

  ModelSummary s;
  s.height = height;
  s.width = width;
  s.parameters = model.parameter_count();
  s.state_dict_tensors = static_cast<int64_t>(model.state_dict().size());
  for (const TraceEntry& e : trace.entries()) {
    SummaryRow row;
    row.name = names.at(e.module);
    row.type = e.module->type_name();
    const bool conv1d = row.type == "Conv1d";
    row.input = per_image(e.input, conv1d);
    row.output = per_image(e.output, conv1d);
    row.parameters = e.module->parameter_count();
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
