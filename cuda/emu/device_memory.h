#pragma once
// Device memory of the emulated GPU: one reserved range of the address space, kept
// inaccessible (PROT_NONE) except while the runtime copies, a library call or a kernel
// runs (DeviceAccess). Host code that dereferences a device pointer faults at once and
// is told so. Allocations are 256-byte aligned like cudaMalloc's and filled with 0xFF
// (NaN as float); under AddressSanitizer a gap after each is unaddressable.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cuda_runtime_api.h"

namespace pmsdsen::emu {

cudaError_t device_allocate(void** ptr, size_t bytes);
cudaError_t device_free(void* ptr);
size_t device_capacity();
size_t device_in_use();

// True when p lies in the device arena (allocated or not).
bool in_arena(const void* p);
// "" when [p, p + bytes) lies inside one live allocation (p may be its end when bytes is
// 0), else what is wrong with it, naming the address.
std::string check_device_range(const void* p, size_t bytes);

// Host code may touch device memory while one of these is alive (any thread).
class DeviceAccess {
 public:
  DeviceAccess();
  ~DeviceAccess();
  DeviceAccess(const DeviceAccess&) = delete;
  DeviceAccess& operator=(const DeviceAccess&) = delete;
};

// Fills device bytes with a value (no checks: callers check the range).
void fill_device(void* p, int value, size_t bytes);

// Releases the host pages behind the whole 2 MiB pages of [p, p + bytes), whose contents
// are dead (a block returned to the caching allocator).
void discard_device(void* p, size_t bytes);

// The largest pitch of a 2D copy (an H100's, unless a test lowered it).
size_t max_pitch();

// Set while kernels run, for the fault message.
void set_kernel_running(const char* kernel_name);

}  // namespace pmsdsen::emu
