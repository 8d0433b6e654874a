#include "examples/train_log.h"

#include <cerrno>
#include <cstring>
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
  std::string kept;
  if (keep_up_to >= 0) {
    for (nlohmann::json& r : read_log(path_)) {
      if (!r["iter"].is_number_integer() || r["iter"].get<int64_t>() > keep_up_to) continue;
      kept += r.dump() + "\n";
      records_.push_back(std::move(r));
    }
  }
  write_file_atomically(path_, kept);
  file_ = std::fopen(path_.c_str(), "a");
  PMSDSEN_CHECK(file_ != nullptr, "cannot open '", path_, "' for appending: ", std::strerror(errno));
}

RunLog::~RunLog() {
  if (file_) std::fclose(file_);
}

void RunLog::append(const nlohmann::json& record) {
  const std::string line = record.dump() + "\n";
  PMSDSEN_CHECK(std::fwrite(line.data(), 1, line.size(), file_) == line.size() && std::fflush(file_) == 0,
                "error writing '", path_, "': ", std::strerror(errno));
  records_.push_back(record);
}

}  // namespace pmsdsen::train
