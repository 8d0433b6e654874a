#include "bench/timer.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <vector>

#include "core/error.h"

#ifdef PMSDSEN_WITH_CUDA
#include "bench/gpu_spin.h"
#include "core/cuda_env.h"
#endif

namespace pmsdsen::bench {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

Stats time_cpu(const std::function<void(int64_t)>& fn, const TimerOptions& o) {
  int64_t rep = 0;
  double est = 0.0;
  const Clock::time_point warm0 = Clock::now();
  while (rep < o.warmup_reps || ms_since(warm0) < o.warmup_ms) {
    const Clock::time_point t0 = Clock::now();
    fn(rep++);
    est = ms_since(t0);
  }
  const int64_t reps = reps_for(o, est);
  std::vector<double> times, cpu;
  times.reserve(static_cast<size_t>(reps));
  for (int64_t i = 0; i < reps; ++i) {
    const double c0 = process_cpu_ms();
    const Clock::time_point t0 = Clock::now();
    fn(rep++);
    times.push_back(ms_since(t0));
    cpu.push_back(process_cpu_ms() - c0);
  }
  Stats s = summarize(std::move(times));
  s.cpu_median = summarize(std::move(cpu)).median;
  return s;
}

#ifdef PMSDSEN_WITH_CUDA
// Events created once per timing and destroyed on every exit path.
class EventPool {
 public:
  explicit EventPool(size_t n) : events_(n, nullptr) {
    for (cudaEvent_t& e : events_) PMSDSEN_CUDA_CHECK(cudaEventCreate(&e));
  }
  ~EventPool() {
    for (cudaEvent_t e : events_)
      if (e) cudaEventDestroy(e);
  }
  EventPool(const EventPool&) = delete;
  EventPool& operator=(const EventPool&) = delete;
  cudaEvent_t operator[](size_t i) const { return events_[i]; }

 private:
  std::vector<cudaEvent_t> events_;
};

float elapsed_ms(cudaEvent_t a, cudaEvent_t b) {
  float ms = 0.0f;
  PMSDSEN_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
  return ms;
}

Stats time_cuda(const std::function<void(int64_t)>& fn, const TimerOptions& o) {
  cudaStream_t s = cuda_env::stream();
  PMSDSEN_CUDA_CHECK(cudaStreamSynchronize(s));
  int64_t rep = 0;
  const Clock::time_point warm0 = Clock::now();
  while (rep < o.warmup_reps || ms_since(warm0) < o.warmup_ms) {
    fn(rep++);
    PMSDSEN_CUDA_CHECK(cudaStreamSynchronize(s));
  }

  // Probe: GPU time per rep (events around a few reps) and the host's time to queue one.
  constexpr int64_t kProbe = 3;
  constexpr int64_t kBatch = 64;  // reps queued behind one spin
  EventPool ev(2 * kBatch);
  PMSDSEN_CUDA_CHECK(cudaEventRecord(ev[0], s));
  const Clock::time_point host0 = Clock::now();
  for (int64_t i = 0; i < kProbe; ++i) fn(rep++);
  const double host_ms = ms_since(host0) / kProbe;
  PMSDSEN_CUDA_CHECK(cudaEventRecord(ev[1], s));
  PMSDSEN_CUDA_CHECK(cudaEventSynchronize(ev[1]));
  const double est = elapsed_ms(ev[0], ev[1]) / kProbe;
  const int64_t reps = reps_for(o, est);

  std::vector<double> times;
  times.reserve(static_cast<size_t>(reps));
  while (static_cast<int64_t>(times.size()) < reps) {
    const int64_t batch = std::min<int64_t>(kBatch, reps - static_cast<int64_t>(times.size()));
    // Long enough for the host to queue the whole batch (2 events + fn per rep), capped.
    gpu_spin(std::min(50000.0, 1e3 * 1.5 * host_ms * static_cast<double>(batch) + 50.0));
    for (int64_t j = 0; j < batch; ++j) {
      PMSDSEN_CUDA_CHECK(cudaEventRecord(ev[2 * j], s));
      fn(rep++);
      PMSDSEN_CUDA_CHECK(cudaEventRecord(ev[2 * j + 1], s));
    }
    PMSDSEN_CUDA_CHECK(cudaEventSynchronize(ev[2 * (batch - 1) + 1]));
    for (int64_t j = 0; j < batch; ++j) times.push_back(elapsed_ms(ev[2 * j], ev[2 * j + 1]));
  }
  PMSDSEN_CUDA_CHECK(cudaStreamSynchronize(s));
  return summarize(std::move(times));
}
#endif

}  // namespace

TimerOptions timer_defaults(Device device, bool quick) {
  TimerOptions o;
  if (device.is_cuda()) {
    o.warmup_reps = quick ? 2 : 5;
    o.warmup_ms = quick ? 5.0 : 25.0;
    o.min_reps = quick ? 5 : 20;
    o.max_reps = quick ? 50 : 1000;
    o.target_ms = quick ? 20.0 : 150.0;
  } else {
    o.warmup_reps = 1;
    o.warmup_ms = 0.0;
    o.min_reps = quick ? 1 : 3;
    o.max_reps = quick ? 3 : 30;
    o.target_ms = quick ? 50.0 : 400.0;
  }
  return o;
}

int64_t reps_for(const TimerOptions& o, double est_ms) {
  if (o.fixed_reps > 0) return o.fixed_reps;
  const int64_t lo = std::max<int64_t>(1, o.min_reps);
  const int64_t hi = std::max(lo, o.max_reps);
  if (!(est_ms > 0.0)) return hi;  // too fast to measure (or NaN): as many as allowed
  const double want = std::ceil(o.target_ms / est_ms);
  if (want >= static_cast<double>(hi)) return hi;
  return std::max(lo, static_cast<int64_t>(want));
}

Stats time_reps(Device device, const std::function<void(int64_t)>& fn, const TimerOptions& o) {
  if (device.is_cuda()) {
#ifdef PMSDSEN_WITH_CUDA
    return time_cuda(fn, o);
#else
    PMSDSEN_FAIL("bench: CUDA timing in a build without CUDA");
#endif
  }
  return time_cpu(fn, o);
}

}  // namespace pmsdsen::bench
