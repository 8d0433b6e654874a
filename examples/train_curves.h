#pragma once
// curves.svg: training loss (left axis) and validation mIoU (right axis, percent)
// against iteration, from the records of log.jsonl. Plain SVG, viewable in a browser.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pmsdsen::train {

// total_iters sets the x axis (the run's planned length; the data may end earlier).
std::string curves_svg(const std::vector<nlohmann::json>& records, int64_t total_iters,
                       const std::string& title);
// Writes curves_svg atomically.
void write_curves(const std::string& path, const std::vector<nlohmann::json>& records,
                  int64_t total_iters, const std::string& title);

}  // namespace pmsdsen::train
