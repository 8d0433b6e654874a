#include "data/stb_alloc.h"

#include <cstdint>
#include <cstdlib>

#include "data/stb.h"

namespace pmsdsen::data {
namespace {

thread_local size_t cap = SIZE_MAX;
thread_local bool refused_flag = false;

}  // namespace

StbAllocationCap::StbAllocationCap(size_t max_bytes) : previous_(cap) {
  cap = max_bytes;
  refused_flag = false;
}

StbAllocationCap::~StbAllocationCap() { cap = previous_; }

bool StbAllocationCap::refused() const { return refused_flag; }

}  // namespace pmsdsen::data

extern "C" void* pmsdsen_stb_malloc(size_t size) {
  if (size > pmsdsen::data::cap) {
    pmsdsen::data::refused_flag = true;
    return nullptr;
  }
  return std::malloc(size);
}

extern "C" void* pmsdsen_stb_realloc(void* p, size_t size) {
  if (size > pmsdsen::data::cap) {
    pmsdsen::data::refused_flag = true;
    return nullptr;
  }
  return std::realloc(p, size);
}
