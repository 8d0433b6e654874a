#include "cuda/emu/device_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>

#include "cuda/emu/fault_handler.h"
#include "cuda/emu/sanitizers.h"

namespace pmsdsen::emu {
namespace {

constexpr size_t kAlign = 256;                   // cudaMalloc's alignment
constexpr size_t kGap = 256;                     // unaddressable under ASan after each allocation
constexpr size_t kGrowStep = size_t(2) << 20;    // the accessible part grows by this much
constexpr size_t kH100Bytes = size_t(80) << 30;  // an H100's memory, if the host can back it

size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

std::string hex(uintptr_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

// An emulated H100 with as much memory as half of this host's, at most 80 GiB: a
// program that needs more sees cudaErrorMemoryAllocation, not the host's OOM killer.
size_t capacity_for_host() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  const size_t host = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : kH100Bytes;
  return round_up(std::min(kH100Bytes, host / 2), kGrowStep);
}

struct Live {
  size_t bytes;  // asked for
  size_t span;   // occupied, gap included
};

class Arena {
 public:
  Arena() : capacity_(capacity_for_host()) {
    // 2 MiB-aligned and on transparent huge pages where the system allows: mprotect,
    // which every launch and copy pays twice, then walks one entry per 2 MiB, not per 4 KiB.
    void* p = mmap(nullptr, capacity_ + kGrowStep, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      capacity_ = 0;
      return;
    }
    base_ = reinterpret_cast<char*>(round_up(reinterpret_cast<uintptr_t>(p), kGrowStep));
#ifdef MADV_HUGEPAGE
    madvise(base_, capacity_, MADV_HUGEPAGE);
#endif
    register_fault_range(FaultRange::DeviceMemory, base_, capacity_);
  }

  cudaError_t allocate(void** out, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    const size_t span = round_up(std::max<size_t>(bytes, 1), kAlign) + kGap;
    uintptr_t at = 0;
    for (auto it = holes_.begin(); it != holes_.end(); ++it) {  // first fit, lowest address
      if (it->second < span) continue;
      at = it->first;
      if (it->second > span) holes_.emplace(at + span, it->second - span);
      holes_.erase(it);
      break;
    }
    if (at == 0) {
      if (bump_ + span > capacity_) return cudaErrorMemoryAllocation;
      at = reinterpret_cast<uintptr_t>(base_) + bump_;
      bump_ += span;
      grow_accessible(bump_);
    }
    live_.emplace(at, Live{bytes, span});
    in_use_ += bytes;
    char* p = reinterpret_cast<char*>(at);
    asan_unpoison(p, bytes);
    asan_poison(p + bytes, span - bytes);
    open_locked();
    std::memset(p, 0xff, bytes);  // fresh device memory reads as NaN, not as zeros
    close_locked();
    *out = p;
    return cudaSuccess;
  }

  cudaError_t release(void* ptr) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = live_.find(reinterpret_cast<uintptr_t>(ptr));
    if (it == live_.end()) return cudaErrorInvalidValue;
    const uintptr_t at = it->first;
    const Live a = it->second;
    live_.erase(it);
    in_use_ -= a.bytes;
    asan_poison(ptr, a.span);
    discard(ptr, a.span);
    add_hole(at, a.span);
    return cudaSuccess;
  }

  std::string check(const void* p, size_t bytes) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    if (!contains(p)) return "address " + hex(a) + " is not device memory (a host pointer?)";
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.upper_bound(a);
    if (it == live_.begin()) return "device address " + hex(a) + " is outside every allocation";
    --it;
    const uintptr_t begin = it->first, end = begin + it->second.bytes;
    if (a > end) return "device address " + hex(a) + " is outside every allocation (" + std::to_string(a - end) +
                        " bytes past the " + std::to_string(it->second.bytes) + "-byte allocation at " + hex(begin) + ")";
    if (bytes > end - a)
      return "device range [" + hex(a) + ", +" + std::to_string(bytes) + ") overruns the " +
             std::to_string(it->second.bytes) + "-byte allocation at " + hex(begin) + " by " +
             std::to_string(bytes - (end - a)) + " bytes";
    return "";
  }

  // Gives the whole huge pages inside [p, p + bytes) back to the host (their contents are
  // dead); they read as zeros when touched again. Fewer populated pages, cheaper mprotect.
  static void discard(void* p, size_t bytes) {
    const uintptr_t lo = round_up(reinterpret_cast<uintptr_t>(p), kGrowStep);
    const uintptr_t hi = (reinterpret_cast<uintptr_t>(p) + bytes) / kGrowStep * kGrowStep;
    if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
  }

  bool contains(const void* p) const {
    const char* c = static_cast<const char*>(p);
    return base_ && c >= base_ && c < base_ + capacity_;
  }

  void open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_locked();
  }
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    close_locked();
  }

  size_t capacity() const { return capacity_; }
  size_t in_use() {
    std::lock_guard<std::mutex> lock(mutex_);
    return in_use_;
  }

 private:
  void open_locked() {
    if (open_++ == 0 && accessible_) mprotect(base_, accessible_, PROT_READ | PROT_WRITE);
  }
  void close_locked() {
    if (--open_ == 0 && accessible_) mprotect(base_, accessible_, PROT_NONE);
  }

  void grow_accessible(size_t needed) {
    if (needed <= accessible_) return;
    const size_t grown = std::min(capacity_, round_up(needed, kGrowStep));
    if (open_ > 0) mprotect(base_ + accessible_, grown - accessible_, PROT_READ | PROT_WRITE);
    accessible_ = grown;
  }

  void add_hole(uintptr_t at, size_t span) {
    auto next = holes_.lower_bound(at);
    if (next != holes_.end() && at + span == next->first) {  // merge with the following hole
      span += next->second;
      next = holes_.erase(next);
    }
    if (next != holes_.begin()) {  // and with the preceding one
      auto prev = std::prev(next);
      if (prev->first + prev->second == at) {
        prev->second += span;
        return;
      }
    }
    holes_.emplace(at, span);
  }

  std::mutex mutex_;
  char* base_ = nullptr;
  size_t capacity_;
  size_t bump_ = 0;        // bytes handed out from the start, holes included
  size_t accessible_ = 0;  // the prefix that DeviceAccess makes readable and writable
  int open_ = 0;
  size_t in_use_ = 0;
  std::map<uintptr_t, Live> live_;
  std::map<uintptr_t, size_t> holes_;
};

Arena& arena() {
  static Arena* a = new Arena;  // leaked: device frees may come after main returns
  return *a;
}

}  // namespace

cudaError_t device_allocate(void** ptr, size_t bytes) { return arena().allocate(ptr, bytes); }
cudaError_t device_free(void* ptr) { return arena().release(ptr); }
size_t device_capacity() { return arena().capacity(); }
size_t device_in_use() { return arena().in_use(); }
bool in_arena(const void* p) { return arena().contains(p); }
std::string check_device_range(const void* p, size_t bytes) { return arena().check(p, bytes); }

DeviceAccess::DeviceAccess() { arena().open(); }
DeviceAccess::~DeviceAccess() { arena().close(); }

void fill_device(void* p, int value, size_t bytes) { std::memset(p, value, bytes); }

void discard_device(void* p, size_t bytes) { Arena::discard(p, bytes); }

}  // namespace pmsdsen::emu
