#pragma once
// Directory listing for the dataset layouts: sorted, so a split's order never depends
// on the filesystem.
#include <string>
#include <vector>

namespace pmsdsen::data {

// Throws "<who>: missing folder <path>" unless `path` is a directory.
void require_dir(const std::string& path, const std::string& who);
// Names (not paths) of the regular files / subdirectories of `dir`, sorted.
std::vector<std::string> list_files(const std::string& dir);
std::vector<std::string> list_dirs(const std::string& dir);
bool file_exists(const std::string& path);
bool ends_with(const std::string& s, const std::string& suffix);
std::string join_path(const std::string& a, const std::string& b);

}  // namespace pmsdsen::data
