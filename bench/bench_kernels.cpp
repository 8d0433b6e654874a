// pmsdsen bench kernels: every kernel at PMSDSEN's real shapes, against the copy
// bandwidth measured in the same run and (CUDA) cuDNN on the same data.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "core/file_io.h"
#include "bench/bench_common.h"
#include "bench/commands.h"
#include "bench/cudnn_settings.h"
#include "bench/kernel_registry.h"
#include "bench/kernel_runner.h"
#include "bench/table.h"
#include "core/parallel.h"
#include "examples/cli.h"

namespace pmsdsen::bench {
namespace {

double num(const nlohmann::json& r, const char* key) {
  auto it = r.find(key);
  return it != r.end() && it->is_number() ? it->get<double>() : std::numeric_limits<double>::quiet_NaN();
}

std::string shape_cell(const nlohmann::json& r) {
  if (r.contains("elements")) return str(r["elements"].get<int64_t>(), " elements");
  return str(r.value("batch", 0), "x", r.value("channels", 0), "x", r.value("height", 0), "x",
             r.value("width", 0));
}

std::string gbps_cell(double v) { return fixed(v, v >= 100 ? 0 : v >= 1 ? 1 : 2); }

Table kernel_table(bool cuda) {
  std::vector<Column> cols = {{"kernel", 24, true}, {"where", 30, true}, {"NxCxHxW", 16, true},
                              {"ms", 9},            {"GB/s", 7},         {"%copy", 6}};
  if (!cuda) cols.push_back({"min ms", 9});  // on a shared CPU the best rep is the steadier figure
  if (cuda) {
    cols.push_back({"cuDNN ms", 9});
    cols.push_back({"speedup", 7});
    cols.push_back({"rel err", 8});
  }
  return Table(cols);
}

void print_row(const Table& table, const nlohmann::json& r, bool cuda) {
  std::vector<std::string> cells = {r.value("name", ""), r.value("where", ""), shape_cell(r),
                                    ms_cell(num(r, "ms")), gbps_cell(num(r, "gbps")),
                                    fixed(100.0 * num(r, "copy_fraction"), 0)};
  if (!cuda) cells.push_back(ms_cell(num(r, "ms_min")));
  if (cuda) {
    cells.push_back(ms_cell(num(r, "cudnn_ms")));
    const double sp = num(r, "speedup_vs_cudnn");
    cells.push_back(std::isnan(sp) ? "-" : fixed(sp, 2) + "x");
    const double err = num(r, "cudnn_rel_error");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1e", err);
    cells.push_back(std::isnan(err) ? "-" : buf);
  }
  std::cout << table.row(cells) << "\n";
  if (r.contains("error")) std::cout << "    error: " << r["error"].get<std::string>() << "\n";
  if (r.contains("outputs_written") && !r["outputs_written"].get<bool>())
    std::cout << "    WARNING: " << r.value("unwritten_elements", int64_t(0))
              << " output elements left unwritten (or not finite) by our kernel\n";
  if (r.contains("cudnn_agrees") && !r["cudnn_agrees"].get<bool>())
    std::cout << "    WARNING: cuDNN and ours disagree (rel err above tolerance): check the baseline\n";
  if (r.contains("cudnn_note")) std::cout << "    cuDNN: " << r["cudnn_note"].get<std::string>() << "\n";
  std::cout.flush();
}

bool matches(const KernelBench& b, const std::string& filter) {
  return filter.empty() || b.name.find(filter) != std::string::npos || b.op.find(filter) != std::string::npos ||
         b.kernel.find(filter) != std::string::npos;
}

int run(const std::vector<std::string>& argv) {
  cli::Args args("bench kernels",
                 {cli::device_flag("where to run"),
                  {"json", "FILE", "also write every figure to this JSON file", ""},
                  {"filter", "TEXT", "only kernels whose name or op contains TEXT", ""},
                  {"config", "NxHxW", "only this network input: 1x512x1024 or 12x256x512", "all"},
                  {"quick", "", "fewer reps (smoke run; figures are rougher)", ""},
                  {"reps", "N", "exactly N timed reps per kernel", ""},
                  {"no-cudnn", "", "skip the cuDNN baselines", ""},
                  {"threads", "N", "CPU threads (default: all)", ""},
                  {"sets", "N", "at most N rotating input sets per kernel (1: no rotation)", "512"},
                  {"cudnn-tf32", "", "let cuDNN use TF32 tensor cores (default: float32 FMA, as ours)", ""},
                  {"list", "", "list the kernels and their shapes, run nothing", ""}},
                 argv);
  if (args.help_requested()) {
    std::cout << "usage: pmsdsen bench kernels [--device auto|cpu|cuda] [--json out.json] [options]\n\n"
                 "Times every kernel at PMSDSEN's shapes for batch 1 at 512x1024 and batch 12 at\n"
                 "256x512: median of many reps after warm-up, inputs rotated through copies larger\n"
                 "than the cache; effective bandwidth (fewest bytes / time) and its fraction of the\n"
                 "device copy bandwidth measured in the same run; on CUDA, cuDNN on the same data.\n\n"
              << args.usage();
    return 0;
  }
  const Device device = parse_device(args.get("device"));
  if (args.has("json")) check_writable(args.get("json"), "--json");  // before the measurements
  const std::string filter = args.get("filter");
  const std::string config_arg = args.get("config");
  std::vector<NetConfig> configs;
  for (const NetConfig& c : kernel_configs()) {
    const std::string short_name = str(c.batch, "x", c.height, "x", c.width);
    if (config_arg == "all" || config_arg == short_name || config_arg == c.str()) configs.push_back(c);
  }
  PMSDSEN_CHECK(!configs.empty(), "bench kernels: --config '", config_arg,
                "' is none of all, 1x512x1024, 12x256x512");

  if (args.flag("list")) {
    for (const NetConfig& c : configs)
      for (const KernelBench& b : kernel_benches(c))
        if (matches(b, filter))
          std::printf("%-12s %-24s %-11s %-34s %s  (%.3g MB)\n", c.str().c_str(), b.name.c_str(),
                      b.pass.c_str(), b.where.c_str(), b.detail.c_str(), b.bytes / 1e6);
    return 0;
  }

  require_device(device, "bench kernels");
  if (args.has("threads")) {
    const int64_t t = args.get_int("threads");
    PMSDSEN_CHECK(t >= 1, "bench kernels: --threads must be at least 1, got ", t);
    set_num_threads(static_cast<int>(t));
  }
  cudnn_settings().allow_tf32 = args.flag("cudnn-tf32");
  KernelRunOptions options;
  options.device = device;
  options.timer = timer_defaults(device, args.flag("quick"));
  if (args.has("reps")) {
    options.timer.fixed_reps = args.get_int("reps");
    PMSDSEN_CHECK(options.timer.fixed_reps >= 1, "bench kernels: --reps must be at least 1");
  }
  options.cudnn = !args.flag("no-cudnn");
  options.max_sets = args.get_int("sets");
  PMSDSEN_CHECK(options.max_sets >= 1, "bench kernels: --sets must be at least 1");

  const DeviceInfo info = device_info(device);
  nlohmann::json out = run_header("bench kernels", info);
  std::cout << "device: " << info.description << "\n";
  if (device.is_cpu() && !load_warning().empty()) std::cout << load_warning() << "\n";
  const CopyBandwidth copy = measure_copy_bandwidth(device, timer_defaults(device, false));
  std::cout << "copy bandwidth: " << fixed(copy.gbps, 1) << " GB/s (read + write, "
            << (copy.bytes >> 20) << " MiB copy, median " << ms_cell(copy.ms.median) << " ms)\n";
  if (device.is_cuda()) {
    const std::string v = cudnn_version();
    std::cout << "cuDNN: " << (v.empty() ? "not in this build" : v)
              << (v.empty() ? "" : cudnn_settings().allow_tf32 ? ", TF32 allowed" : ", float32 FMA math (no TF32)")
              << "\n";
    out["cudnn_math"] = cudnn_settings().allow_tf32 ? "tf32 allowed" : "fma (float32)";
  }
  out["copy"] = {{"gbps", copy.gbps}, {"bytes", copy.bytes}, {"ms", copy.ms.median},
                 {"ms_p10", copy.ms.p10}, {"ms_p90", copy.ms.p90}, {"reps", copy.ms.count}};
  out["timer"] = {{"warmup_reps", options.timer.warmup_reps}, {"warmup_ms", options.timer.warmup_ms},
                  {"min_reps", options.timer.min_reps}, {"max_reps", options.timer.max_reps},
                  {"target_ms", options.timer.target_ms}, {"fixed_reps", options.timer.fixed_reps}};
  out["records"] = nlohmann::json::array();

  const Table table = kernel_table(device.is_cuda());
  int failed = 0, ran = 0;
  for (const NetConfig& c : configs) {
    std::cout << "\nnetwork input " << c.str() << "\n" << table.header() << "\n";
    for (const KernelBench& b : kernel_benches(c)) {
      if (!matches(b, filter)) continue;
      nlohmann::json r = run_kernel_bench(b, options, info, copy.gbps);
      ++ran;
      failed += r.contains("error") ? 1 : 0;
      print_row(table, r, device.is_cuda());
      out["records"].push_back(std::move(r));
      write_json(args.get("json"), out);  // partial results survive a crash
    }
  }
  PMSDSEN_CHECK(ran > 0, "bench kernels: no kernel matches --filter '", filter, "'");
  write_json(args.get("json"), out);
  if (args.has("json")) std::cout << "\nwrote " << args.get("json") << "\n";
  std::cout << ran - failed << " of " << ran << " kernels ran\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace

int bench_kernels_main(const std::vector<std::string>& argv) { return run(argv); }

}  // namespace pmsdsen::bench
