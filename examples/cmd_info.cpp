// pmsdsen info: the network's layer table, parameter count and multiply-accumulates
// for one input size.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "core/parallel.h"
#include "examples/cli.h"
#include "models/predict.h"
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
             {"layers", "", "also list every convolution with its shapes and MACs", ""},
             {"time", "RUNS", "also time RUNS forward passes (after one warm-up): per block, per layer, "
                              "median and peak tensor memory", ""},
             device_flag("where to run (matters for --time)"),
             {"threads", "N", "CPU threads (default: OMP_NUM_THREADS or all cores)", ""}},
            argv);
  if (args.help_requested()) {
    std::cout << "usage: pmsdsen info [--classes N] [--act gelu|prelu] [--height H --width W] [--layers]\n"
                 "                    [--time RUNS] [--device auto|cpu|cuda] [--threads N]\n\n"
                 "Prints PMSDSEN's layer table (output shape, parameters and multiply-accumulates of\n"
                 "every block), the parameter count and the MACs of all Conv2d, ConvTranspose2d and\n"
                 "Conv1d layers for one image of the given size (one forward pass on --device).\n\n"
              << args.usage();
    return 0;
  }
  PMSDSEN_CHECK(args.positional().empty(), "info: unexpected argument '", args.positional().at(0), "'");
  const int64_t classes = args.get_int("classes", 1, kPmsdsenMaxClasses);
  const Activation act = parse_activation(args.get("act"));
  const int64_t h = args.get_int("height"), w = args.get_int("width");
  PMSDSEN_CHECK(h > 0 && w > 0 && h % 8 == 0 && w % 8 == 0,
                "info: --height and --width must be positive multiples of 8, got ", h, " x ", w);

  int runs = 0;
  if (args.has("time")) {
    runs = static_cast<int>(args.get_int("time"));
    PMSDSEN_CHECK(runs > 0 && runs <= 1000, "info: --time expects a number of runs in [1, 1000], got ", runs);
  }
  if (args.has("threads")) {
    const int64_t t = args.get_int("threads");
    PMSDSEN_CHECK(t > 0, "info: --threads must be positive, got ", t);
    set_num_threads(static_cast<int>(t));
  }
  const Device device = args.get_device();

  PMSDSEN model({classes, act});
  model.to(device);
  const ModelSummary s = summarize(model, h, w, runs);
  const bool timed = runs > 0;
  auto ms = [](double seconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", seconds * 1e3);
    return std::string(buf);
  };
  // The time column of a timed table ("" otherwise).
  auto time_column = [&](double seconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " %10.2f", seconds * 1e3);
    return timed ? std::string(buf) : std::string();
  };
  const std::string time_header = timed ? "         ms" : "";

  std::printf("PMSDSEN: %lld classes, %s activations, input 1 x 3 x %lld x %lld\n\n",
              static_cast<long long>(classes), activation_name(act).c_str(), static_cast<long long>(h),
              static_cast<long long>(w));
  std::printf("%-14s %-18s %-18s %10s %12s%s\n", "block", "type", "output", "params", "MACs",
              time_header.c_str());
  for (const SummaryRow& r : s.blocks)
    std::printf("%-14s %-18s %-18s %10s %12s%s\n", r.name.c_str(), r.type.c_str(), dims(r.output).c_str(),
                grouped(r.parameters).c_str(), mega(r.macs).c_str(), time_column(r.seconds).c_str());
  std::printf("(the three heads' outputs are upsampled bilinearly to %lld x %lld x %lld)\n\n",
              static_cast<long long>(classes), static_cast<long long>(h), static_cast<long long>(w));
  if (args.flag("layers")) {
    std::printf("%-46s %-16s %-16s %-16s %15s%s\n", "convolution", "type", "input", "output", "MACs",
                time_header.c_str());
    for (const SummaryRow& r : s.layers)
      std::printf("%-46s %-16s %-16s %-16s %15s%s\n", r.name.c_str(), r.type.c_str(), dims(r.input).c_str(),
                  dims(r.output).c_str(), grouped(r.macs).c_str(), time_column(r.seconds).c_str());
    std::printf("\n");
  }
  std::printf("parameters: %s (state dict: %s tensors)\n", grouped(s.parameters).c_str(),
              grouped(s.state_dict_tensors).c_str());
  std::printf("multiply-accumulates at 1 x 3 x %lld x %lld: %s (%s)\n", static_cast<long long>(h),
              static_cast<long long>(w), grouped(s.macs).c_str(), giga(s.macs).c_str());
  std::printf("  Conv2d %s, ConvTranspose2d %s, Conv1d %s (%zu convolutions; biases not counted)\n",
              grouped(s.macs_conv2d).c_str(), grouped(s.macs_conv_transpose2d).c_str(),
              grouped(s.macs_conv1d).c_str(), s.layers.size());
  if (timed) {
    double conv = 0;
    for (const SummaryRow& r : s.layers) conv += r.seconds;
    std::vector<double> cpu = s.run_cpu_seconds;
    std::sort(cpu.begin(), cpu.end());
    std::printf("forward (evaluation, no gradients) on %s%s: median %s ms over %d runs (min %s ms; "
                "median process CPU time %s ms); convolutions %s ms; peak tensor memory %.1f MiB\n",
                device.str().c_str(), device.is_cpu() ? (", " + std::to_string(num_threads()) + " threads").c_str() : "",
                ms(s.median_seconds()).c_str(), runs,
                ms(*std::min_element(s.run_seconds.begin(), s.run_seconds.end())).c_str(),
                ms(cpu[cpu.size() / 2]).c_str(), ms(conv).c_str(), static_cast<double>(s.peak_bytes) / (1 << 20));
  }
  return 0;
}

}  // namespace

PMSDSEN_COMMAND("info", "layer table, parameter count and multiply-accumulates of PMSDSEN", run_info);

}  // namespace pmsdsen::cli
