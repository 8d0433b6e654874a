#pragma once
// PMSDSEN's layer table for one input size, from one real forward (evaluation mode, no
// gradients, zeros) run under a LayerTrace: the blocks with their output shapes,
// parameters and multiply-accumulates, and every convolution (Conv2d, ConvTranspose2d,
// ECA's Conv1d) with its MACs.
#include <string>
#include <vector>

#include "models/pmsdsen.h"

namespace pmsdsen {

struct SummaryRow {
  std::string name;   // "layer3.4", "MSSE_.x2.1"
  std::string type;   // "PMSDSE", "Conv2d"
  Shape input;        // one image: [C, H, W] (Conv1d: [1, C])
  Shape output;
  int64_t parameters = 0;
  int64_t macs = 0;   // per image
  double seconds = 0;  // mean time per forward (timed summaries)
};

struct ModelSummary {
  int64_t height = 0, width = 0;
  std::vector<SummaryRow> blocks;   // in execution order
  std::vector<SummaryRow> layers;   // every convolution, in execution order
  int64_t parameters = 0;
  int64_t state_dict_tensors = 0;
  int64_t macs = 0;
  int64_t macs_conv2d = 0, macs_conv_transpose2d = 0, macs_conv1d = 0;
  // Timed summaries: the wall time of each timed forward (after one untimed warm-up),
  // and the peak of memory held by tensors during one forward, beyond what was held
  // before it (weights included in neither).
  std::vector<double> run_seconds;
  std::vector<double> run_cpu_seconds;  // process CPU time of each (all threads): robust on busy machines
  size_t peak_bytes = 0;
  double median_seconds() const;
};

// Runs the model once on a 1 x 3 x height x width input on its device, evaluation mode,
// no gradients (it returns to its previous mode afterwards). With timed_runs > 0, then
// times that many more forwards, each layer and block too.
ModelSummary summarize(PMSDSEN& model, int64_t height, int64_t width, int timed_runs = 0);

}  // namespace pmsdsen
