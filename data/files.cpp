#include "data/files.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "core/error.h"

namespace fs = std::filesystem;

namespace pmsdsen::data {
namespace {

std::vector<std::string> list_entries(const std::string& dir, bool want_dirs) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    const bool is_dir = it->is_directory(type_ec);
    const bool is_file = it->is_regular_file(type_ec);
    if (want_dirs ? is_dir : is_file) names.push_back(it->path().filename().string());
  }
  PMSDSEN_CHECK(!ec, "cannot list folder ", dir, ": ", ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

void require_dir(const std::string& path, const std::string& who) {
  std::error_code ec;
  PMSDSEN_CHECK(fs::is_directory(path, ec), who, ": missing folder ", path);
}

std::vector<std::string> list_files(const std::string& dir) { return list_entries(dir, false); }
std::vector<std::string> list_dirs(const std::string& dir) { return list_entries(dir, true); }

bool file_exists(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string join_path(const std::string& a, const std::string& b) {
  return (fs::path(a) / b).string();
}

}  // namespace pmsdsen::data
