#include "examples/train_progress.h"

#include <unistd.h>

#include <cmath>

#include "examples/clock.h"

namespace pmsdsen::train {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long long s = std::llround(seconds);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%llds", s);
  return buf;
}

std::string format_progress(const ProgressInfo& p) {
  char buf[256];
  const double pct = p.total > 0 ? 100.0 * p.iteration / p.total : 0.0;
  std::snprintf(buf, sizeof buf, "iter %lld/%lld (%.1f%%)  epoch %lld/%lld  loss %.4f  lr %.3g  %.1f img/s  ETA %s",
                static_cast<long long>(p.iteration), static_cast<long long>(p.total), pct,
                static_cast<long long>(p.epoch + 1), static_cast<long long>(p.epochs), p.loss, p.lr,
                p.images_per_s, format_duration(p.eta_s).c_str());
  return buf;
}

Progress::Progress(bool interactive, int64_t every, std::FILE* out)
    : interactive_(interactive), every_(every > 0 ? every : 1), out_(out) {}

bool Progress::stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

void Progress::update(const ProgressInfo& p) {
  if (interactive_) {
    const double t = now_s();
    if (p.iteration != p.total && last_draw_ >= 0 && t - last_draw_ < 0.1) return;
    last_draw_ = t;
    std::fprintf(out_, "\r\033[K%s", format_progress(p).c_str());
    line_open_ = true;
  } else if (p.iteration % every_ == 0 || p.iteration == p.total) {
    std::fprintf(out_, "%s\n", format_progress(p).c_str());
  }
  std::fflush(out_);
}

void Progress::status(const std::string& text) {
  if (!interactive_) return;
  std::fprintf(out_, "\r\033[K%s", text.c_str());
  line_open_ = true;
  std::fflush(out_);
}

void Progress::message(const std::string& line) {
  if (line_open_) std::fprintf(out_, "\r\033[K");
  std::fprintf(out_, "%s\n", line.c_str());
  line_open_ = false;
  last_draw_ = -1.0;
  std::fflush(out_);
}

void Progress::finish() {
  if (line_open_) std::fprintf(out_, "\n");
  line_open_ = false;
  std::fflush(out_);
}

}  // namespace pmsdsen::train
