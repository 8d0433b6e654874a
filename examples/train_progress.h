#pragma once
// Training progress on the console: on a terminal one line rewritten in place
// ("\r") with iteration/total, epoch, smoothed loss, lr, images/s and ETA; otherwise
// (a pipe, a log file) a plain line every --log-every iterations.
#include <cstdint>
#include <cstdio>
#include <string>

namespace pmsdsen::train {

struct ProgressInfo {
  int64_t iteration = 0, total = 0;  // completed / planned
  int64_t epoch = 0, epochs = 0;
  double loss = 0.0;                 // smoothed
  double lr = 0.0;
  double images_per_s = 0.0;
  double eta_s = 0.0;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"
std::string format_progress(const ProgressInfo& p);

class Progress {
 public:
  // interactive: rewrite one line; else print a line every `every` iterations.
  Progress(bool interactive, int64_t every, std::FILE* out = stdout);
  static bool stdout_is_terminal();

  void update(const ProgressInfo& p);
  // A transient status ("validating 12/40") on the progress line; nothing off a terminal.
  void status(const std::string& text);
  // Prints a full line (clearing the progress line first on a terminal).
  void message(const std::string& line);
  void finish();  // ends the progress line on a terminal

 private:
  bool interactive_;
  int64_t every_;
  std::FILE* out_;
  bool line_open_ = false;
  double last_draw_ = -1.0;
};

}  // namespace pmsdsen::train
