#pragma once
// Ctrl-C (SIGINT) and SIGTERM during training: the first sets a flag that the loop
// checks after each iteration (it then saves last.safetensors and exits); a second
// one ends the process at once with status 130 (the checkpoint on disk is whole,
// because every write is atomic).
namespace pmsdsen::train {

class InterruptGuard {
 public:
  InterruptGuard();   // installs the handlers and clears the flag
  ~InterruptGuard();  // restores the previous handlers
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  static bool requested();
  static int signal_number();  // the signal that set the flag (0: none)
};

}  // namespace pmsdsen::train
