#include "core/device.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/comm.h"
#include "core/error.h"

#ifdef PMSDSEN_WITH_CUDA
#include "core/cuda_env.h"
#endif

namespace pmsdsen {

namespace {
// One GPU a rank: a process that a launcher started as local rank k of its machine sees
// only GPU k (of the ones CUDA_VISIBLE_DEVICES lists, modulo their count; of the
// driver's GPUs when it lists none and there are more than k). Set before the CUDA
// runtime starts, so it holds for every thread.
[[maybe_unused]] void restrict_to_local_gpu() {
  const comm::Launch launch = comm::launch_from_environment();
  if (launch.size <= 1 || launch.local_rank < 0) return;
  const char* listed = std::getenv("CUDA_VISIBLE_DEVICES");
  std::vector<std::string> ids;
  if (listed && *listed) {
    std::string s = listed;
    for (size_t start = 0; start <= s.size();) {
      const size_t comma = std::min(s.find(',', start), s.size());
      if (comma > start) ids.push_back(s.substr(start, comma - start));
      start = comma + 1;
    }
  }
  if (ids.empty()) {
    // The driver's list, read without starting the CUDA runtime (which would fix the
    // visible devices). More ranks than GPUs, or no list: every GPU stays visible.
    std::error_code ec;
    int64_t gpus = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/driver/nvidia/gpus", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
      ++gpus;
    if (launch.local_rank < gpus) setenv("CUDA_VISIBLE_DEVICES", std::to_string(launch.local_rank).c_str(), 1);
    return;
  }
  setenv("CUDA_VISIBLE_DEVICES", ids[static_cast<size_t>(launch.local_rank) % ids.size()].c_str(), 1);
}
}  // namespace

Device parse_device(const std::string& text) {
  if (text == "auto") return cuda_available() ? Device::cuda() : Device::cpu();
  if (text == "cpu") return Device::cpu();
  if (text == "cuda" || text == "cuda:0" || text == "gpu") return Device::cuda();
  PMSDSEN_FAIL("unknown device '", text, "': expected auto, cpu or cuda");
}

bool cuda_compiled() {
#ifdef PMSDSEN_WITH_CUDA
  return true;
#else
  return false;
#endif
}

bool cuda_available() {
#ifdef PMSDSEN_WITH_CUDA
  static const bool available = [] {
    restrict_to_local_gpu();
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
      cudaGetLastError();  // clear the sticky "no device" error
      return false;
    }
    return count > 0;
  }();
  return available;
#else
  return false;
#endif
}

bool cuda_emulated() {
#ifdef PMSDSEN_CUDA_EMULATE
  return true;
#else
  return false;
#endif
}

std::string cuda_device_description() {
#ifdef PMSDSEN_WITH_CUDA
  if (!cuda_available()) return "no CUDA device present";
  cudaDeviceProp prop{};
  PMSDSEN_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  return str(prop.name, " (sm_", prop.major, prop.minor, ", ",
             static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0), " GiB)");
#else
  return "built without CUDA";
#endif
}

void require_device(Device device, const char* who) {
  if (!device.is_cuda()) return;
  PMSDSEN_CHECK(cuda_compiled(), who, ": device 'cuda' requested, but this build has no CUDA backend "
                "(configure with the CUDA toolkit and -DPMSDSEN_CUDA=ON)");
  PMSDSEN_CHECK(cuda_available(), who, ": device 'cuda' requested, but no CUDA GPU is present");
}

void synchronize(Device device) {
#ifdef PMSDSEN_WITH_CUDA
  if (device.is_cuda()) PMSDSEN_CUDA_CHECK(cudaStreamSynchronize(cuda_env::stream()));
#else
  (void)device;
#endif
}

#ifdef PMSDSEN_WITH_CUDA
namespace cuda_env {
cudaStream_t stream() {
  static cudaStream_t s = [] {
    require_device(Device::cuda(), "cuda stream");
    cudaStream_t created = nullptr;
    PMSDSEN_CUDA_CHECK(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking));
    return created;
  }();
  return s;
}
}  // namespace cuda_env
#endif

}  // namespace pmsdsen
