#include "bench/table.h"

#include <cmath>
#include <cstdio>

namespace pmsdsen::bench {

std::string Table::header() const {
  std::vector<std::string> titles;
  size_t width = 0;
  for (const Column& c : columns_) {
    titles.push_back(c.title);
    width += static_cast<size_t>(c.width) + 2;
  }
  return row(titles) + "\n" + std::string(width > 2 ? width - 2 : width, '-');
}

std::string Table::row(const std::vector<std::string>& cells) const {
  std::string line;
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Column& c = columns_[i];
    const std::string cell = i < cells.size() ? cells[i] : "";
    const size_t pad = cell.size() < static_cast<size_t>(c.width) ? c.width - cell.size() : 0;
    if (i > 0) line += "  ";
    line += c.left ? cell + std::string(pad, ' ') : std::string(pad, ' ') + cell;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

std::string fixed(double v, int decimals) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string ms_cell(double ms) {
  if (std::isnan(ms)) return "-";
  const double a = std::fabs(ms);
  const int decimals = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : a >= 0.1 ? 3 : a >= 0.01 ? 4 : 5;
  return fixed(ms, decimals);
}

}  // namespace pmsdsen::bench
