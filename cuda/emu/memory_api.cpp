// Allocation, copies and memsets of the emulated device, each range checked against the
// live allocations; the caching allocator's hooks.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cuda/emu/device_memory.h"
#include "cuda/emu/errors.h"
#include "cuda/emu/h100.h"
#include "cuda/emu/queue.h"
#include "cuda/emu/sanitizers.h"
#include "emu/hooks.h"

namespace pmsdsen::emu {
namespace {

std::atomic<size_t> g_max_pitch{0};

const char* kind_name(cudaMemcpyKind k) {
  switch (k) {
    case cudaMemcpyHostToHost: return "HostToHost";
    case cudaMemcpyHostToDevice: return "HostToDevice";
    case cudaMemcpyDeviceToHost: return "DeviceToHost";
    case cudaMemcpyDeviceToDevice: return "DeviceToDevice";
    case cudaMemcpyDefault: return "Default";
  }
  return "?";
}

// "" when the side of a copy is where `kind` says, covering `bytes` (rows of `width`
// bytes `pitch` apart: the last row needs only `width`).
std::string check_side(const void* p, bool device, size_t width, size_t pitch, size_t rows) {
  const size_t extent = rows == 0 ? 0 : pitch * (rows - 1) + width;
  if (device) return check_device_range(p, extent);
  if (in_arena(p)) return "address is device memory, where a host pointer was expected";
  return "";
}

cudaError_t copy_2d(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t rows,
                    cudaMemcpyKind kind, cudaStream_t stream, const char* api) {
  if (width == 0 || rows == 0) return cudaSuccess;
  if (kind == cudaMemcpyDefault)
    kind = static_cast<cudaMemcpyKind>((in_arena(src) ? 2 : 0) + (in_arena(dst) ? 1 : 0));
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDeviceToDevice)
    return fail(cudaErrorInvalidMemcpyDirection, std::string(api) + ": unknown copy kind");
  const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  const std::string what = std::string(api) + " (" + kind_name(kind) + ", " + std::to_string(width * rows) + " bytes)";
  if (const std::string why = check_side(dst, dst_device, width, dpitch, rows); !why.empty())
    return fail(cudaErrorInvalidValue, what + ": destination: " + why);
  if (const std::string why = check_side(src, src_device, width, spitch, rows); !why.empty())
    return fail(cudaErrorInvalidValue, what + ": source: " + why);
  if (!(dst_device && src_device))  // the host is involved
    if (const cudaError_t e = refuse_while_capturing(api); e != cudaSuccess) return e;
  return submit(stream, api, [=] {
    DeviceAccess access;
    for (size_t r = 0; r < rows; ++r)
      std::memcpy(static_cast<char*>(dst) + r * dpitch, static_cast<const char*>(src) + r * spitch, width);
    return cudaSuccess;
  });
}

cudaError_t set(void* p, int value, size_t bytes, cudaStream_t stream, const char* api) {
  if (bytes == 0) return cudaSuccess;
  if (const std::string why = check_device_range(p, bytes); !why.empty())
    return fail(cudaErrorInvalidValue, std::string(api) + " of " + std::to_string(bytes) + " bytes: " + why);
  return submit(stream, api, [=] {
    DeviceAccess access;
    fill_device(p, value, bytes);
    return cudaSuccess;
  });
}

}  // namespace

size_t max_pitch() {
  const size_t p = g_max_pitch.load();
  return p ? p : h100::kMemPitch;
}

void set_max_pitch(size_t bytes) { g_max_pitch = bytes; }

void block_handed_out(void* block, size_t requested, size_t size) {
  asan_unpoison(block, requested);
  asan_poison(static_cast<char*>(block) + requested, size - requested);
  DeviceAccess access;
  fill_device(block, 0xff, requested);
}

void block_cached(void* block, size_t size) {
  asan_poison(block, size);
  discard_device(block, size);
}

}  // namespace pmsdsen::emu

using namespace pmsdsen::emu;

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  if (!ptr) return fail(cudaErrorInvalidValue, "cudaMalloc: null output pointer");
  *ptr = nullptr;
  if (const cudaError_t e = refuse_while_capturing("cudaMalloc"); e != cudaSuccess) return e;
  if (bytes == 0) return cudaSuccess;
  if (device_allocate(ptr, bytes) != cudaSuccess)
    return fail(cudaErrorMemoryAllocation, "cudaMalloc of " + std::to_string(bytes) + " bytes: " +
                                               std::to_string(device_in_use()) + " of the emulated device's " +
                                               std::to_string(device_capacity()) + " bytes are in use");
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (!ptr) return cudaSuccess;
  if (device_free(ptr) != cudaSuccess)
    return fail(cudaErrorInvalidValue, "cudaFree of an address cudaMalloc did not return (or freed already)");
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** ptr, size_t bytes) {
  if (!ptr) return fail(cudaErrorInvalidValue, "cudaMallocHost: null output pointer");
  *ptr = std::malloc(bytes ? bytes : 1);
  return *ptr ? cudaSuccess : fail(cudaErrorMemoryAllocation, "cudaMallocHost of " + std::to_string(bytes) + " bytes");
}

cudaError_t cudaFreeHost(void* ptr) {
  if (in_arena(ptr)) return fail(cudaErrorInvalidValue, "cudaFreeHost of device memory");
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  if (!free_bytes || !total_bytes) return fail(cudaErrorInvalidValue, "cudaMemGetInfo: null argument");
  *total_bytes = device_capacity();
  *free_bytes = *total_bytes - device_in_use();
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  return copy_2d(dst, bytes, src, bytes, bytes, 1, kind, nullptr, "cudaMemcpy");
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  return copy_2d(dst, bytes, src, bytes, bytes, 1, kind, stream, "cudaMemcpyAsync");
}

cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                              cudaMemcpyKind kind, cudaStream_t stream) {
  if (width > dpitch || width > spitch || dpitch > max_pitch() || spitch > max_pitch())
    return fail(cudaErrorInvalidPitchValue, "cudaMemcpy2DAsync: width " + std::to_string(width) + ", pitches " +
                                                std::to_string(dpitch) + " and " + std::to_string(spitch) +
                                                " (each must be at least the width and at most " +
                                                std::to_string(max_pitch()) + ")");
  return copy_2d(dst, dpitch, src, spitch, width, height, kind, stream, "cudaMemcpy2DAsync");
}

cudaError_t cudaMemset(void* ptr, int value, size_t bytes) { return set(ptr, value, bytes, nullptr, "cudaMemset"); }

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream) {
  return set(ptr, value, bytes, stream, "cudaMemsetAsync");
}
