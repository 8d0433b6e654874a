#pragma once
// Pieces both `pmsdsen bench` commands share: the run's header in the JSON, and
// writing the JSON.
#include <string>

#include <nlohmann/json.hpp>

#include "bench/device_info.h"

namespace pmsdsen::bench {

// "2026-11-24T10:31:02Z"
std::string utc_now();

// {"command", "device", "device_type", "date", "threads", "cache_bytes", "build": {...}}
nlohmann::json run_header(const std::string& command, const DeviceInfo& info);

// A warning when the machine is busy with other work (load average above half the
// threads), else "". CPU timings are only meaningful on a quiet machine.
std::string load_warning();

// Writes the JSON (indented) atomically; a no-op for an empty path.
void write_json(const std::string& path, const nlohmann::json& j);

// The cuDNN version this binary was built and runs with ("9.19.0 (built 9.19.0)"), or
// "" without cuDNN. Only meaningful on CUDA builds.
std::string cudnn_version();

}  // namespace pmsdsen::bench
