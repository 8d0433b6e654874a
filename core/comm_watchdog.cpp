#include "core/comm_watchdog.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/comm.h"
#include "core/error.h"

namespace pmsdsen::comm {
namespace {

using Clock = std::chrono::steady_clock;

struct Entry {
  std::string what;
  std::function<bool()> finished;
  Clock::time_point start;
};

void default_handler(const std::string& message) {
  std::fprintf(stderr, "pmsdsen: %s\n", message.c_str());
  std::fflush(stderr);
  if (world_is_distributed()) world().abort(1);
  std::_Exit(1);
}

// Never destroyed: its thread may be waiting when the process exits, and the MPI world
// (a static) may still be torn down after any other static.
class Watchdog {
 public:
  static Watchdog& get() {
    static Watchdog* w = new Watchdog;
    return *w;
  }

  uint64_t add(std::string what, std::function<bool()> finished) {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t id = next_id_++;
    entries_[id] = Entry{std::move(what), std::move(finished), Clock::now()};
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    wake_.notify_one();
    return id;
  }

  void remove(uint64_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.erase(id);
  }

  TimeoutHandler set_handler(TimeoutHandler h) {
    std::lock_guard<std::mutex> lock(mutex_);
    TimeoutHandler old = std::move(handler_);
    handler_ = h ? std::move(h) : TimeoutHandler(default_handler);
    return old;
  }

 private:
  Watchdog() : handler_(default_handler) {}

  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      const auto limit = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout()));
      std::vector<uint64_t> done;
      for (auto& [id, e] : entries_) {
        if (e.finished && e.finished()) {
          done.push_back(id);
          continue;
        }
        const auto waited = Clock::now() - e.start;
        if (waited < limit) continue;
        const std::string message =
            str(rank_prefix(), e.what, " has waited ",
                static_cast<int64_t>(std::chrono::duration<double>(waited).count()),
                " s for the other ranks (the collective time-out, train --comm-timeout): a rank has died or "
                "hangs; stopping every rank");
        done.push_back(id);
        TimeoutHandler handler = handler_;
        lock.unlock();
        handler(message);  // the default never returns
        lock.lock();
        break;  // entries_ may have changed meanwhile
      }
      for (uint64_t id : done) entries_.erase(id);
      // Polled often enough for sub-second test time-outs, rarely enough to cost nothing.
      wake_.wait_for(lock, std::chrono::milliseconds(entries_.empty() ? 1000 : 100));
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<uint64_t, Entry> entries_;
  uint64_t next_id_ = 1;
  TimeoutHandler handler_;
  std::thread thread_;
};

}  // namespace

Watch::Watch(std::string what) : id_(Watchdog::get().add(std::move(what), {})) {}
Watch::~Watch() { Watchdog::get().remove(id_); }

uint64_t watch(std::string what, std::function<bool()> finished) {
  return Watchdog::get().add(std::move(what), std::move(finished));
}
void unwatch(uint64_t id) { Watchdog::get().remove(id); }

TimeoutHandler set_timeout_handler(TimeoutHandler handler) { return Watchdog::get().set_handler(std::move(handler)); }

}  // namespace pmsdsen::comm
