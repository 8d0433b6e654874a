#pragma once
// Seeded random numbers: xoshiro256** seeded through splitmix64. Results depend only
// on the seed, so runs are reproducible on any machine and for either backend
// (initialisers draw on the CPU and copy to the device).
#include <cstdint>
#include <initializer_list>

namespace pmsdsen {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0);
  // A generator for one piece of work, e.g. derive(seed, {epoch, index}) for one
  // sample: independent of how many numbers other pieces drew.
  static Generator derive(uint64_t seed, std::initializer_list<uint64_t> path);

  uint64_t next_u64();
  uint32_t next_u32() { return static_cast<uint32_t>(next_u64() >> 32); }
  double uniform();                          // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int64_t randint(int64_t lo, int64_t hi);   // [lo, hi]
  double normal(double mean = 0.0, double stddev = 1.0);
  bool bernoulli(double p = 0.5) { return uniform() < p; }

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0.0;
};

uint64_t splitmix64(uint64_t& state);

}  // namespace pmsdsen
