// pmsdsen bench model: the whole network. Inference (evaluation mode, no autograd) at
// 1x3x512x1024 and 4x3x512x1024, frames/s; a training step (forward, the 3-output loss,
// backward, SGD) at 12x3x256x512 and 6x3x512x1024; the peak device memory of each. On
// CUDA, inference is also timed replaying a CUDA graph when the forward can be captured.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
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
#include "bench/cuda_graph.h"
#include "bench/table.h"
#include "bench/timer.h"
#include "core/allocator.h"
#include "core/init.h"
#include "core/parallel.h"
#include "examples/cli.h"
#include "models/loss.h"
#include "models/pmsdsen.h"

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
  int64_t warmup = -1, reps = -1;  // -1: per-record defaults
};

Tensor random_labels(int64_t n, int64_t h, int64_t w, int64_t classes, Device d, Generator& gen) {
  std::vector<int64_t> v(static_cast<size_t>(n * h * w));
  for (int64_t& t : v) t = gen.bernoulli(0.1) ? 255 : gen.randint(0, classes - 1);
  return Tensor::from_vector(v, {n, h, w}, d);
}

// One record's model, data and step, built with the peak-memory counter freshly reset,
// so that the peak covers the model, its inputs and the steps (as PyTorch's figure).
struct Runner {
  Runner(const ModelRecord& r, const Options& o) : record(r), opt(o) {
    Generator gen(0);
    model = std::make_unique<PMSDSEN>(o.config, gen);
    model->to(o.device);
    x = Tensor::empty({r.batch, 3, r.height, r.width}, DType::F32, o.device);
    init::uniform_(x, -2.0, 2.0, gen);
    if (r.name == "inference") {
      model->eval();
    } else {
      model->train();
      target = random_labels(r.batch, r.height, r.width, o.config.classes, o.device, gen);
      sgd = std::make_unique<Sgd>(model->parameters());
    }
  }

  void step() {
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
  std::unique_ptr<PMSDSEN> model;
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
void run_record(const ModelRecord& r, const Options& o, nlohmann::json& records, std::vector<std::string>& notes,
                const Table& table) {
  empty_cache(o.device);
  reset_peak_memory(o.device);
  auto runner = std::make_unique<Runner>(r, o);
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
  const size_t peak = memory_stats(o.device).peak_bytes;
  nlohmann::json j = to_json(r, "eager", s, peak, o);
  std::cout << table.row({r.name, shape_of(r), "eager", ms_cell(s.median), fixed(j["fps"].get<double>(), 2),
                          fixed(static_cast<double>(peak) / (1 << 20), 0)})
            << "\n";
  std::cout.flush();
  records.push_back(std::move(j));

  if (!(o.device.is_cuda() && o.graph && r.name == "inference")) return;
  // The same runner, warmed up: every allocation the forward makes is now a cache hit.
  try {
    reset_peak_memory(o.device);
    CapturedGraph graph([&] { runner->step(); });
    const Stats g = time_reps(o.device, [&](int64_t) { graph.replay(); }, timer);
    const size_t gpeak = memory_stats(o.device).peak_bytes;
    nlohmann::json gj = to_json(r, "cuda_graph", g, gpeak, o);
    gj["graph_nodes"] = graph.nodes();
    std::cout << table.row({r.name, shape_of(r), "cuda_graph", ms_cell(g.median), fixed(gj["fps"].get<double>(), 2),
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
                  {"no-graph", "", "CUDA: eager inference only (no CUDA graph capture)", ""}},
                 argv);
  if (args.help_requested()) {
    std::cout << "usage: pmsdsen bench model [--device auto|cpu|cuda] [--json out.json] [options]\n\n"
                 "Times PMSDSEN: inference (evaluation mode, no autograd; the prediction head unless\n"
                 "--all-heads) at 1x3x512x1024 and 4x3x512x1024, and a training step (forward, the sum\n"
                 "of the three outputs' cross-entropies, backward, SGD) at 12x3x256x512 and\n"
                 "6x3x512x1024: median time after warm-up (CUDA events on the GPU), frames/s and the\n"
                 "peak memory of each. The same fields as tools/bench_torch.py.\n\n"
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
  PMSDSEN_CHECK(o.config.classes >= 1, "bench model: --classes must be positive");
  o.all_heads = args.flag("all-heads");
  o.graph = !args.flag("no-graph");
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
  std::vector<ModelRecord> selected;
  for (const ModelRecord& r : all_records()) {
    const bool want = args.flag("quick") ? (r.name == "inference" && r.batch == 1)
                                         : std::find(wanted.begin(), wanted.end(), r.name) != wanted.end();
    if (want) selected.push_back(r);
  }
  PMSDSEN_CHECK(!selected.empty(), "bench model: no record selected");

  const DeviceInfo info = device_info(o.device);
  nlohmann::json out = run_header("bench model", info);
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
