#pragma once
// log.jsonl: one JSON object per line, the whole file rewritten atomically with each new
// record (a few megabytes at most), so that a full disk or a kill never leaves a torn line:
//   {"kind": "train", "iter", "epoch", "loss", "lr", "images_per_s", "elapsed_s"}
//     every --log-every iterations; "loss" is the mean total loss (sum of the three
//     outputs' cross-entropies) over the iterations since the previous record;
//   {"kind": "val", "iter", "epoch", "miou", "pixel_accuracy", "best_miou", "seconds"}
//     after each validation.
// "iter" counts completed iterations (the record after the first update has iter 1).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pmsdsen::train {

class RunLog {
 public:
  // keep_up_to < 0 starts a new log. Otherwise (a resumed run) the records of
  // iterations <= keep_up_to are kept, later ones (which the resumed run repeats) and a
  // line torn by a kill are dropped, and the file is rewritten atomically first.
  // An empty path keeps the records in memory only (the ranks other than 0 of a
  // data-parallel run, which write nothing).
  RunLog(std::string path, int64_t keep_up_to);

  void append(const nlohmann::json& record);
  const std::vector<nlohmann::json>& records() const { return records_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string text_;  // the file's contents
  std::vector<nlohmann::json> records_;
};

// Reads a log.jsonl, skipping lines that do not parse (a torn last line).
std::vector<nlohmann::json> read_log(const std::string& path);

}  // namespace pmsdsen::train
