// Device queries of the emulated H100. PMSDSEN_EMU_DEVICES=0 hides it, for testing the
// paths taken without a GPU.
#include <cstdlib>
#include <cstring>
#include <string>

#include "cuda/emu/device_memory.h"
#include "cuda/emu/errors.h"
#include "cuda/emu/h100.h"

namespace pmsdsen::emu {
namespace {

bool present() {
  static const bool p = [] {
    const char* env = std::getenv("PMSDSEN_EMU_DEVICES");
    return !(env && std::strcmp(env, "0") == 0);
  }();
  return p;
}

cudaError_t check_device(int device, const char* api) {
  if (!present()) return fail(cudaErrorNoDevice, std::string(api) + ": PMSDSEN_EMU_DEVICES=0 hides the emulated GPU");
  if (device != 0) return fail(cudaErrorInvalidDevice, std::string(api) + ": device " + std::to_string(device) + " (there is one, 0)");
  return cudaSuccess;
}

}  // namespace
}  // namespace pmsdsen::emu

using namespace pmsdsen::emu;

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return fail(cudaErrorInvalidValue, "cudaGetDeviceCount: null argument");
  *count = present() ? 1 : 0;
  return present() ? cudaSuccess : fail(cudaErrorNoDevice, "PMSDSEN_EMU_DEVICES=0 hides the emulated GPU");
}

cudaError_t cudaGetDevice(int* device) {
  if (!device) return fail(cudaErrorInvalidValue, "cudaGetDevice: null argument");
  *device = 0;
  return check_device(0, "cudaGetDevice");
}

cudaError_t cudaSetDevice(int device) { return check_device(device, "cudaSetDevice"); }

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop) return fail(cudaErrorInvalidValue, "cudaGetDeviceProperties: null argument");
  if (const cudaError_t e = check_device(device, "cudaGetDeviceProperties"); e != cudaSuccess) return e;
  std::memset(prop, 0, sizeof *prop);
  std::strncpy(prop->name, "NVIDIA H100 80GB HBM3 (emulated on the CPU)", sizeof prop->name - 1);
  prop->totalGlobalMem = device_capacity();
  prop->sharedMemPerBlock = h100::kSharedPerBlock;
  prop->sharedMemPerBlockOptin = h100::kSharedPerBlockOptin;
  prop->regsPerBlock = 65536;
  prop->warpSize = 32;
  prop->memPitch = max_pitch();
  prop->maxThreadsPerBlock = static_cast<int>(h100::kMaxThreadsPerBlock);
  for (int i = 0; i < 3; ++i) {
    prop->maxThreadsDim[i] = static_cast<int>(h100::kMaxBlockDim[i]);
    prop->maxGridSize[i] = static_cast<int>(h100::kMaxGridDim[i]);
  }
  prop->clockRate = 1980000;
  prop->totalConstMem = 65536;
  prop->major = h100::kComputeMajor;
  prop->minor = h100::kComputeMinor;
  prop->multiProcessorCount = h100::kMultiProcessors;
  prop->memoryClockRate = 2619000;
  prop->memoryBusWidth = 5120;
  prop->l2CacheSize = h100::kL2Bytes;
  prop->maxThreadsPerMultiProcessor = h100::kMaxThreadsPerMultiProcessor;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!value) return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute: null argument");
  if (const cudaError_t e = check_device(device, "cudaDeviceGetAttribute"); e != cudaSuccess) return e;
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = static_cast<int>(h100::kMaxThreadsPerBlock); break;
    case cudaDevAttrMaxPitch: *value = static_cast<int>(max_pitch()); break;
    case cudaDevAttrMultiProcessorCount: *value = h100::kMultiProcessors; break;
    case cudaDevAttrL2CacheSize: *value = h100::kL2Bytes; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(h100::kSharedPerBlockOptin); break;
    default: return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute: attribute not emulated");
  }
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  if (!version) return fail(cudaErrorInvalidValue, "cudaRuntimeGetVersion: null argument");
  *version = 13000;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
  if (!version) return fail(cudaErrorInvalidValue, "cudaDriverGetVersion: null argument");
  *version = 13000;
  return cudaSuccess;
}
