#pragma once
#include <cstdint>
#include <string>

namespace pmsdsen {

enum class DeviceType : uint8_t { CPU, CUDA };

// Where a tensor lives. One CUDA device (index 0) is used by the library.
struct Device {
  DeviceType type = DeviceType::CPU;

  static Device cpu() { return {DeviceType::CPU}; }
  static Device cuda() { return {DeviceType::CUDA}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device& o) const { return type == o.type; }
  bool operator!=(const Device& o) const { return type != o.type; }
  std::string str() const { return is_cuda() ? "cuda" : "cpu"; }
};

// The one device rule of every command: "auto" is CUDA when a usable GPU is present
// (cuda_available()), else the CPU; "cpu"; "cuda" (also "cuda:0", "gpu"). Anything else
// is an error naming the text.
Device parse_device(const std::string& text);

// True when the library was built with the CUDA backend.
bool cuda_compiled();
// True when the CUDA backend is built and a usable GPU is present.
bool cuda_available();
// True when that GPU is the emulated one (cuda/emu): kernels run correctly, but slowly.
bool cuda_emulated();
// "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)" or why there is none.
std::string cuda_device_description();
// Throws a clear error when `device` is CUDA and no GPU can be used.
void require_device(Device device, const char* who);

// Waits for all queued device work (no-op on the CPU).
void synchronize(Device device);

}  // namespace pmsdsen
