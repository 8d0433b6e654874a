#pragma once
// Pieces shared by cuda/conv.cu and cuda/conv_depthwise.cu (plain C++).
#include <cstddef>
#include <cstdint>

#include "core/allocator.h"

namespace pmsdsen::cuda {

// Scratch memory from the caching allocator for the duration of a launcher. Freeing it
// right after queuing the kernels is safe: every later user is queued on the same stream.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(int64_t count)
      : bytes_(static_cast<size_t>(count > 0 ? count : 1) * sizeof(float)),
        ptr_(static_cast<float*>(allocate(bytes_, Device::cuda()))) {}
  ~DeviceBuffer() { deallocate(ptr_, bytes_, Device::cuda()); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  float* get() const { return ptr_; }

 private:
  size_t bytes_;
  float* ptr_;
};

// Second stage of the deterministic reductions: out[b] = sum over i < count of
// partial[(b / inner) * count * inner + i * inner + b % inner], b < rows, summed in an
// order fixed by count alone.
void reduce_partials(const float* partial, float* out, int64_t rows, int64_t count, int64_t inner);

}  // namespace pmsdsen::cuda
