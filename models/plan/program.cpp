#include "models/plan/program.h"

#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <omp.h>

#include "core/error.h"
#include "core/parallel.h"

namespace pmsdsen::plan {
namespace {

std::shared_ptr<void> aligned_block(size_t bytes) {
  const size_t rounded = std::max<size_t>(64, (bytes + 4095) / 4096 * 4096);
  void* p = std::aligned_alloc(4096, rounded);
  PMSDSEN_CHECK(p != nullptr, "inference plan: out of memory for a ", rounded, "-byte arena");
  if (rounded >= (size_t{2} << 20)) madvise(p, rounded, MADV_HUGEPAGE);  // fewer page faults on first touch
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

// Placeholder base of the dry pass: a non-null address that is never dereferenced.
char* dry_base() {
  static char anchor[64];
  return anchor;
}

}  // namespace

size_t plan_arena(std::vector<Program::Buffer>& buffers, size_t alignment) {
  std::vector<size_t> order(buffers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
  std::vector<size_t> placed;
  size_t total = 0;
  for (size_t i : order) {
    Program::Buffer& b = buffers[i];
    const size_t size = (b.bytes + alignment - 1) / alignment * alignment;
    // Intervals taken by buffers alive at the same time, by offset.
    std::vector<std::pair<size_t, size_t>> taken;
    for (size_t j : placed) {
      const Program::Buffer& o = buffers[j];
      if (o.last < b.first || b.last < o.first) continue;
      taken.emplace_back(o.offset, o.offset + (o.bytes + alignment - 1) / alignment * alignment);
    }
    std::sort(taken.begin(), taken.end());
    size_t offset = 0;
    for (const auto& [lo, hi] : taken) {
      if (offset + size <= lo) break;
      offset = std::max(offset, hi);
    }
    b.offset = offset;
    total = std::max(total, offset + size);
    placed.push_back(i);
  }
  return total;
}

int ProgramBuilder::buffer(const std::string& name, int64_t floats) {
  PMSDSEN_CHECK(floats > 0, "inference plan: buffer ", name, " of ", floats, " floats");
  const int id = next_buffer_++;
  if (dry_) {
    Program::Buffer b;
    b.name = name;
    b.bytes = static_cast<size_t>(floats) * sizeof(float);
    buffers_.push_back(b);
  } else {
    PMSDSEN_CHECK(id < static_cast<int>(buffers_.size()) && buffers_[id].name == name &&
                      buffers_[id].bytes == static_cast<size_t>(floats) * sizeof(float),
                  "inference plan: the real pass asked for buffer ", name, " (", floats,
                  " floats), which the dry pass did not plan there");
  }
  return id;
}

float* ProgramBuilder::ptr(int id) const {
  // Buffers are created in order in both passes; in the real pass buffers_ already holds
  // all of them (planned), so look up by id.
  return reinterpret_cast<float*>(base_ + buffers_.at(static_cast<size_t>(id)).offset);
}

void ProgramBuilder::step(Program::Step s, const std::vector<int>& uses) {
  const int index = static_cast<int>(steps_.size());
  if (dry_) {
    for (int id : uses) {
      Program::Buffer& b = buffers_.at(static_cast<size_t>(id));
      if (b.first < 0) b.first = index;
      b.last = index;
    }
    s.body = nullptr;  // the dry pass's closures hold placeholder pointers
  }
  steps_.push_back(std::move(s));
}

void ProgramBuilder::serial(const std::string& name, const std::vector<int>& uses, std::function<void()> f) {
  if (!steps_.empty() && steps_.back().tiles > 0) {
    const int index = static_cast<int>(steps_.size()) - 1;
    if (dry_) {
      for (int id : uses) {
        Program::Buffer& b = buffers_.at(static_cast<size_t>(id));
        if (b.first < 0) b.first = index;
        b.last = index;
      }
    } else {
      steps_.back().finish.push_back(std::move(f));
    }
    steps_.back().finish_names.push_back(name);
    return;
  }
  Program::Step s;
  s.name = name;
  s.kind = "host";
  s.tiles = 0;
  s.body = [f = std::move(f)](int64_t, float*) { f(); };
  step(std::move(s), uses);
}

void ProgramBuilder::need_scratch(int64_t floats) {
  scratch_floats_ = std::max(scratch_floats_, static_cast<size_t>(floats));
}

void ProgramBuilder::compile(const std::function<void(ProgramBuilder&)>& build, Program& out) {
  ProgramBuilder dry(true);
  dry.base_ = dry_base();
  build(dry);
  for (const Program::Buffer& b : dry.buffers_)
    PMSDSEN_CHECK(b.first >= 0, "inference plan: buffer ", b.name, " is never used");
  std::vector<Program::Buffer> planned = dry.buffers_;
  const size_t arena = plan_arena(planned);

  ProgramBuilder real(false);
  real.buffers_ = planned;  // the real pass re-creates them in the same order (checked)
  out.arena_ = aligned_block(arena);
  real.base_ = static_cast<char*>(out.arena_.get());
  build(real);
  PMSDSEN_CHECK(real.steps_.size() == dry.steps_.size() && real.next_buffer_ == dry.next_buffer_,
                "inference plan: the two build passes disagree (", dry.steps_.size(), " vs ", real.steps_.size(),
                " steps)");
  out.steps_ = std::move(real.steps_);
  out.buffers_ = std::move(planned);
  out.arena_bytes_ = arena;
  out.scratch_floats_ = std::max(dry.scratch_floats_, real.scratch_floats_);
}

void Program::run(std::vector<StepProfile>* profile) {
  const int threads = std::max(1, num_threads());
  const size_t stride = (scratch_floats_ + 15) / 16 * 16 + 16;
  if (!scratch_ || scratch_threads_ < threads || scratch_stride_ != stride) {
    scratch_ = aligned_block(stride * sizeof(float) * static_cast<size_t>(threads));
    scratch_stride_ = stride;
    scratch_threads_ = threads;
  }
  if (profile && profile->size() != steps_.size()) {
    profile->assign(steps_.size(), StepProfile{});
    for (size_t i = 0; i < steps_.size(); ++i) {
      (*profile)[i].name = steps_[i].name;
      (*profile)[i].kind = steps_[i].kind;
      (*profile)[i].macs = steps_[i].macs;
      (*profile)[i].tiles = steps_[i].tiles;
    }
  }
  float* scratch = static_cast<float*>(scratch_.get());
  if (!done_) done_.reset(new std::atomic<int64_t>[steps_.size()]);
  for (size_t i = 0; i < steps_.size(); ++i) done_[i].store(0, std::memory_order_relaxed);
  using Clock = std::chrono::steady_clock;
  std::vector<double> cpu(profile ? steps_.size() * static_cast<size_t>(threads) : 0);
  auto thread_cpu = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  };
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num();
    float* mine = scratch + static_cast<size_t>(tid) * scratch_stride_;
    Clock::time_point t0 = Clock::now();
    double c0 = profile ? thread_cpu() : 0.0;
    for (size_t i = 0; i < steps_.size(); ++i) {
      const Step& s = steps_[i];
      if (s.tiles == 0) {
#pragma omp single
        s.body(0, mine);
      } else if (s.finish.empty()) {
#pragma omp for schedule(dynamic, 1)
        for (int64_t t = 0; t < s.tiles; ++t) s.body(t, mine);
      } else {
        std::atomic<int64_t>& done = done_[i];
#pragma omp for schedule(dynamic, 1) nowait
        for (int64_t t = 0; t < s.tiles; ++t) {
          s.body(t, mine);
          if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == s.tiles)
            for (const auto& f : s.finish) f();
        }
#pragma omp barrier
      }
      if (profile) {
        const double c1 = thread_cpu();
        cpu[i * static_cast<size_t>(threads) + static_cast<size_t>(tid)] = c1 - c0;
        c0 = c1;
#pragma omp master
        {
          const Clock::time_point t1 = Clock::now();
          (*profile)[i].seconds += std::chrono::duration<double>(t1 - t0).count();
          t0 = t1;
        }
      }
    }
  }
  if (profile)
    for (size_t i = 0; i < steps_.size(); ++i)
      for (int t = 0; t < threads; ++t) (*profile)[i].cpu_seconds += cpu[i * static_cast<size_t>(threads) + t];
}

}  // namespace pmsdsen::plan
