// pmsdsen info: the network's layer table, parameter count and multiply-accumulates
// for one input size.
#include <cstdio>
#include <iostream>

#include "examples/cli.h"
#include "models/summary.h"

namespace pmsdsen::cli {
namespace {

std::string dims(const Shape& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? " x " : "") + std::to_string(s[i]);
  return out;
}

std::string grouped(int64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string giga(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f G", static_cast<double>(v) / 1e9);
  return buf;
}

std::string mega(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f M", static_cast<double>(v) / 1e6);
  return buf;
}

int run_info(const std::vector<std::string>& argv) {
  Args args("info",
            {{"classes", "N", "number of classes", "19"},
             {"act", "gelu|prelu", "activation", "gelu"},
             {"height", "H", "input height, a multiple of 8", "512"},
             {"width", "W", "input width, a multiple of 8", "1024"},
             {"layers", "", "also list every convolution with its shapes and MACs", ""}},
            argv);
  if (args.help_requested()) {
    std::cout << "usage: pmsdsen info [--classes N] [--act gelu|prelu] [--height H --width W] [--layers]\n\n"
                 "Prints PMSDSEN's layer table (output shape, parameters and multiply-accumulates of\n"
                 "every block), the parameter count and the MACs of all Conv2d, ConvTranspose2d and\n"
                 "Conv1d layers for one image of the given size (one forward pass on the CPU).\n\n"
              << args.usage();
    return 0;
  }
  PMSDSEN_CHECK(args.positional().empty(), "info: unexpected argument '", args.positional().at(0), "'");
  const int64_t classes = args.get_int("classes");
  PMSDSEN_CHECK(classes > 0, "info: --classes must be positive, got ", classes);
  const Activation act = parse_activation(args.get("act"));
  const int64_t h = args.get_int("height"), w = args.get_int("width");
  PMSDSEN_CHECK(h > 0 && w > 0 && h % 8 == 0 && w % 8 == 0,
                "info: --height and --width must be positive multiples of 8, got ", h, " x ", w);

  PMSDSEN model({classes, act});
  const ModelSummary s = summarize(model, h, w);

  std::printf("PMSDSEN: %lld classes, %s activations, input 1 x 3 x %lld x %lld\n\n",
              static_cast<long long>(classes), activation_name(act).c_str(), static_cast<long long>(h),
              static_cast<long long>(w));
  std::printf("%-14s %-18s %-18s %10s %12s\n", "block", "type", "output", "params", "MACs");
  for (const SummaryRow& r : s.blocks)
    std::printf("%-14s %-18s %-18s %10s %12s\n", r.name.c_str(), r.type.c_str(), dims(r.output).c_str(),
                grouped(r.parameters).c_str(), mega(r.macs).c_str());
  std::printf("(the three heads' outputs are upsampled bilinearly to %lld x %lld x %lld)\n\n",
              static_cast<long long>(classes), static_cast<long long>(h), static_cast<long long>(w));
  if (args.flag("layers")) {
    std::printf("%-46s %-16s %-16s %-16s %15s\n", "convolution", "type", "input", "output", "MACs");
    for (const SummaryRow& r : s.layers)
      std::printf("%-46s %-16s %-16s %-16s %15s\n", r.name.c_str(), r.type.c_str(), dims(r.input).c_str(),
                  dims(r.output).c_str(), grouped(r.macs).c_str());
    std::printf("\n");
  }
  std::printf("parameters: %s (state dict: %s tensors)\n", grouped(s.parameters).c_str(),
              grouped(s.state_dict_tensors).c_str());
  std::printf("multiply-accumulates at 1 x 3 x %lld x %lld: %s (%s)\n", static_cast<long long>(h),
              static_cast<long long>(w), grouped(s.macs).c_str(), giga(s.macs).c_str());
  std::printf("  Conv2d %s, ConvTranspose2d %s, Conv1d %s (%zu convolutions; biases not counted)\n",
              grouped(s.macs_conv2d).c_str(), grouped(s.macs_conv_transpose2d).c_str(),
              grouped(s.macs_conv1d).c_str(), s.layers.size());
  return 0;
}

}  // namespace

PMSDSEN_COMMAND("info", "layer table, parameter count and multiply-accumulates of PMSDSEN", run_info);

}  // namespace pmsdsen::cli
