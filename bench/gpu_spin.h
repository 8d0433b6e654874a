#pragma once
// A kernel that keeps the library stream busy for a while, so that the host can queue
// the timed repetitions behind it: the reps then run back to back and the events around
// each one time the GPU, not the host's launch rate. It ends on its own (no host flag
// to wait for), so a full launch queue cannot deadlock.
namespace pmsdsen::bench {

// Queues the spin on cuda_env::stream(). Only in CUDA builds.
void gpu_spin(double microseconds);

}  // namespace pmsdsen::bench
