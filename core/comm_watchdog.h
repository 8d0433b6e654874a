#pragma once
// The collective time-out. MPI and NCCL wait forever for a rank that died or hangs (and
// a launcher does not always notice: a rank stopped by a debugger, a hung GPU, a
// launcher without job control); a watchdog thread stops every rank instead, with a
// message naming what was waited for, once a watched wait has lasted comm::timeout().
//
//   { comm::Watch w("all_reduce of 3 float64"); MPI_Allreduce(...); }   // a blocking wait
//   id = comm::watch("NCCL all_reduce", [ev] { return done(ev); });    // work finishing elsewhere
#include <cstdint>
#include <functional>
#include <string>

namespace pmsdsen::comm {

// Watches the wait it is alive for.
class Watch {
 public:
  explicit Watch(std::string what);
  ~Watch();
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

 private:
  uint64_t id_;
};

// Watches work that completes on its own (a collective queued on a GPU stream): the
// watchdog polls `finished` (from its thread) and drops the watch once it returns true;
// unwatch() drops it sooner. Without `finished`, only unwatch() ends it.
uint64_t watch(std::string what, std::function<bool()> finished = {});
void unwatch(uint64_t id);

// What a time-out does with its message. The default prints it on stderr and stops every
// rank (world().abort(1)); tests install their own. Returns the previous handler.
using TimeoutHandler = std::function<void(const std::string& message)>;
TimeoutHandler set_timeout_handler(TimeoutHandler handler);

}  // namespace pmsdsen::comm
