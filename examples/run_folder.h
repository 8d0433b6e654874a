#pragma once
// The run folder of a training (--out), held for the whole run: created if missing, then
// locked (flock on <dir>/.lock, released when the process ends, even by kill -9), so a
// second training into the same folder, or one with --overwrite while another runs, is
// refused naming the process that holds it; then cleared of the temporaries of atomic
// writes that a kill interrupted (only the holder of the lock may do that).
#include <string>

namespace pmsdsen::train {

constexpr const char* kRunLockFile = ".lock";

// Throws unless `dir` can be a run folder: it is a folder, or does not exist yet.
void check_run_folder_path(const std::string& dir);

class RunFolder {
 public:
  explicit RunFolder(const std::string& dir);
  ~RunFolder();  // unlocks (the lock file stays, empty of meaning)
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  const std::string& path() const { return dir_; }
  std::string file(const std::string& name) const;  // dir/name

 private:
  std::string dir_;
  int lock_fd_ = -1;
};

}  // namespace pmsdsen::train
