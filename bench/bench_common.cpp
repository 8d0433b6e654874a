#include "bench/bench_common.h"

#include <cstdlib>
#include <ctime>
#include <algorithm>

#include "core/parallel.h"
#include "core/safetensors.h"

#ifdef PMSDSEN_WITH_CUDNN
#include <cudnn.h>
#endif

namespace pmsdsen::bench {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string cudnn_version() {
#ifdef PMSDSEN_WITH_CUDNN
  const size_t v = cudnnGetVersion();
  return str(v / 10000, ".", (v % 10000) / 100, ".", v % 100, " (built with ", CUDNN_MAJOR, ".",
             CUDNN_MINOR, ".", CUDNN_PATCHLEVEL, ")");
#else
  return "";
#endif
}

nlohmann::json run_header(const std::string& command, const DeviceInfo& info) {
  nlohmann::json j;
  j["command"] = command;
  j["device"] = info.description;
  j["device_type"] = info.device.str();
  j["date"] = utc_now();
  j["threads"] = num_threads();
  j["cache_bytes"] = info.cache_bytes;
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3) j["load_average"] = {load[0], load[1], load[2]};
  nlohmann::json build;
  build["cuda"] = cuda_compiled();
  const std::string cudnn = cudnn_version();
  build["cudnn"] = cudnn.empty() ? nlohmann::json(nullptr) : nlohmann::json(cudnn);
  j["build"] = build;
  return j;
}

std::string load_warning() {
  double load[1] = {0};
  if (getloadavg(load, 1) != 1) return "";
  const double cores = static_cast<double>(std::max(1, num_threads()));
  if (load[0] <= 0.5 * cores + 0.5) return "";
  return str("warning: load average ", load[0], " on ", num_threads(),
             " threads: other work competes for the CPU, timings are unreliable");
}

void write_json(const std::string& path, const nlohmann::json& j) {
  if (path.empty()) return;
  write_file_atomically(path, j.dump(1) + "\n");
}

}  // namespace pmsdsen::bench
