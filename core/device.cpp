#include "core/device.h"

#include "core/error.h"

#ifdef PMSDSEN_WITH_CUDA
#include "core/cuda_env.h"
#endif

namespace pmsdsen {

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
