// The scheduler of one thread block. Threads start in index order and run until they
// finish or wait: at __syncthreads() until every thread of the block is there, at a warp
// collective until every lane of its mask is. The last thread to arrive carries on; the
// others resume in index order. A thread that waits hands over directly to the next
// runnable one (one switch, not two through the scheduler); only new threads start from
// the scheduler. Nothing here is timing-dependent, so a kernel's results are the same on
// every run.
//
// Under ThreadSanitizer (the race mode) this file is compiled uninstrumented: every GPU
// thread is a TSan fiber, switches between them carry no happens-before, and barriers
// and __syncwarp add exactly the edges CUDA guarantees, so two accesses to one word by
// different threads with no barrier between them, at least one a write, are reported.
#include "cuda/emu/block_runner.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <vector>

#include "cuda/emu/fault_handler.h"
#include "cuda/emu/fiber.h"
#include "cuda/emu/sanitizers.h"
#include "emu/device.h"

namespace pmsdsen::emu {
namespace {

enum class State : uint8_t { NotStarted, Runnable, Running, AtBarrier, AtWarp, Done, Faulted };

// Thrown on a GPU thread that found a fault: unwinds its kernel frames back to fiber_main,
// on the thread's own stack.
struct Abandon {};
enum class Collective : uint8_t { None, SyncWarp, Shuffle, Ballot };

constexpr size_t kCanaryBytes = 64;  // after each shared array, checked at the block's end
constexpr unsigned char kCanary = 0xa5;
constexpr unsigned char kPoison = 0xff;  // NaN as float or double, -1 as an integer

struct ThreadRec {
  State state = State::NotStarted;
  bool entered = false;  // has run in this block
  Fiber* fiber = nullptr;
  const char* file = nullptr;  // where it waits
  int line = 0;
  const char* collective = nullptr;  // at a warp collective: which, and its mask
  unsigned mask = 0;
};

// The k-th full-warp collective of a warp: what every lane of the warp brought to it.
struct Instance {
  Collective kind = Collective::None;
  Shuffle shuffle = Shuffle::Index;
  unsigned mask = 0;
  int width = 32;
  const char* file = nullptr;
  int line = 0;
  unsigned deposited = 0;  // lanes that reached it
  unsigned waiting = 0;    // lanes blocked until what they read is there
  uint64_t value[32];
  int arg[32];
  bool predicate[32];
};

struct Warp {
  // Full-warp collectives (the mask is every lane of the warp) match by count: a lane's
  // k-th meets the others' k-th. A lane goes on as soon as what it reads has been
  // deposited, so shuffles need no switch when the lanes they read ran first (lanes
  // start in descending order, which suits __shfl_down_sync, the usual reduction).
  std::vector<Instance> ring;  // instances [first, first + live), at k & (ring.size() - 1)
  uint64_t first = 0, live = 0;
  uint64_t reached[32];        // per lane: full-warp collectives it has reached
  uint64_t waits_on[32];       // per lane blocked at a full-warp collective: which one
  // Collectives over part of the warp: the lanes of the mask wait for one another.
  Collective kind = Collective::None;
  Shuffle shuffle = Shuffle::Index;
  unsigned mask = 0, arrived = 0, generation = 0;
  const char* file = nullptr;
  int line = 0;
  uint64_t value[32];
  int arg[32];
  bool predicate[32];
  uint64_t result[32];
  int width = 32;
  char tsan_sync[2];  // addresses for __syncwarp's happens-before edges, by generation
};

struct SharedArray {
  const void* key;
  char* data;
  size_t bytes;
  const char* name;
};

const char* collective_name(Collective c, Shuffle s) {
  switch (c) {
    case Collective::SyncWarp: return "__syncwarp()";
    case Collective::Ballot: return "__ballot_sync()";
    case Collective::Shuffle:
      switch (s) {
        case Shuffle::Index: return "__shfl_sync()";
        case Shuffle::Up: return "__shfl_up_sync()";
        case Shuffle::Down: return "__shfl_down_sync()";
        case Shuffle::Xor: return "__shfl_xor_sync()";
      }
      break;
    case Collective::None: break;
  }
  return "?";
}

std::string site(const char* file, int line) {
  std::string f = file ? file : "?";
  // Paths relative to the source tree read better than absolute ones.
  for (const char* root : {"/cuda/", "/tests/", "/bench/", "/core/"}) {
    const size_t at = f.rfind(root);
    if (at != std::string::npos) {
      f = f.substr(at + 1);
      break;
    }
  }
  return f + ":" + std::to_string(line);
}

bool same_site(const char* f1, int l1, const char* f2, int l2) {
  return l1 == l2 && (f1 == f2 || (f1 && f2 && std::strcmp(f1, f2) == 0));
}

// "0-31, 40, 42-44"
std::string ranges(const std::vector<unsigned>& v) {
  std::ostringstream s;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    if (i) s << ", ";
    s << v[i];
    if (j > i) s << "-" << v[j];
    i = j + 1;
  }
  return s.str();
}

std::string hex(unsigned v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

// A block's shared memory: one region per worker, reused by every block it runs. Each
// array (the dynamic one first, then the static ones as threads reach them) is carved at
// its exact size, followed by a canary gap that is unaddressable under AddressSanitizer.
// The region is allocated and re-poisoned by the scheduler before a block's threads run,
// so under ThreadSanitizer it is older than any of their accesses, as on a GPU.
class SharedRegion {
 public:
  // What the arrays of one block may take: an H100's opt-in maximum plus the gaps.
  static constexpr size_t kBytes = 512 * 1024;

  SharedRegion() : base_(static_cast<char*>(std::aligned_alloc(64, kBytes))) {
    if (!base_) throw std::bad_alloc();
    std::memset(base_, kPoison, kBytes);
    asan_poison(base_, kBytes);
  }
  ~SharedRegion() {
    asan_unpoison(base_, kBytes);
    std::free(base_);
  }
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;

  // Poisons what the previous block used again; the next block starts from offset 0.
  void reset() {
    asan_unpoison(base_, used_);
    std::memset(base_, kPoison, used_);
    asan_poison(base_, used_);
    used_ = 0;
  }

  // `bytes` at `align`, with the canary after; nullptr when the region is full.
  char* carve(size_t bytes, size_t align) {
    const size_t at = (used_ + align - 1) / align * align;
    if (at + bytes + kCanaryBytes > kBytes) return nullptr;
    char* p = base_ + at;
    // A plain loop, not memset: under the sanitizers this code is not instrumented, and
    // the canary is poisoned memory an intercepted memset would report.
    for (size_t i = 0; i < kCanaryBytes; ++i) p[bytes + i] = static_cast<char>(kCanary);
    asan_unpoison(p, bytes);
    used_ = at + bytes + kCanaryBytes;
    return p;
  }

  // True when the canary after [p, p + bytes) is intact.
  static bool intact(const char* p, size_t bytes) {
    bool ok = true;
    for (size_t i = 0; i < kCanaryBytes; ++i) ok &= static_cast<unsigned char>(p[bytes + i]) == kCanary;
    return ok;
  }

 private:
  char* base_;
  size_t used_ = 0;
};


// Under ThreadSanitizer every thread starts from the scheduler, whose clock holds nothing
// of the block's other threads; otherwise a thread that stops starts the next directly.
constexpr bool kStartOnScheduler = PMSDSEN_EMU_TSAN != 0;

class Worker {
 public:
  Worker() {
    ensure_signal_stack();
#if PMSDSEN_EMU_TSAN
    tsan_scheduler_ = __tsan_get_current_fiber();
#endif
  }

  std::string run(const Grid& g, uint64_t linear) {
    begin_block(g, linear);
    // Control comes back here when no started thread can run and, under ThreadSanitizer,
    // to start each thread: then the next one starts.
    while (fault_.empty()) {
      unsigned t;
      if (!queue_empty()) {
        t = pop();
      } else if (next_start_ < n_) {
        t = in_start_order(next_start_++);
      } else {
        break;
      }
      enter_from_scheduler(t);
    }
    if (fault_.empty() && done_ != n_) fault_ = deadlock_report();
    if (fault_.empty()) fault_ = unfinished_collectives();
    end_block();
    if (fault_.empty()) return "";
    return "kernel '" + std::string(g.name) + "' block (" + std::to_string(block_.x) + "," + std::to_string(block_.y) +
           "," + std::to_string(block_.z) + ") of " + std::to_string(n_) + " threads: " + fault_;
  }

  // --- called on a GPU thread's fiber ---

  void sync_block(const char* file, int line) {
    const unsigned t = current_;
    if (done_ > 0) fail_barrier_after_exit(t, file, line);
    if (at_barrier_ == 0) {
      barrier_file_ = file;
      barrier_line_ = line;
    } else if (!same_site(file, line, barrier_file_, barrier_line_)) {
      fail_split_barrier(t, file, line);
    }
    const unsigned generation = barrier_generation_;
    tsan_release(&tsan_barrier_[generation & 1]);
    if (++at_barrier_ == n_) {
      at_barrier_ = 0;
      ++barrier_generation_;
      for (unsigned i = 0; i < n_; ++i) {
        const unsigned u = in_start_order(i);
        if (threads_[u].state == State::AtBarrier) make_runnable(u);
      }
    } else {
      wait(State::AtBarrier, file, line);
    }
    tsan_acquire(&tsan_barrier_[generation & 1]);
  }

  uint64_t collective(Collective kind, Shuffle shuffle, unsigned mask, uint64_t value, int arg, int width,
                      bool predicate, const char* file, int line) {
    const unsigned t = current_, lane = t & 31, w = t >> 5;
    Warp& wp = warps_[w];
    if (!((mask >> lane) & 1)) fail_mask_without_self(kind, shuffle, mask, file, line);
    if (mask == lanes_of(w))
      return full_warp_collective(kind, shuffle, mask, value, arg, width, predicate, file, line);
    if (wp.arrived == 0) {
      check_new_collective(kind, shuffle, mask, width, w, file, line);
      wp.kind = kind;
      wp.shuffle = shuffle;
      wp.mask = mask;
      wp.width = width;
      wp.file = file;
      wp.line = line;
    } else if (wp.kind != kind || wp.shuffle != shuffle || wp.mask != mask || wp.width != width ||
               !same_site(file, line, wp.file, wp.line)) {
      fail_mixed_collectives(kind, shuffle, mask, file, line);
    }
    wp.value[lane] = value;
    wp.arg[lane] = arg;
    wp.predicate[lane] = predicate;
    const unsigned generation = wp.generation;
    if (kind == Collective::SyncWarp) tsan_release(&wp.tsan_sync[generation & 1]);
    wp.arrived |= 1u << lane;
    if (wp.arrived == mask) {
      complete(wp);
      for (unsigned m = mask & ~(1u << lane); m; m &= m - 1) make_runnable(w * 32 + static_cast<unsigned>(__builtin_ctz(m)));
      wp.arrived = 0;
      wp.kind = Collective::None;
      ++wp.generation;
    } else {
      threads_[t].collective = collective_name(kind, shuffle);
      threads_[t].mask = mask;
      wait(State::AtWarp, file, line);
    }
    if (kind == Collective::SyncWarp) tsan_acquire(&wp.tsan_sync[generation & 1]);
    return wp.result[lane];
  }

  void* shared_variable(const void* key, size_t bytes, size_t align, const char* name) {
    for (const SharedArray& s : shared_)
      if (s.key == key) return s.data;
    if (shared_bytes_ + bytes > grid_->shared_limit)
      fail_thread("shared memory: '" + std::string(name) + "' (" + std::to_string(bytes) + " bytes) brings the block to " +
                  std::to_string(shared_bytes_ + bytes) + " bytes, above its limit of " +
                  std::to_string(grid_->shared_limit) + " (48 KiB unless raised with cudaFuncSetAttribute)");
    char* p = region_.carve(bytes, std::max<size_t>(align, 16));
    if (!p) fail_thread("shared memory: more arrays than the emulator's region holds");
    shared_.push_back({key, p, bytes, name});
    shared_bytes_ += bytes;
    return p;
  }

  void* dynamic_shared() const { return dynamic_; }

  bool on_fiber() const { return current_ != kNone; }

 private:
  static constexpr unsigned kNone = ~0u;

  void begin_block(const Grid& g, uint64_t linear) {
    grid_ = &g;
    block_ = {static_cast<unsigned>(linear % g.grid.x), static_cast<unsigned>((linear / g.grid.x) % g.grid.y),
              static_cast<unsigned>(linear / (static_cast<uint64_t>(g.grid.x) * g.grid.y))};
    n_ = g.block.x * g.block.y * g.block.z;
    tls_block_idx = block_;
    tls_block_dim = g.block;
    tls_grid_dim = g.grid;
    threads_.assign(n_, ThreadRec{});
    if (warps_.size() < (n_ + 31) / 32) warps_.resize((n_ + 31) / 32);
    for (Warp& w : warps_) {
      w.arrived = 0;
      w.kind = Collective::None;
      w.first = w.live = 0;
      std::fill(std::begin(w.reached), std::end(w.reached), uint64_t(0));
    }
    if (result_.size() < n_) result_.resize(n_);
    // A thread is queued at most once at a time; the size is a power of two for the ring.
    while (queue_.size() < n_) queue_.resize(std::max<size_t>(32, queue_.size() * 2));
    head_ = tail_ = 0;
    next_start_ = 0;
    done_ = at_barrier_ = 0;
    fault_.clear();

    shared_.clear();
    region_.reset();
    dynamic_ = region_.carve(g.dynamic_shared, 16);  // within the launch's checked limit: it fits
    shared_bytes_ = g.dynamic_shared;
  }

  void end_block() {
    // Threads left waiting by a fault start afresh in the next block.
    if (!fault_.empty())
      for (unsigned t = 0; t < n_; ++t) {
        const State s = threads_[t].state;
        if (threads_[t].entered && s != State::Done && s != State::Faulted) {
#if PMSDSEN_EMU_TSAN
          // What it did before stopping happens before the block's end, as if it had ended.
          __tsan_switch_to_fiber(threads_[t].fiber->tsan_fiber, 1);
          __tsan_release(&tsan_done_);
          __tsan_switch_to_fiber(tsan_scheduler_, 1);
#endif
          threads_[t].fiber->start(&Worker::fiber_main, this);
          park(threads_[t].fiber);
        }
      }
    tsan_acquire(&tsan_done_);  // every thread's work happens before the shared memory goes
    std::vector<std::string> overrun;
    for (const SharedArray& s : shared_)
      if (!SharedRegion::intact(s.data, s.bytes)) overrun.push_back("'" + std::string(s.name) + "'");
    if (!SharedRegion::intact(dynamic_, grid_->dynamic_shared)) overrun.push_back("the dynamic shared memory");
    shared_.clear();
    dynamic_ = nullptr;
    if (fault_.empty() && !overrun.empty()) {
      std::string list;
      for (const std::string& o : overrun) list += (list.empty() ? "" : ", ") + o;
      fault_ = "a thread wrote past the end of " + list + " (bytes after it changed)";
    }
  }

  static void fiber_main(void* arg) {
    Worker* w = static_cast<Worker*>(arg);
#if PMSDSEN_EMU_ASAN
    // The worker's first fiber is entered from the scheduler: its stack is the one to
    // switch back to. Later fibers may be entered from other fibers.
    const void* from = nullptr;
    size_t from_bytes = 0;
    __sanitizer_finish_switch_fiber(nullptr, &from, &from_bytes);
    if (!w->scheduler_bottom_) {
      w->scheduler_bottom_ = from;
      w->scheduler_bytes_ = from_bytes;
    }
#endif
    for (;;) {
      try {
        w->grid_->body(w->grid_->pack);
        w->thread_exit();
      } catch (const Abandon&) {
        w->threads_[w->current_].state = State::Faulted;
      }
      tsan_release(&w->tsan_done_);  // what the thread did happens before the block's end
      w->park(w->threads_[w->current_].fiber);
      w->hand_over();  // resumes here to run the next thread given this fiber
    }
  }

  void thread_exit() {
    const unsigned t = current_;
    threads_[t].state = State::Done;
    ++done_;
    if (at_barrier_ > 0 && fault_.empty())
      fault_ = "thread " + std::to_string(t) + " exited while threads " + ranges(threads_in(State::AtBarrier)) +
               " wait at __syncthreads() (" + site(barrier_file_, barrier_line_) +
               "): every thread of the block must reach it";
  }

  // The thread index CUDA's threadIdx shows, for linear index t.
  uint3 thread_index(unsigned t) const {
    const dim3 b = grid_->block;
    if (b.y == 1 && b.z == 1) return {t, 0, 0};
    return {t % b.x, (t / b.x) % b.y, t / (b.x * b.y)};
  }

  void enter_from_scheduler(unsigned t) {
    ThreadRec& r = threads_[t];
    const bool first = !r.entered;
    r.entered = true;
    r.state = State::Running;
    current_ = t;
    tls_thread_idx = thread_index(t);
    if (first) r.fiber = take_fiber(t);
    Fiber& f = *r.fiber;
#if PMSDSEN_EMU_TSAN
    // A thread's first switch of a block carries the launch's writes (parameters, shared
    // memory) to it, from the scheduler, which holds nothing of the other threads.
    __tsan_switch_to_fiber(f.tsan_fiber, first ? 0 : 1);
#else
    (void)first;
#endif
#if PMSDSEN_EMU_ASAN
    __sanitizer_start_switch_fiber(&scheduler_fake_stack_, f.stack_bottom, f.stack_bytes);
#endif
    pmsdsen_emu_switch(&scheduler_sp_, f.saved_sp);
#if PMSDSEN_EMU_ASAN
    __sanitizer_finish_switch_fiber(scheduler_fake_stack_, nullptr, nullptr);
#endif
    current_ = kNone;
  }

  // A fiber for thread t's first run in a block. Under ThreadSanitizer each thread index
  // keeps its own fiber (TSan's identity of a GPU thread, and a stack no other thread of
  // the block touches); otherwise the most recently freed one, whose stack is in cache.
  Fiber* take_fiber(unsigned t) {
#if PMSDSEN_EMU_TSAN
    while (fibers_.size() <= t) new_fiber();
    return fibers_[t].get();
#else
    (void)t;
    if (free_fibers_.empty()) park(new_fiber());
    Fiber* f = free_fibers_.back();
    free_fibers_.pop_back();
    return f;
#endif
  }

  Fiber* new_fiber() {
    fibers_.push_back(std::make_unique<Fiber>());
    fibers_.back()->start(&Worker::fiber_main, this);
    return fibers_.back().get();
  }

  // A fiber whose thread ended (or that starts afresh) can take the next thread.
  void park(Fiber* f) {
#if PMSDSEN_EMU_TSAN
    (void)f;
#else
    free_fibers_.push_back(f);
#endif
  }

  // On a fiber whose state says why it stops: continues the next runnable thread directly,
  // or, when there is none (or the block failed), the scheduler.
  void hand_over() {
    Fiber& self = *threads_[current_].fiber;
    unsigned t;
    if (fault_.empty() && !queue_empty()) {
      t = pop();
    } else if (!kStartOnScheduler && fault_.empty() && next_start_ < n_) {
      t = in_start_order(next_start_++);
      threads_[t].entered = true;
      threads_[t].fiber = take_fiber(t);
    } else {
#if PMSDSEN_EMU_TSAN
      __tsan_switch_to_fiber(tsan_scheduler_, 1);
#endif
#if PMSDSEN_EMU_ASAN
      __sanitizer_start_switch_fiber(&self.asan_fake_stack, scheduler_bottom_, scheduler_bytes_);
#endif
      pmsdsen_emu_switch(&self.saved_sp, scheduler_sp_);
#if PMSDSEN_EMU_ASAN
      __sanitizer_finish_switch_fiber(self.asan_fake_stack, nullptr, nullptr);
#endif
      return;
    }
    threads_[t].state = State::Running;
    current_ = t;
    tls_thread_idx = thread_index(t);
    Fiber& next = *threads_[t].fiber;
    if (&next == &self) return;  // a thread started on the fiber its predecessor just parked
#if PMSDSEN_EMU_TSAN
    __tsan_switch_to_fiber(next.tsan_fiber, 1);
#endif
#if PMSDSEN_EMU_ASAN
    __sanitizer_start_switch_fiber(&self.asan_fake_stack, next.stack_bottom, next.stack_bytes);
#endif
    pmsdsen_emu_switch(&self.saved_sp, next.saved_sp);
#if PMSDSEN_EMU_ASAN
    __sanitizer_finish_switch_fiber(self.asan_fake_stack, nullptr, nullptr);
#endif
  }

  void wait(State s, const char* file, int line) {
    ThreadRec& r = threads_[current_];
    r.state = s;
    r.file = file;
    r.line = line;
    hand_over();
  }

  // Records the fault and ends the thread: the block stops at once.
  [[noreturn, gnu::noinline, gnu::cold]] void fail_thread(std::string message) {
    if (fault_.empty()) fault_ = std::move(message);
    throw Abandon{};
  }

  std::vector<unsigned> threads_in(State s) const {
    std::vector<unsigned> v;
    for (unsigned t = 0; t < n_; ++t)
      if (threads_[t].state == s) v.push_back(t);
    return v;
  }

  std::vector<unsigned> waiting_lanes(unsigned w) const {
    std::vector<unsigned> v;
    for (unsigned l = 0; l < 32; ++l)
      if ((warps_[w].arrived >> l) & 1) v.push_back(w * 32 + l);
    return v;
  }

  // The i-th thread to start (and to leave a barrier): warp by warp, each warp's lanes
  // from the highest, so that what __shfl_down_sync reads is there when a lane needs it.
  unsigned in_start_order(unsigned i) const {
    const unsigned w = i >> 5, lanes = std::min(32u, n_ - w * 32);
    return w * 32 + (lanes - 1 - (i & 31));
  }

  unsigned lanes_of(unsigned w) const {
    const unsigned lanes = std::min(32u, n_ - w * 32);
    return lanes == 32 ? ~0u : (1u << lanes) - 1;
  }

  static unsigned shuffle_source(Shuffle kind, unsigned lane, int arg, int width) {
    const unsigned segment = static_cast<unsigned>(width), base = lane & ~(segment - 1);
    const unsigned a = static_cast<unsigned>(arg);
    switch (kind) {
      case Shuffle::Index: return base + (a & (segment - 1));
      case Shuffle::Up: return (lane - base) >= a ? lane - a : lane;
      case Shuffle::Down: return (lane - base) + a < segment ? lane + a : lane;
      case Shuffle::Xor: return (lane ^ a) < base + segment ? (lane ^ a) : lane;
    }
    return lane;
  }

  // What `lane` gets from instance `in`, if all it reads has been deposited.
  static bool resolve(const Instance& in, unsigned lane, uint64_t& result) {
    if (in.kind == Collective::Shuffle) {
      const unsigned src = shuffle_source(in.shuffle, lane, in.arg[lane], in.width);
      if (src >= 32 || !((in.mask >> src) & 1)) {
        result = ~uint64_t(0);  // reading a lane outside the mask is undefined in CUDA: poison
        return true;
      }
      if (!((in.deposited >> src) & 1)) return false;
      result = in.value[src];
      return true;
    }
    if (in.deposited != in.mask) return false;  // ballot and __syncwarp need every lane
    unsigned bits = 0;
    if (in.kind == Collective::Ballot)
      for (unsigned m = in.mask; m; m &= m - 1) {
        const unsigned l = static_cast<unsigned>(__builtin_ctz(m));
        if (in.predicate[l]) bits |= 1u << l;
      }
    result = bits;
    return true;
  }

  static Instance& slot(Warp& wp, uint64_t k) { return wp.ring[k & (wp.ring.size() - 1)]; }

  Instance& instance(Warp& wp, uint64_t k) {
    if (k == wp.first + wp.live) {  // the first lane to reach it
      if (wp.live == wp.ring.size()) {  // grow, keeping the size a power of two
        std::vector<Instance> grown(std::max<size_t>(8, wp.ring.size() * 2));
        for (uint64_t j = wp.first; j < wp.first + wp.live; ++j) grown[j & (grown.size() - 1)] = slot(wp, j);
        wp.ring.swap(grown);
      }
      ++wp.live;
      Instance& in = slot(wp, k);
      in.kind = Collective::None;
      in.deposited = in.waiting = 0;
      return in;
    }
    return slot(wp, k);
  }

  uint64_t full_warp_collective(Collective kind, Shuffle shuffle, unsigned mask, uint64_t value, int arg, int width,
                                bool predicate, const char* file, int line) {
    const unsigned t = current_, lane = t & 31, w = t >> 5;
    Warp& wp = warps_[w];
    const uint64_t k = wp.reached[lane]++;
    Instance& in = instance(wp, k);
    if (in.kind == Collective::None) {
      check_new_collective(kind, shuffle, mask, width, w, file, line);
      in.kind = kind;
      in.shuffle = shuffle;
      in.mask = mask;
      in.width = width;
      in.file = file;
      in.line = line;
    } else if (in.kind != kind || in.shuffle != shuffle || in.width != width || !same_site(file, line, in.file, in.line)) {
      fail_mixed_full_warp(in, kind, shuffle, mask, file, line);
    }
    in.value[lane] = value;
    in.arg[lane] = arg;
    in.predicate[lane] = predicate;
    if (kind == Collective::SyncWarp) tsan_release(&tsan_warp_[k & 1]);
    in.deposited |= 1u << lane;
    // Lanes that were waiting for this deposit go on.
    for (unsigned m = in.waiting; m; m &= m - 1) {
      const unsigned l = static_cast<unsigned>(__builtin_ctz(m));
      if (resolve(in, l, result_[w * 32 + l])) {
        in.waiting &= ~(1u << l);
        make_runnable(w * 32 + l);
      }
    }
    uint64_t result = 0;
    if (!resolve(in, lane, result)) {
      in.waiting |= 1u << lane;
      wp.waits_on[lane] = k;
      threads_[t].collective = collective_name(kind, shuffle);
      threads_[t].mask = mask;
      wait(State::AtWarp, file, line);
      result = result_[t];
    }
    if (kind == Collective::SyncWarp) tsan_acquire(&tsan_warp_[k & 1]);
    // Instances every lane has passed are done with.
    while (wp.live > 0) {
      const Instance& oldest = slot(wp, wp.first);
      if (oldest.deposited != oldest.mask || oldest.waiting != 0) break;
      ++wp.first;
      --wp.live;
    }
    return result;
  }

  [[noreturn, gnu::noinline, gnu::cold]] void fail_mixed_full_warp(const Instance& in, Collective kind,
                                                                   Shuffle shuffle, unsigned mask, const char* file,
                                                                   int line) {
    const unsigned t = current_, w = t >> 5;
    std::vector<unsigned> there;
    for (unsigned m = in.deposited; m; m &= m - 1) there.push_back(w * 32 + static_cast<unsigned>(__builtin_ctz(m)));
    fail_thread("lanes of warp " + std::to_string(w) + " meet at different collectives: thread " + std::to_string(t) +
                " at " + collective_name(kind, shuffle) + " (" + site(file, line) + ", mask " + hex(mask) +
                "), threads " + ranges(there) + " at " + collective_name(in.kind, in.shuffle) + " (" +
                site(in.file, in.line) + ", mask " + hex(in.mask) + ")");
  }

  // Failures: out of line, so that the hot paths keep small stack frames (every switch
  // touches the frames of the fiber it resumes).
  [[noreturn, gnu::noinline, gnu::cold]] void fail_barrier_after_exit(unsigned t, const char* file, int line) {
    fail_thread("__syncthreads() at " + site(file, line) + " is reached by thread " + std::to_string(t) +
                ", but threads " + ranges(threads_in(State::Done)) +
                " have exited: every thread of the block must reach it");
  }
  [[noreturn, gnu::noinline, gnu::cold]] void fail_split_barrier(unsigned t, const char* file, int line) {
    fail_thread("threads wait at different barriers: thread " + std::to_string(t) + " at " + site(file, line) +
                ", threads " + ranges(threads_in(State::AtBarrier)) + " at " + site(barrier_file_, barrier_line_));
  }
  [[noreturn, gnu::noinline, gnu::cold]] void fail_mask_without_self(Collective kind, Shuffle shuffle, unsigned mask,
                                                                     const char* file, int line) {
    const unsigned t = current_;
    fail_thread(std::string(collective_name(kind, shuffle)) + " at " + site(file, line) + ": thread " +
                std::to_string(t) + " (lane " + std::to_string(t & 31) + ") passes mask " + hex(mask) +
                ", which leaves out its own lane");
  }
  [[noreturn, gnu::noinline, gnu::cold]] void fail_mixed_collectives(Collective kind, Shuffle shuffle, unsigned mask,
                                                                     const char* file, int line) {
    const unsigned t = current_, w = t >> 5;
    const Warp& wp = warps_[w];
    fail_thread("lanes of warp " + std::to_string(w) + " meet at different collectives: thread " + std::to_string(t) +
                " at " + collective_name(kind, shuffle) + " (" + site(file, line) + ", mask " + hex(mask) +
                "), threads " + ranges(waiting_lanes(w)) + " at " + collective_name(wp.kind, wp.shuffle) + " (" +
                site(wp.file, wp.line) + ", mask " + hex(wp.mask) + ")");
  }

  // The checks that concern the whole collective, made when its first lane arrives: the
  // mask names existing lanes that are still running, the width is valid.
  [[gnu::noinline]] void check_new_collective(Collective kind, Shuffle shuffle, unsigned mask, int width, unsigned w, const char* file,
                            int line) {
    const char* what = collective_name(kind, shuffle);
    const unsigned lanes = std::min(32u, n_ - w * 32);
    const unsigned existing = lanes == 32 ? ~0u : (1u << lanes) - 1;
    if (mask & ~existing)
      fail_thread(std::string(what) + " at " + site(file, line) + ": mask " + hex(mask) +
                  " names lanes that do not exist (warp " + std::to_string(w) + " has " + std::to_string(lanes) +
                  " threads)");
    if (kind == Collective::Shuffle && (width < 1 || width > 32 || (width & (width - 1)) != 0))
      fail_thread(std::string(what) + " at " + site(file, line) + ": width " + std::to_string(width) +
                  " is not a power of two in [1, 32]");
    for (unsigned m = mask; m; m &= m - 1) {
      const unsigned l = static_cast<unsigned>(__builtin_ctz(m));
      if (threads_[w * 32 + l].state == State::Done)
        fail_thread(std::string(what) + " at " + site(file, line) + " with mask " + hex(mask) + ": lane " +
                    std::to_string(l) + " (thread " + std::to_string(w * 32 + l) + ") has exited and cannot reach it");
    }
  }

  bool queue_empty() const { return head_ == tail_; }
  unsigned pop() { return queue_[head_++ & (queue_.size() - 1)]; }
  void make_runnable(unsigned t) {
    threads_[t].state = State::Runnable;
    queue_[tail_++ & (queue_.size() - 1)] = t;
  }

  void complete(Warp& wp) {
    if (wp.kind == Collective::Ballot) {
      unsigned bits = 0;
      for (unsigned m = wp.mask; m; m &= m - 1) {
        const unsigned l = static_cast<unsigned>(__builtin_ctz(m));
        if (wp.predicate[l]) bits |= 1u << l;
      }
      for (unsigned m = wp.mask; m; m &= m - 1) wp.result[__builtin_ctz(m)] = bits;
      return;
    }
    if (wp.kind != Collective::Shuffle) return;
    const unsigned segment = static_cast<unsigned>(wp.width);
    for (unsigned m = wp.mask; m; m &= m - 1) {
      const unsigned l = static_cast<unsigned>(__builtin_ctz(m));
      const unsigned base = l & ~(segment - 1), a = static_cast<unsigned>(wp.arg[l]);
      unsigned src = l;
      switch (wp.shuffle) {
        case Shuffle::Index: src = base + (a & (segment - 1)); break;
        case Shuffle::Up: src = (l - base) >= a ? l - a : l; break;
        case Shuffle::Down: src = (l - base) + a < segment ? l + a : l; break;
        case Shuffle::Xor: src = (l ^ a) < base + segment ? (l ^ a) : l; break;
      }
      // Reading a lane outside the mask is undefined in CUDA: poison it.
      wp.result[l] = src < 32 && ((wp.mask >> src) & 1) ? wp.value[src] : ~uint64_t(0);
    }
  }

  // Every thread finished, yet a full-warp collective some lanes went through was never
  // reached by others of its mask (which exited first): undefined in CUDA.
  std::string unfinished_collectives() const {
    for (unsigned w = 0; w < (n_ + 31) / 32; ++w) {
      const Warp& wp = warps_[w];
      if (wp.live == 0) continue;
      const Instance& in = wp.ring[wp.first & (wp.ring.size() - 1)];
      std::vector<unsigned> went, missed;
      for (unsigned l = 0; l < 32; ++l) {
        if ((in.deposited >> l) & 1) went.push_back(w * 32 + l);
        else if ((in.mask >> l) & 1) missed.push_back(w * 32 + l);
      }
      return std::string(collective_name(in.kind, in.shuffle)) + " at " + site(in.file, in.line) + " with mask " +
             hex(in.mask) + ": threads " + ranges(went) + " reached it, threads " + ranges(missed) +
             " exited without reaching it";
    }
    return "";
  }

  std::string deadlock_report() const {
    std::ostringstream s;
    s << "not every thread reached the barrier or warp collective its block waits at:";
    std::vector<bool> listed(n_, false);
    for (unsigned t = 0; t < n_; ++t) {
      if (listed[t]) continue;
      const ThreadRec& r = threads_[t];
      std::vector<unsigned> group;
      for (unsigned u = t; u < n_; ++u) {
        const ThreadRec& q = threads_[u];
        if (!listed[u] && q.state == r.state && same_site(q.file, q.line, r.file, r.line)) {
          group.push_back(u);
          listed[u] = true;
        }
      }
      s << (t ? "; " : " ") << "threads " << ranges(group);
      if (r.state == State::Done) {
        s << " exited";
      } else if (r.state == State::AtBarrier) {
        s << " wait at __syncthreads() (" << site(r.file, r.line) << ")";
      } else if (r.state == State::AtWarp) {
        s << " wait at " << r.collective << " (" << site(r.file, r.line) << ", mask " << hex(r.mask) << ")";
      } else {
        s << " never ran";
      }
    }
    return s.str();
  }

  // The block being run.
  const Grid* grid_ = nullptr;
  uint3 block_{};
  unsigned n_ = 0;
  std::vector<ThreadRec> threads_;
  std::vector<Warp> warps_;
  std::vector<uint64_t> result_;  // per thread: what its pending full-warp collective gave
  char tsan_warp_[2] = {0, 0};      // __syncwarp's happens-before edges, by instance parity
  std::vector<unsigned> queue_;  // ring of runnable threads
  size_t head_ = 0, tail_ = 0;
  unsigned next_start_ = 0;  // threads started so far, in start order
  unsigned current_ = kNone;
  unsigned done_ = 0, at_barrier_ = 0, barrier_generation_ = 0;
  const char* barrier_file_ = nullptr;
  int barrier_line_ = 0;
  SharedRegion region_;
  std::vector<SharedArray> shared_;
  char* dynamic_ = nullptr;
  size_t shared_bytes_ = 0;
  std::string fault_;
  char tsan_done_ = 0;
  char tsan_barrier_[2] = {0, 0};

  std::vector<std::unique_ptr<Fiber>> fibers_;  // all of this worker's
  std::vector<Fiber*> free_fibers_;             // parked between threads, most recent last
  void* scheduler_sp_ = nullptr;
  const void* scheduler_bottom_ = nullptr;
  size_t scheduler_bytes_ = 0;
  void* scheduler_fake_stack_ = nullptr;
  void* tsan_scheduler_ = nullptr;
};

thread_local std::unique_ptr<Worker> t_worker;
thread_local Worker* t_fast = nullptr;  // the same, without the TLS wrapper of a unique_ptr

Worker& worker() {
  if (!t_fast) {
    t_worker = std::make_unique<Worker>();
    t_fast = t_worker.get();
  }
  return *t_fast;
}

// Device-side calls made outside a kernel have no block to act on.
[[noreturn, gnu::noinline, gnu::cold]] void outside_kernel(const char* what) {
  std::fprintf(stderr, "emulated CUDA: %s called outside a kernel\n", what);
  std::abort();
}

inline Worker& fiber_worker(const char* what) {
  if (!t_fast || !t_fast->on_fiber()) outside_kernel(what);
  return *t_fast;
}

}  // namespace

std::string run_block(const Grid& grid, uint64_t linear) { return worker().run(grid, linear); }

void sync_block(const char* file, int line) { fiber_worker("__syncthreads()").sync_block(file, line); }

void sync_warp(unsigned mask, const char* file, int line) {
  fiber_worker("__syncwarp()").collective(Collective::SyncWarp, Shuffle::Index, mask, 0, 0, 32, false, file, line);
}

uint64_t shuffle(Shuffle kind, unsigned mask, uint64_t bits, int arg, int width, const char* file, int line) {
  return fiber_worker("a warp shuffle").collective(Collective::Shuffle, kind, mask, bits, arg, width, false, file, line);
}

unsigned ballot(unsigned mask, bool predicate, const char* file, int line) {
  return static_cast<unsigned>(
      fiber_worker("__ballot_sync()").collective(Collective::Ballot, Shuffle::Index, mask, 0, 0, 32, predicate, file, line));
}

void* shared_variable(const void* key, size_t bytes, size_t align, const char* name) {
  return fiber_worker("shared memory").shared_variable(key, bytes, align, name);
}

void* dynamic_shared_memory() { return fiber_worker("dynamic shared memory").dynamic_shared(); }

uint64_t globaltimer_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

}  // namespace pmsdsen::emu
