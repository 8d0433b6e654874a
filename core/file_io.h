#pragma once
// Whole files in and out, with errors that name the file. Reads refuse folders and
// devices; writes are atomic: the bytes go to a temporary file beside the target (every
// write, the fsync and the close checked), which is then renamed over it, so a full
// disk, a kill or a crash leaves either the old file or the new one, never a part.
#include <string>
#include <utility>
#include <vector>

namespace pmsdsen {

// The bytes of the regular file `path`; `what` says what it is for in errors
// ("cannot read weights 'w.safetensors': is a directory").
std::string read_file(const std::string& path, const std::string& what = "file");

// Replaces `path` with `bytes` atomically. On failure the temporary is removed and the
// Error names `path` and the reason ("No space left on device").
void write_file_atomically(const std::string& path, const std::string& bytes);

// Several files that belong together (a command's outputs): every one written to its
// temporary first, then all renamed, so a failure while writing leaves none of them.
void write_files_atomically(const std::vector<std::pair<std::string, std::string>>& files);

// Throws unless `path` can be written: its folder exists and takes a new file, and
// `path` is not a folder. Creates and removes a temporary beside it to be sure. For
// commands to call on their outputs before any long work. `what` as in read_file.
void check_writable(const std::string& path, const std::string& what = "output");

// The temporary write_file_atomically uses for `path`, for tests and for cleaning up
// after a kill: "<path>.tmp.<pid>".
std::string temporary_path_for(const std::string& path);

}  // namespace pmsdsen
