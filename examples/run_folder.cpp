#include "examples/run_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/file_io.h"

namespace pmsdsen::train {
namespace {

namespace fs = std::filesystem;

// The files whose atomic writes leave "<name>.tmp.<pid>" behind when killed mid-write.
constexpr const char* kRunFiles[] = {"last.safetensors", "best.safetensors", "curves.svg", "config.json",
                                     "log.jsonl"};

void remove_stale_temporaries(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    for (const char* ours : kRunFiles)
      if (e.is_regular_file() && name.rfind(std::string(ours) + ".tmp.", 0) == 0) fs::remove(e.path());
  }
}

std::string holder_of(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  return n > 0 ? str(" (process ", std::string(buf, static_cast<size_t>(n)), ")") : "";
}

}  // namespace

void check_run_folder_path(const std::string& dir) {
  PMSDSEN_CHECK(!dir.empty(), "train: --out must name a folder");
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  PMSDSEN_CHECK(!fs::exists(st) || fs::is_directory(st), "train: --out '", dir,
                "' is a file; it must name a folder (created if missing)");
}

RunFolder::RunFolder(const std::string& dir) : dir_(dir) {
  check_run_folder_path(dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  PMSDSEN_CHECK(!ec, "train: cannot create the run folder '", dir, "': ", ec.message());
  const std::string lock = file(kRunLockFile);
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  PMSDSEN_CHECK(lock_fd_ >= 0, "train: cannot open the run folder's lock '", lock, "': ", std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string holder = holder_of(lock_fd_);
    ::close(lock_fd_);
    PMSDSEN_CHECK(err != EWOULDBLOCK, "train: the run folder '", dir, "' is in use by another training", holder,
                  "; wait for it to end, or choose another --out");
    PMSDSEN_FAIL("train: cannot lock the run folder '", dir, "' (", lock, "): ", std::strerror(err));
  }
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(lock_fd_, 0) != 0 || ::pwrite(lock_fd_, pid.data(), pid.size(), 0) < 0) {
    // The pid only improves another process's message; the lock is what matters.
  }
  remove_stale_temporaries(dir);
}

RunFolder::~RunFolder() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // closing releases the flock
}

std::string RunFolder::file(const std::string& name) const { return (fs::path(dir_) / name).string(); }

}  // namespace pmsdsen::train
