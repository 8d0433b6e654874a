#include "examples/train_log.h"

#include <fstream>

#include "core/error.h"
#include "core/safetensors.h"

namespace pmsdsen::train {

std::vector<nlohmann::json> read_log(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      nlohmann::json j = nlohmann::json::parse(line);
      if (j.is_object() && j.contains("iter")) out.push_back(std::move(j));
    } catch (const nlohmann::json::exception&) {
      // a line cut short by a kill: the run that wrote it is being resumed from before it
    }
  }
  return out;
}

RunLog::RunLog(std::string path, int64_t keep_up_to) : path_(std::move(path)) {
  if (path_.empty()) return;
  if (keep_up_to >= 0) {
    for (nlohmann::json& r : read_log(path_)) {
      if (!r["iter"].is_number_integer() || r["iter"].get<int64_t>() > keep_up_to) continue;
      text_ += r.dump() + "\n";
      records_.push_back(std::move(r));
    }
  }
  write_file_atomically(path_, text_);
}

void RunLog::append(const nlohmann::json& record) {
  const size_t before = text_.size();
  text_ += record.dump() + "\n";
  if (path_.empty()) {
    records_.push_back(record);
    return;
  }
  try {
    write_file_atomically(path_, text_);
  } catch (const Error&) {
    text_.resize(before);  // the file still holds the records before this one
    throw;
  }
  records_.push_back(record);
}

}  // namespace pmsdsen::train
