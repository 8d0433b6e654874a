// The scheduler of one thread block. Threads start in index order and run until they
// finish or wait: at __syncthreads() until every thread of the block is there, at a warp
// collective until every lane of its mask is. The last thread to arrive carries on; the
// others resume in index order. Nothing here is timing-dependent, so a kernel's results
// are the same on every run.
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
#include <deque>
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
  const char* file = nullptr;  // where it waits
  int line = 0;
};

struct Warp {
  Collective kind = Collective::None;
  Shuffle shuffle = Shuffle::Index;
  unsigned mask = 0, arrived = 0, generation = 0;
  const char* file = nullptr;
  int line = 0;
  uint64_t value[32];
  int arg[32];
  bool predicate[32];
  uint64_t result[32];
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

char* new_shared(size_t bytes, size_t align) {
  void* p = nullptr;
  if (posix_memalign(&p, std::max<size_t>(align, 16), bytes + kCanaryBytes) != 0) throw std::bad_alloc();
  char* c = static_cast<char*>(p);
  std::memset(c, kPoison, bytes);
  std::memset(c + bytes, kCanary, kCanaryBytes);
  asan_poison(c + bytes, kCanaryBytes);  // under ASan any access past the end reports at once
  return c;
}

// True when the canary after the array is intact (always, under ASan, which caught it).
bool free_shared(char* p, size_t bytes) {
  asan_unpoison(p + bytes, kCanaryBytes);
  bool intact = true;
  for (size_t i = 0; i < kCanaryBytes; ++i) intact &= static_cast<unsigned char>(p[bytes + i]) == kCanary;
  std::free(p);
  return intact;
}

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
    unsigned next = 0;
    while (fault_.empty()) {
      unsigned t;
      if (!queue_.empty()) {
        t = queue_.front();
        queue_.pop_front();
      } else if (next < n_) {
        t = next++;
      } else {
        break;
      }
      switch_to(t);
    }
    if (fault_.empty() && done_ != n_) fault_ = deadlock_report();
    tsan_acquire(&tsan_done_);
    end_block();
    if (fault_.empty()) return "";
    return "kernel '" + std::string(g.name) + "' block (" + std::to_string(block_.x) + "," + std::to_string(block_.y) +
           "," + std::to_string(block_.z) + ") of " + std::to_string(n_) + " threads: " + fault_;
  }

  // --- called on a GPU thread's fiber ---

  void sync_block(const char* file, int line) {
    const unsigned t = current_;
    if (done_ > 0)
      fail_thread("__syncthreads() at " + site(file, line) + " is reached by thread " + std::to_string(t) +
                  ", but threads " + ranges(threads_in(State::Done)) +
                  " have exited: every thread of the block must reach it");
    if (at_barrier_ == 0) {
      barrier_file_ = file;
      barrier_line_ = line;
    } else if (!same_site(file, line, barrier_file_, barrier_line_)) {
      fail_thread("threads wait at different barriers: thread " + std::to_string(t) + " at " + site(file, line) +
                  ", threads " + ranges(threads_in(State::AtBarrier)) + " at " +
                  site(barrier_file_, barrier_line_));
    }
    const unsigned generation = barrier_generation_;
    tsan_release(&tsan_barrier_[generation & 1]);
    if (++at_barrier_ == n_) {
      at_barrier_ = 0;
      ++barrier_generation_;
      for (unsigned u = 0; u < n_; ++u)
        if (threads_[u].state == State::AtBarrier) make_runnable(u);
    } else {
      wait(State::AtBarrier, file, line);
    }
    tsan_acquire(&tsan_barrier_[generation & 1]);
  }

  uint64_t collective(Collective kind, Shuffle shuffle, unsigned mask, uint64_t value, int arg, int width,
                      bool predicate, const char* file, int line) {
    const unsigned t = current_, lane = t & 31, w = t >> 5;
    const char* what = collective_name(kind, shuffle);
    const unsigned lanes = std::min(32u, n_ - w * 32);
    const unsigned existing = lanes == 32 ? ~0u : (1u << lanes) - 1;
    if (!((mask >> lane) & 1))
      fail_thread(std::string(what) + " at " + site(file, line) + ": thread " + std::to_string(t) + " (lane " +
                  std::to_string(lane) + ") passes mask " + hex(mask) + ", which leaves out its own lane");
    if (mask & ~existing)
      fail_thread(std::string(what) + " at " + site(file, line) + ": mask " + hex(mask) +
                  " names lanes that do not exist (warp " + std::to_string(w) + " has " + std::to_string(lanes) +
                  " threads)");
    if (kind == Collective::Shuffle && (width < 1 || width > 32 || (width & (width - 1)) != 0))
      fail_thread(std::string(what) + " at " + site(file, line) + ": width " + std::to_string(width) +
                  " is not a power of two in [1, 32]");
    for (unsigned l = 0; l < 32; ++l)
      if (((mask >> l) & 1) && threads_[w * 32 + l].state == State::Done)
        fail_thread(std::string(what) + " at " + site(file, line) + " with mask " + hex(mask) + ": lane " +
                    std::to_string(l) + " (thread " + std::to_string(w * 32 + l) + ") has exited and cannot reach it");
    Warp& wp = warps_[w];
    if (wp.arrived == 0) {
      wp.kind = kind;
      wp.shuffle = shuffle;
      wp.mask = mask;
      wp.file = file;
      wp.line = line;
    } else if (wp.kind != kind || wp.shuffle != shuffle || wp.mask != mask ||
               !same_site(file, line, wp.file, wp.line)) {
      fail_thread("lanes of warp " + std::to_string(w) + " meet at different collectives: thread " + std::to_string(t) +
                  " at " + what + " (" + site(file, line) + ", mask " + hex(mask) + "), threads " +
                  ranges(waiting_lanes(w)) + " at " + collective_name(wp.kind, wp.shuffle) + " (" +
                  site(wp.file, wp.line) + ", mask " + hex(wp.mask) + ")");
    }
    wp.value[lane] = value;
    wp.arg[lane] = arg;
    wp.predicate[lane] = predicate;
    const unsigned generation = wp.generation;
    if (kind == Collective::SyncWarp) tsan_release(&wp.tsan_sync[generation & 1]);
    wp.arrived |= 1u << lane;
    if (wp.arrived == mask) {
      complete(wp, w, width);
      for (unsigned l = 0; l < 32; ++l)
        if (((mask >> l) & 1) && l != lane) make_runnable(w * 32 + l);
      wp.arrived = 0;
      wp.kind = Collective::None;
      ++wp.generation;
    } else {
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
    char* p = new_shared(bytes, align);
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
    }
    queue_.clear();
    done_ = at_barrier_ = 0;
    fault_.clear();
    while (fibers_.size() < n_) {
      fibers_.push_back(std::make_unique<Fiber>());
      fibers_.back()->start(&Worker::fiber_main, this);
    }
    shared_.clear();
    dynamic_ = new_shared(g.dynamic_shared, 16);
    shared_bytes_ = g.dynamic_shared;
  }

  void end_block() {
    // Threads left waiting by a fault start afresh in the next block.
    if (!fault_.empty())
      for (unsigned t = 0; t < n_; ++t) {
        const State s = threads_[t].state;
        if (threads_[t].entered && s != State::Done && s != State::Faulted) fibers_[t]->start(&Worker::fiber_main, this);
      }
    std::vector<std::string> overrun;
    for (const SharedArray& s : shared_)
      if (!free_shared(s.data, s.bytes)) overrun.push_back("'" + std::string(s.name) + "'");
    if (!free_shared(dynamic_, grid_->dynamic_shared)) overrun.push_back("the dynamic shared memory");
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
    __sanitizer_finish_switch_fiber(nullptr, &w->scheduler_bottom_, &w->scheduler_bytes_);
#endif
    for (;;) {
      try {
        w->grid_->body(w->grid_->pack);
        w->thread_exit();
      } catch (const Abandon&) {
        w->threads_[w->current_].state = State::Faulted;
      }
      w->switch_out();  // resumes here when the fiber runs the same thread of a later block
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
    tsan_release(&tsan_done_);
  }

  void switch_to(unsigned t) {
    ThreadRec& r = threads_[t];
    const bool first = !r.entered;
    r.entered = true;
    r.state = State::Running;
    current_ = t;
    tls_thread_idx = {t % grid_->block.x, (t / grid_->block.x) % grid_->block.y,
                      t / (grid_->block.x * grid_->block.y)};
    Fiber& f = *fibers_[t];
#if PMSDSEN_EMU_TSAN
    // The first switch of a block carries the launch's writes (parameters, shared memory)
    // to the thread; later ones carry nothing.
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

  void switch_out() {
    Fiber& f = *fibers_[current_];
#if PMSDSEN_EMU_TSAN
    __tsan_switch_to_fiber(tsan_scheduler_, 1);
#endif
#if PMSDSEN_EMU_ASAN
    __sanitizer_start_switch_fiber(&f.asan_fake_stack, scheduler_bottom_, scheduler_bytes_);
#endif
    pmsdsen_emu_switch(&f.saved_sp, scheduler_sp_);
#if PMSDSEN_EMU_ASAN
    __sanitizer_finish_switch_fiber(f.asan_fake_stack, &scheduler_bottom_, &scheduler_bytes_);
#endif
  }

  void wait(State s, const char* file, int line) {
    ThreadRec& r = threads_[current_];
    r.state = s;
    r.file = file;
    r.line = line;
    switch_out();
  }

  // Records the fault and ends the thread: the block stops at once.
  [[noreturn]] void fail_thread(std::string message) {
    if (fault_.empty()) fault_ = std::move(message);
    throw Abandon{};
  }

  void make_runnable(unsigned t) {
    threads_[t].state = State::Runnable;
    queue_.push_back(t);
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

  void complete(Warp& wp, unsigned w, int width) {
    const unsigned lanes = std::min(32u, n_ - w * 32);
    if (wp.kind == Collective::Ballot) {
      unsigned bits = 0;
      for (unsigned l = 0; l < lanes; ++l)
        if (((wp.mask >> l) & 1) && wp.predicate[l]) bits |= 1u << l;
      for (unsigned l = 0; l < lanes; ++l) wp.result[l] = bits;
      return;
    }
    if (wp.kind != Collective::Shuffle) return;
    const unsigned segment = static_cast<unsigned>(width);
    for (unsigned l = 0; l < lanes; ++l) {
      if (!((wp.mask >> l) & 1)) continue;
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
        const Warp& wp = warps_[t >> 5];
        s << " wait at " << collective_name(wp.kind, wp.shuffle) << " (" << site(r.file, r.line) << ", mask "
          << hex(wp.mask) << ")";
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
  std::deque<unsigned> queue_;
  unsigned current_ = kNone;
  unsigned done_ = 0, at_barrier_ = 0, barrier_generation_ = 0;
  const char* barrier_file_ = nullptr;
  int barrier_line_ = 0;
  std::vector<SharedArray> shared_;
  char* dynamic_ = nullptr;
  size_t shared_bytes_ = 0;
  std::string fault_;
  char tsan_done_ = 0;
  char tsan_barrier_[2] = {0, 0};

  // One fiber per thread index, kept across blocks and launches.
  std::vector<std::unique_ptr<Fiber>> fibers_;
  void* scheduler_sp_ = nullptr;
  const void* scheduler_bottom_ = nullptr;
  size_t scheduler_bytes_ = 0;
  void* scheduler_fake_stack_ = nullptr;
  void* tsan_scheduler_ = nullptr;
};

thread_local std::unique_ptr<Worker> t_worker;

Worker& worker() {
  if (!t_worker) t_worker = std::make_unique<Worker>();
  return *t_worker;
}

// Device-side calls made outside a kernel have no block to act on.
Worker& fiber_worker(const char* what) {
  if (!t_worker || !t_worker->on_fiber()) {
    std::fprintf(stderr, "emulated CUDA: %s called outside a kernel\n", what);
    std::abort();
  }
  return *t_worker;
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
