#include "bench/device_info.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <string>

#include "core/allocator.h"
#include "core/error.h"
#include "core/parallel.h"

#ifdef PMSDSEN_WITH_CUDA
#include "core/cuda_env.h"
#endif

namespace pmsdsen::bench {
namespace {

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(colon + 1);
        name.erase(0, name.find_first_not_of(" \t"));
        return name;
      }
    }
  }
  return "unknown CPU";
}

// The largest cache the kernel lists for CPU 0 ("32768K"), or 0. Preferred to sysconf:
// glibc reads CPUID, which some virtual machines fill with other numbers (an AMD EPYC
// guest with a 32 MiB L3 reports 320 MiB there).
int64_t sysfs_largest_cache() {
  int64_t best = 0;
  for (int i = 0; i < 8; ++i) {
    std::ifstream f("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/size");
    int64_t v = 0;
    char unit = 0;
    if (!(f >> v)) continue;
    f >> unit;
    if (unit == 'K') v <<= 10;
    else if (unit == 'M') v <<= 20;
    best = std::max(best, v);
  }
  return best;
}

int64_t cpu_last_level_cache() {
  if (const int64_t v = sysfs_largest_cache(); v > 0) return v;
  for (int name : {_SC_LEVEL3_CACHE_SIZE, _SC_LEVEL2_CACHE_SIZE}) {
    const long v = sysconf(name);
    if (v > 0) return v;
  }
  return int64_t(32) << 20;  // unknown: assume a large one, so rotation errs on the safe side
}

// Owns one raw allocation from the library's allocator.
class Buffer {
 public:
  Buffer(size_t bytes, Device device) : bytes_(bytes), device_(device), ptr_(allocate(bytes, device)) {}
  ~Buffer() { deallocate(ptr_, bytes_, device_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  void* get() const { return ptr_; }

 private:
  size_t bytes_;
  Device device_;
  void* ptr_;
};

}  // namespace

DeviceInfo device_info(Device device) {
  DeviceInfo info;
  info.device = device;
  if (device.is_cpu()) {
    info.cache_bytes = cpu_last_level_cache();
    info.description = str(cpu_model(), ", ", num_threads(), " threads, last-level cache ",
                           info.cache_bytes >> 20, " MiB");
    return info;
  }
#ifdef PMSDSEN_WITH_CUDA
  require_device(device, "bench");
  int dev = 0;
  PMSDSEN_CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp p{};
  PMSDSEN_CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
  int runtime = 0, driver = 0;
  PMSDSEN_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  PMSDSEN_CUDA_CHECK(cudaDriverGetVersion(&driver));
  info.cache_bytes = p.l2CacheSize > 0 ? p.l2CacheSize : (int64_t(50) << 20);
  info.memory_bytes = static_cast<int64_t>(p.totalGlobalMem);
  info.description = str(p.name, " (sm_", p.major, p.minor, ", ", p.multiProcessorCount, " SMs, ",
                         info.memory_bytes >> 20, " MiB, L2 ", info.cache_bytes >> 20,
                         " MiB; CUDA runtime ", runtime / 1000, ".", (runtime % 1000) / 10,
                         ", driver ", driver / 1000, ".", (driver % 1000) / 10, ")");
#else
  require_device(device, "bench");
#endif
  return info;
}

CopyBandwidth measure_copy_bandwidth(Device device, const TimerOptions& options, int64_t bytes) {
  CopyBandwidth r;
  if (bytes <= 0) {
    if (device.is_cpu()) {
      bytes = int64_t(256) << 20;
    } else {
      const int64_t mem = device_info(device).memory_bytes;
      bytes = std::min<int64_t>(int64_t(1) << 30, std::max<int64_t>(int64_t(64) << 20, mem / 8));
    }
  }
  r.bytes = bytes;
  const size_t n = static_cast<size_t>(bytes);
  {
    Buffer src(n, device), dst(n, device);
    if (device.is_cpu()) {
      // Fill both so the pages exist and the data is not all zeros.
      unsigned char* s = static_cast<unsigned char*>(src.get());
      unsigned char* d = static_cast<unsigned char*>(dst.get());
      parallel_for(0, bytes, [&](int64_t i) { s[i] = static_cast<unsigned char>(i * 131 + 7); d[i] = 1; }, 1 << 16);
      const int threads = std::max(1, num_threads());
      const int64_t chunk = (bytes + threads - 1) / threads;
      r.ms = time_reps(device, [&](int64_t) {
        parallel_for(0, threads, [&](int64_t t) {
          const int64_t lo = t * chunk, hi = std::min(bytes, lo + chunk);
          if (hi > lo) std::memcpy(d + lo, s + lo, static_cast<size_t>(hi - lo));
        });
      }, options);
    } else {
#ifdef PMSDSEN_WITH_CUDA
      PMSDSEN_CUDA_CHECK(cudaMemsetAsync(src.get(), 0x5a, n, cuda_env::stream()));
      PMSDSEN_CUDA_CHECK(cudaMemsetAsync(dst.get(), 0x01, n, cuda_env::stream()));
      r.ms = time_reps(device, [&](int64_t) {
        PMSDSEN_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), n, cudaMemcpyDeviceToDevice,
                                           cuda_env::stream()));
      }, options);
#endif
    }
  }
  empty_cache(device);  // give the large blocks back: the kernels need the memory
  r.gbps = r.ms.median > 0 ? 2.0 * static_cast<double>(bytes) / (r.ms.median * 1e6) : 0.0;
  return r;
}

}  // namespace pmsdsen::bench
