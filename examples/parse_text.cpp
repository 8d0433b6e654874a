#include "examples/parse_text.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace pmsdsen::cli {

std::optional<int64_t> parse_int64(const std::string& text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::optional<double> parse_finite(const std::string& text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (*end != '\0' || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<std::pair<int64_t, int64_t>> parse_size(const std::string& text) {
  const size_t x = text.find('x');
  if (x == std::string::npos) return std::nullopt;
  const std::optional<int64_t> w = parse_int64(text.substr(0, x)), h = parse_int64(text.substr(x + 1));
  if (!w || !h || *w <= 0 || *h <= 0) return std::nullopt;
  return std::make_pair(*w, *h);
}

std::string quoted(const std::string& text) {
  return "'" + (text.size() <= 60 ? text : text.substr(0, 60) + "...") + "'";
}

}  // namespace pmsdsen::cli
