// pmsdsen bench model: the whole network. Inference (evaluation mode, no autograd) at
// 1x3x512x1024 and 4x3x512x1024, frames/s; a training step (forward, the 3-output loss,
// backward, SGD) at 12x3x256x512 and 6x3x512x1024; the peak device memory of each. On
// CUDA, inference is also timed replaying a CUDA graph when the forward can be captured.
// On the CPU, inference is timed twice, side by side: the eager path (autograd's ops,
// evaluation mode) and the inference plan (models/plan/), with the plan's per-step
// profile on request.
#include <sys/resource.h>

#include <algorithm>
#include <map>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/sgd.h"
#include "core/file_io.h"
#include "bench/bench_common.h"
#include "bench/commands.h"
#include "cuda/graph.h"
#include "bench/table.h"
#include "bench/timer.h"
#include "core/allocator.h"
#include "core/init.h"
#include "core/parallel.h"
#include "examples/cli.h"
#include "models/fused_model.h"
#ifdef PMSDSEN_CUDA_EMULATE
#include "emu/launch.h"
#endif
#include "models/loss.h"
#include "models/plan/plan.h"
#include "models/pmsdsen.h"
#include "models/weights.h"

namespace pmsdsen::bench {
namespace {

constexpr double kLr = 0.01;  // as tools/bench_torch.py (momentum 0.9, weight decay 1e-4: SgdOptions' defaults)

struct ModelRecord {
  std::string name;  // "inference" or "train_step"
  int64_t batch, height, width;
};

const std::vector<ModelRecord>& all_records() {
  static const std::vector<ModelRecord> r = {{"inference", 1, 512, 1024},
                                             {"inference", 4, 512, 1024},
                                             {"train_step", 12, 256, 512},
                                             {"train_step", 6, 512, 1024}};
  return r;
}

struct Options {
  Device device;
  PmsdsenConfig config;
  bool all_heads = false;  // inference computes the two deep-supervision heads too
  bool graph = true;
  std::vector<std::string> modes;  // inference: CPU eager, plan; CUDA eager, fused
  int profile_runs = 0;  // > 0: the plan's per-step profile over this many more runs
  std::string weights;   // a weights file instead of the seed-0 initialisation
  std::vector<int64_t> batches;  // inference records of these batch sizes only (empty: all)
  int64_t warmup = -1, reps = -1;  // -1: per-record defaults
};

// The process's peak resident set so far (getrusage), bytes.
size_t peak_rss() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<size_t>(u.ru_maxrss) * 1024;
}

Tensor random_labels(int64_t n, int64_t h, int64_t w, int64_t classes, Device d, Generator& gen) {
  std::vector<int64_t> v(static_cast<size_t>(n * h * w));
  for (int64_t& t : v) t = gen.bernoulli(0.1) ? 255 : gen.randint(0, classes - 1);
  return Tensor::from_vector(v, {n, h, w}, d);
}

// One record's model, data and step, built with the peak-memory counter freshly reset,
// so that the peak covers the model, its inputs and the steps (as PyTorch's figure).
struct Runner {
  Runner(const ModelRecord& r, const Options& o, const std::string& m = "eager") : record(r), opt(o), mode(m) {
    Generator gen(0);
    model = std::make_unique<PMSDSEN>(o.config, gen);
    if (!o.weights.empty()) load_weights(*model, o.weights);
    model->to(o.device);
    x = Tensor::empty({r.batch, 3, r.height, r.width}, DType::F32, o.device);
    init::uniform_(x, -2.0, 2.0, gen);
    if (r.name == "inference") {
      model->eval();
      if (mode == "plan") plan = std::make_unique<plan::InferencePlan>(*model);
      if (mode == "fused") model = fused_copy(*model, o.device);  // BN folded once, epilogues fused
    } else {
      model->train();
      target = random_labels(r.batch, r.height, r.width, o.config.classes, o.device, gen);
      sgd = std::make_unique<Sgd>(model->parameters());
    }
  }

