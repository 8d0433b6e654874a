#pragma once
// A fixed-width text table, printed row by row as results arrive.
#include <string>
#include <vector>

namespace pmsdsen::bench {

struct Column {
  std::string title;
  int width;
  bool left = false;  // text columns left-aligned, numbers right-aligned
};

class Table {
 public:
  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}
  std::string header() const;  // titles and a rule
  // One line; a cell longer than its column is kept whole (the line grows).
  std::string row(const std::vector<std::string>& cells) const;

 private:
  std::vector<Column> columns_;
};

// Number formatting for cells: "-" for NaN (a figure that does not exist).
std::string fixed(double v, int decimals);
// Milliseconds with 3 significant digits or more ("0.00412", "12.3", "1234").
std::string ms_cell(double ms);

}  // namespace pmsdsen::bench
