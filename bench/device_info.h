#pragma once
// What the benchmarks report about the machine, and the copy-bandwidth floor every
// kernel's effective bandwidth is compared with (measured in the same run).
#include <cstdint>
#include <string>

#include "bench/stats.h"
#include "bench/timer.h"
#include "core/device.h"

namespace pmsdsen::bench {

struct DeviceInfo {
  Device device;
  std::string description;  // GPU name, SMs, memory, L2; or the CPU model and threads
  int64_t cache_bytes = 0;  // L2 (GPU) or last-level cache (CPU): what input rotation must exceed
  int64_t memory_bytes = 0; // device memory (GPU) or 0 (CPU: not bounded here)
};

DeviceInfo device_info(Device device);

struct CopyBandwidth {
  double gbps = 0.0;      // (bytes read + bytes written) / median time, in GB/s (1e9)
  int64_t bytes = 0;      // size of one copy
  Stats ms;               // per-copy times
};

// A large copy within device memory: cudaMemcpyAsync device-to-device on the library
// stream, or memcpy split across the CPU threads. bytes 0 picks a size well beyond the
// cache (GPU: 1 GiB, or an eighth of the memory if smaller; CPU: 256 MiB).
CopyBandwidth measure_copy_bandwidth(Device device, const TimerOptions& options, int64_t bytes = 0);

}  // namespace pmsdsen::bench