  void step() {
    if (plan) {
      out = PmsdsenOutput();  // as a caller that is done with the last outputs: the plan reuses them
      out = plan->run(x, opt.all_heads);
      return;
    }
    if (!sgd) {
      autograd::NoGradGuard no_grad;
      if (opt.all_heads) {
        out = model->run(x);
      } else {
        out.logits = model->forward(x);
      }
      return;
    }
    sgd->zero_grad();
    const PmsdsenOutput o = model->run(x);
    const SegLoss loss = segmentation_loss(o, target);
    backward(loss.total);
    sgd->step(kLr);
  }

  ModelRecord record;
  Options opt;
  std::string mode;
  std::unique_ptr<PMSDSEN> model;
  std::unique_ptr<plan::InferencePlan> plan;
  std::unique_ptr<Sgd> sgd;
  Tensor x, target;
  PmsdsenOutput out;  // the last inference's outputs (kept alive: a captured graph writes them)
};

nlohmann::json to_json(const ModelRecord& r, const std::string& mode, const Stats& s, size_t peak,
                       const Options& o) {
  nlohmann::json j;
  j["name"] = r.name;
  j["batch"] = r.batch;
  j["height"] = r.height;
  j["width"] = r.width;
  j["mode"] = mode;
  j["ms"] = s.median;
  j["fps"] = s.median > 0 ? static_cast<double>(r.batch) / (s.median / 1e3) : 0.0;
  j["peak_bytes"] = peak;
  j["peak_source"] = "pmsdsen allocator: bytes held by live tensors (memory_stats peak_bytes)";
  j["ms_min"] = s.min;
  j["ms_max"] = s.max;
  j["ms_p10"] = s.p10;
  j["ms_p90"] = s.p90;
  j["reps"] = s.count;
  if (!std::isnan(s.cpu_median)) j["cpu_ms"] = s.cpu_median;  // process CPU time per run (CPU only)
  if (r.name == "inference") j["heads"] = o.all_heads ? 3 : 1;
  return j;
}

TimerOptions record_timer(const ModelRecord& r, const Options& o) {
  const bool cuda = o.device.is_cuda(), inference = r.name == "inference";
  TimerOptions t;
  t.warmup_reps = o.warmup >= 0 ? o.warmup : (cuda ? (inference ? 10 : 5) : 0);  // CPU: the estimate run warms up
  t.warmup_ms = 0;
  t.fixed_reps = o.reps > 0 ? o.reps : (cuda ? (inference ? 50 : 20) : (inference ? 5 : 3));
  return t;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string shape_of(const ModelRecord& r) { return str(r.batch, "x3x", r.height, "x", r.width); }

// Runs one record (and, for inference on CUDA, its graph replay); appends to records
// and notes.
// The plan's per-step profile: time by kind of step, and the slowest steps.
void print_profile(const plan::InferencePlan& p) {
  const std::vector<plan::StepProfile>& prof = p.profile();
  const double runs = std::max(1, p.profile_runs());
  // Wall time per step, and CPU time of all threads (what a step costs when other work
  // shares the cores: waiting threads sleep and are not counted).
  double total = 0, total_cpu = 0;
  struct Kind {
    double seconds = 0, cpu = 0, macs = 0;
  };
  std::map<std::string, Kind> by_kind;
  for (const plan::StepProfile& s : prof) {
    total += s.seconds;
    total_cpu += s.cpu_seconds;
    Kind& k = by_kind[s.kind];
    k.seconds += s.seconds, k.cpu += s.cpu_seconds, k.macs += s.macs;
  }
  std::printf("    plan profile, mean of %d runs: %.1f ms wall, %.1f ms CPU (all threads) in %zu steps\n",
              p.profile_runs(), 1e3 * total / runs, 1e3 * total_cpu / runs, prof.size());
  std::printf("    arena %.1f MiB; its buffers together %.1f MiB (each written once per program run)\n",
              static_cast<double>(p.arena_bytes()) / (1 << 20), static_cast<double>(p.buffer_bytes()) / (1 << 20));
  std::vector<std::pair<std::string, Kind>> kinds(by_kind.begin(), by_kind.end());
  std::sort(kinds.begin(), kinds.end(), [](const auto& a, const auto& b) { return a.second.cpu > b.second.cpu; });
  std::printf("    %-20s %9s %9s %6s %13s\n", "kind", "wall ms", "CPU ms", "CPU %", "GMAC/CPU s");
  for (const auto& [kind, v] : kinds)
    std::printf("    %-20s %9.2f %9.2f %6.1f %13.2f\n", kind.c_str(), 1e3 * v.seconds / runs, 1e3 * v.cpu / runs,
                100.0 * v.cpu / total_cpu, v.cpu > 0 && v.macs > 0 ? v.macs * runs / v.cpu / 1e9 : 0.0);
  std::vector<size_t> order(prof.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return prof[a].cpu_seconds > prof[b].cpu_seconds; });
  std::printf("    steps by CPU time:\n");
  for (size_t i = 0; i < std::min<size_t>(25, order.size()); ++i) {
    const plan::StepProfile& s = prof[order[i]];
    std::printf("    %-44s %-18s %8.2f ms wall %8.2f ms CPU %6.1f%% %8.2f GMAC/CPU s\n", s.name.c_str(), s.kind.c_str(),
                1e3 * s.seconds / runs, 1e3 * s.cpu_seconds / runs, 100.0 * s.cpu_seconds / total_cpu,
                s.cpu_seconds > 0 && s.macs > 0 ? s.macs * runs / s.cpu_seconds / 1e9 : 0.0);
  }
}

void run_mode(const ModelRecord& r, const Options& o, const std::string& mode, nlohmann::json& records,
              std::vector<std::string>& notes, const Table& table);

#ifdef PMSDSEN_CUDA_EMULATE
// The emulated GPU counts launches: one more forward, its kernels and cuBLAS calls by
// name (what a fusion saves, where no GPU times it).
void print_launch_counts(Runner& runner, nlohmann::json& j) {
  emu::reset_launch_counts();
  runner.step();
  synchronize(runner.opt.device);
  const std::map<std::string, int64_t> counts = emu::launch_counts();
  std::vector<std::pair<int64_t, std::string>> order;
  int64_t total = 0;
  for (const auto& [name, n] : counts) {
    order.push_back({n, name});
    total += n;
  }
  std::sort(order.rbegin(), order.rend());
  std::printf("    launches per forward (emulated GPU): %lld\n", static_cast<long long>(total));
  for (const auto& [n, name] : order) std::printf("      %6lld  %s\n", static_cast<long long>(n), name.c_str());
  j["launches"] = total;
}
#endif

void run_record(const ModelRecord& r, const Options& o, nlohmann::json& records, std::vector<std::string>& notes,
                const Table& table) {
  if (r.name == "inference") {
    for (const std::string& mode : o.modes) run_mode(r, o, mode, records, notes, table);
    if (o.device.is_cuda()) {
      const nlohmann::json *graph = nullptr, *fused = nullptr;
      for (const nlohmann::json& j : records)
        if (j["name"] == r.name && j["batch"] == r.batch && j["height"] == r.height && j["width"] == r.width) {
          if (j["mode"] == "cuda_graph") graph = &j;
          if (j["mode"] == "fused_graph") fused = &j;
        }
      if (graph && fused && (*fused)["ms"].get<double>() > 0)
        std::printf("    fused graph / graph: %.2fx faster, %d -> %d kernels\n",
                    (*graph)["ms"].get<double>() / (*fused)["ms"].get<double>(), (*graph)["graph_nodes"].get<int>(),
                    (*fused)["graph_nodes"].get<int>());
      return;
    }
    // Side by side: how much faster the plan is than the eager path in this run.
    const nlohmann::json* eager = nullptr;
    const nlohmann::json* planned = nullptr;
    for (const nlohmann::json& j : records)
      if (j["name"] == r.name && j["batch"] == r.batch && j["height"] == r.height && j["width"] == r.width)
        (j["mode"] == "eager" ? eager : j["mode"] == "plan" ? planned : eager) = &j;
    if (eager && planned && (*planned)["ms"].get<double>() > 0)
      std::printf("    plan / eager: %.2fx faster\n", (*eager)["ms"].get<double>() / (*planned)["ms"].get<double>());
    return;
  }
  run_mode(r, o, "eager", records, notes, table);
}

void run_mode(const ModelRecord& r, const Options& o, const std::string& mode, nlohmann::json& records,
              std::vector<std::string>& notes, const Table& table) {
  empty_cache(o.device);
  reset_peak_memory(o.device);
  auto runner = std::make_unique<Runner>(r, o, mode);
  const TimerOptions timer = record_timer(r, o);

  // One run first: it warms up and tells how long the timing will take.
  const auto t0 = std::chrono::steady_clock::now();
  runner->step();
  synchronize(o.device);
  const double first = seconds_since(t0);
  std::fprintf(stderr, "%s %s: first run %.3g s; timing %lld more (about %.0f s)\n", r.name.c_str(),
               shape_of(r).c_str(), first, static_cast<long long>(timer.warmup_reps + timer.fixed_reps),
               first * static_cast<double>(timer.warmup_reps + timer.fixed_reps));
  const Stats s = time_reps(o.device, [&](int64_t) { runner->step(); }, timer);
  size_t peak = memory_stats(o.device).peak_bytes;
  if (runner->plan) peak += runner->plan->memory_bytes();  // its arena, scratch and packed weights
  nlohmann::json j = to_json(r, mode, s, peak, o);
  if (runner->plan) {
    j["peak_source"] = "pmsdsen allocator (model, input, outputs) + the plan's arena, scratch and packed weights";
    j["arena_bytes"] = runner->plan->arena_bytes();
    j["buffer_bytes"] = runner->plan->buffer_bytes();
  }
  if (o.device.is_cpu()) j["peak_rss_bytes"] = peak_rss();  // the process's, all records so far
#ifdef PMSDSEN_CUDA_EMULATE
  if (o.device.is_cuda() && r.name == "inference") print_launch_counts(*runner, j);
#endif
  std::cout << table.row({r.name, shape_of(r), mode, ms_cell(s.median), fixed(j["fps"].get<double>(), 2),
                          fixed(static_cast<double>(peak) / (1 << 20), 0)})
            << "\n";
  std::cout.flush();
  records.push_back(std::move(j));
  if (runner->plan && o.profile_runs > 0) {
    runner->plan->set_profiling(true);
    for (int i = 0; i < o.profile_runs; ++i) runner->step();
    print_profile(*runner->plan);
    runner->plan->set_profiling(false);
  }

  if (!(o.device.is_cuda() && o.graph && r.name == "inference")) return;
  // The same runner, warmed up: every allocation the forward makes is now a cache hit.
  try {
    reset_peak_memory(o.device);
    cuda::CapturedGraph graph([&] { runner->step(); });
    const Stats g = time_reps(o.device, [&](int64_t) { graph.replay(); }, timer);
    const size_t gpeak = memory_stats(o.device).peak_bytes;
    const std::string graph_mode = mode == "fused" ? "fused_graph" : "cuda_graph";
    nlohmann::json gj = to_json(r, graph_mode, g, gpeak, o);
    gj["graph_nodes"] = graph.nodes();
    std::cout << table.row({r.name, shape_of(r), graph_mode, ms_cell(g.median), fixed(gj["fps"].get<double>(), 2),
                            fixed(static_cast<double>(gpeak) / (1 << 20), 0)})
              << "\n";
    records.push_back(std::move(gj));
  } catch (const std::exception& e) {
    const std::string note = str(r.name, " ", shape_of(r), ": CUDA graph capture failed, eager only (", e.what(), ")");
    std::cout << "    note: " << note << "\n";
    notes.push_back(note);
  }
  synchronize(o.device);
}

int run(const std::vector<std::string>& argv) {
  cli::Args args("bench model",
                 {cli::device_flag("where to run"),
                  {"json", "FILE", "also write the records to this JSON file", ""},
                  {"records", "LIST", "inference, train_step or both (comma-separated)", "inference,train_step"},
                  {"quick", "", "only inference at 1x3x512x1024 (a smoke run)", ""},
                  {"warmup", "N", "warm-up runs per record (default CUDA 10 inference / 5 training; CPU 0 "
                                  "after the first run)", ""},
                  {"reps", "N", "timed runs per record (default CUDA 50 / 20; CPU 5 / 3)", ""},
                  {"threads", "N", "CPU threads", ""},
                  {"act", "gelu|prelu", "the network's activation", "gelu"},
                  {"classes", "N", "output classes", "19"},
                  {"all-heads", "", "inference also computes the two deep-supervision heads (as the "
                                    "released PyTorch model's forward does)", ""},
                  {"no-graph", "", "CUDA: eager inference only (no CUDA graph capture)", ""},
                  {"modes", "LIST", "inference, comma-separated: on the CPU eager and/or plan (default both), on "
                                    "CUDA eager and/or fused (BN folded once, fused epilogues; default both)", ""},
                  {"profile", "N", "CPU: the plan's per-step profile over N more runs", ""},
                  {"batches", "LIST", "inference records of these batch sizes only (comma-separated, e.g. 1 or 1,4)",
                   ""},
                  {"weights", "FILE", "weights to load (.safetensors; their classes and activation are used) instead "
                                      "of the seed-0 initialisation", ""}},
                 argv);
  if (args.help_requested()) {
    std::cout << "usage: pmsdsen bench model [--device auto|cpu|cuda] [--json out.json] [options]\n\n"
                 "Times PMSDSEN: inference (evaluation mode, no autograd; the prediction head unless\n"
                 "--all-heads) at 1x3x512x1024 and 4x3x512x1024, and a training step (forward, the sum\n"
                 "of the three outputs' cross-entropies, backward, SGD) at 12x3x256x512 and\n"
                 "6x3x512x1024: median time after warm-up (CUDA events on the GPU), frames/s and the\n"
                 "peak memory of each. The same fields as tools/bench_torch.py. On the CPU, inference runs\n"
                 "both ways side by side: the eager path and the inference plan; on CUDA the eager\n"
                 "forward and the fused one, each also as one CUDA graph (--modes).\n\n"
              << args.usage();
    return 0;
  }
  if (args.has("json")) check_writable(args.get("json"), "--json");  // before the measurements
  Options o;
  o.device = parse_device(args.get("device"));
  require_device(o.device, "bench model");
  if (args.has("threads")) {
    const int64_t t = args.get_int("threads");
    PMSDSEN_CHECK(t >= 1, "bench model: --threads must be at least 1, got ", t);
    set_num_threads(static_cast<int>(t));
  }
  const std::string act = args.get("act");
  PMSDSEN_CHECK(act == "gelu" || act == "prelu", "bench model: --act must be gelu or prelu, got '", act, "'");
  o.config.act = act == "gelu" ? Activation::GELU : Activation::PReLU;
  o.config.classes = args.get_int("classes");
  if (args.has("weights")) {
    o.weights = args.get("weights");
    o.config = load_pmsdsen(o.weights)->config();  // checks the file before any timing
  }
  PMSDSEN_CHECK(o.config.classes >= 1, "bench model: --classes must be positive");
  o.all_heads = args.flag("all-heads");
  o.graph = !args.flag("no-graph");
  {
    o.modes.clear();
    const bool cuda = o.device.is_cuda();
    std::stringstream ss(args.has("modes") ? args.get("modes") : cuda ? "eager,fused" : "eager,plan");
    std::string item;
    while (std::getline(ss, item, ','))
      if (!item.empty()) {
        PMSDSEN_CHECK(item == "eager" || item == (cuda ? "fused" : "plan"), "bench model: --modes: unknown mode '",
                      item, "' on ", cuda ? "CUDA (eager, fused)" : "the CPU (eager, plan)");
        o.modes.push_back(item);
      }
    PMSDSEN_CHECK(!o.modes.empty(), "bench model: --modes is empty");
  }
  if (args.has("profile")) {
    o.profile_runs = static_cast<int>(args.get_int("profile"));
    PMSDSEN_CHECK(o.profile_runs >= 1, "bench model: --profile must be at least 1");
  }
  if (args.has("warmup")) o.warmup = args.get_int("warmup");
  if (args.has("reps")) {
    o.reps = args.get_int("reps");
    PMSDSEN_CHECK(o.reps >= 1, "bench model: --reps must be at least 1");
  }
  PMSDSEN_CHECK(o.warmup >= -1, "bench model: --warmup must not be negative");

  std::vector<std::string> wanted;
  {
    std::stringstream ss(args.get("records"));
    std::string item;
    while (std::getline(ss, item, ','))
      if (!item.empty()) {
        PMSDSEN_CHECK(item == "inference" || item == "train_step", "bench model: --records: unknown record '",
                      item, "' (inference, train_step)");
        wanted.push_back(item);
      }
  }
  if (args.has("batches")) {
    std::stringstream ss(args.get("batches"));
    std::string item;
    while (std::getline(ss, item, ','))
      if (!item.empty()) {
        char* end = nullptr;
        const long long b = std::strtoll(item.c_str(), &end, 10);
        PMSDSEN_CHECK(*end == '\0' && b >= 1, "bench model: --batches: '", item, "' is not a positive integer");
        o.batches.push_back(b);
      }
  }
  std::vector<ModelRecord> selected;
  for (const ModelRecord& r : all_records()) {
    bool want = args.flag("quick") ? (r.name == "inference" && r.batch == 1)
                                   : std::find(wanted.begin(), wanted.end(), r.name) != wanted.end();
    if (want && r.name == "inference" && !o.batches.empty())
      want = std::find(o.batches.begin(), o.batches.end(), r.batch) != o.batches.end();
    if (want) selected.push_back(r);
  }
  PMSDSEN_CHECK(!selected.empty(), "bench model: no record selected");

  const DeviceInfo info = device_info(o.device);
  nlohmann::json out = run_header("bench model", info);
  if (o.device.is_cpu()) out["rss_start_bytes"] = peak_rss();  // before any model is built
  out["act"] = act;
  out["classes"] = o.config.classes;
  out["inference_heads"] = o.all_heads ? 3 : 1;
  std::cout << "device: " << info.description << "\n";
  if (o.device.is_cpu() && !load_warning().empty()) std::cout << load_warning() << "\n";
  const Table table({{"record", 11, true}, {"shape", 13, true}, {"mode", 10, true}, {"median ms", 10},
                     {"fps", 9}, {"peak MiB", 9}});
  std::cout << table.header() << "\n";
  nlohmann::json records = nlohmann::json::array();
  std::vector<std::string> notes;
  int failed = 0;
  for (const ModelRecord& r : selected) {
    try {
      run_record(r, o, records, notes, table);
    } catch (const std::exception& e) {
      ++failed;
      const std::string note = str(r.name, " ", shape_of(r), " failed: ", e.what());
      std::cout << "    error: " << note << "\n";
      notes.push_back(note);
    }
    out["records"] = records;
    if (!notes.empty()) out["notes"] = notes;
    write_json(args.get("json"), out);
  }
  if (args.has("json")) std::cout << "wrote " << args.get("json") << "\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace

int bench_model_main(const std::vector<std::string>& argv) { return run(argv); }

}  // namespace pmsdsen::bench
