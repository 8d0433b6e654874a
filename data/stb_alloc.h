#pragma once
// A cap on the size of each allocation stb_image makes on the calling thread. A PNG's
// header says how much its pixels take; its compressed stream may still inflate to
// gigabytes (stb grows its buffer until the stream ends). With the cap, such a file
// fails as soon as it outgrows what its header declares.
#include <cstddef>

namespace pmsdsen::data {

class StbAllocationCap {
 public:
  explicit StbAllocationCap(size_t max_bytes);  // for the lifetime of this object
  ~StbAllocationCap();
  StbAllocationCap(const StbAllocationCap&) = delete;
  StbAllocationCap& operator=(const StbAllocationCap&) = delete;
  // Whether an allocation was refused since this cap was set.
  bool refused() const;

 private:
  size_t previous_;
};

}  // namespace pmsdsen::data
