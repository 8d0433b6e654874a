#include "core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace pmsdsen {
namespace {

// Closes on every path out; the result of the checked close is taken with release().
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int close_checked() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

std::string file_type_problem(const struct stat& st) {
  if (S_ISDIR(st.st_mode)) return "is a directory";
  if (!S_ISREG(st.st_mode)) return "is not a regular file";
  return "";
}

// Writes all of `bytes` to `fd`; the errno of the failure, or 0.
int write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    done += static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

std::string temporary_path_for(const std::string& path) { return path + ".tmp." + std::to_string(::getpid()); }

std::string read_file(const std::string& path, const std::string& what) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  PMSDSEN_CHECK(fd.get() >= 0, "cannot read ", what, " '", path, "': ", std::strerror(errno));
  struct stat st {};
  PMSDSEN_CHECK(::fstat(fd.get(), &st) == 0, "cannot read ", what, " '", path, "': ", std::strerror(errno));
  const std::string problem = file_type_problem(st);
  PMSDSEN_CHECK(problem.empty(), "cannot read ", what, " '", path, "': ", problem);
  std::string bytes;
  bytes.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    PMSDSEN_CHECK(n >= 0, "error reading ", what, " '", path, "': ", std::strerror(errno));
    if (n == 0) break;
    bytes.append(buf, static_cast<size_t>(n));
  }
  return bytes;
}

namespace {

// Writes `bytes` to path's temporary, flushed to disk and closed; returns the temporary.
// On failure nothing is left and the Error names `path`.
std::string write_temporary(const std::string& path, const std::string& bytes) {
  const std::string tmp = temporary_path_for(path);
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  PMSDSEN_CHECK(fd.get() >= 0, "cannot write '", path, "': cannot create '", tmp, "': ", std::strerror(errno));
  int err = write_all(fd.get(), bytes);
  if (err == 0 && ::fsync(fd.get()) != 0) err = errno;
  if (fd.close_checked() != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    PMSDSEN_FAIL("cannot write '", path, "': ", std::strerror(err), " (nothing written)");
  }
  return tmp;
}

void rename_over(const std::string& tmp, const std::string& path) {
  if (::rename(tmp.c_str(), path.c_str()) == 0) return;
  const int err = errno;
  ::unlink(tmp.c_str());
  PMSDSEN_FAIL("cannot write '", path, "': ", std::strerror(err), " (nothing written)");
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& bytes) {
  rename_over(write_temporary(path, bytes), path);
}

void write_files_atomically(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::string> written;
  try {
    for (const auto& [path, bytes] : files) written.push_back(write_temporary(path, bytes));
  } catch (const Error&) {
    for (const std::string& tmp : written) ::unlink(tmp.c_str());
    throw;
  }
  for (size_t i = 0; i < files.size(); ++i) {
    try {
      rename_over(written[i], files[i].first);
    } catch (const Error&) {
      for (size_t j = i + 1; j < written.size(); ++j) ::unlink(written[j].c_str());
      throw;
    }
  }
}

void check_writable(const std::string& path, const std::string& what) {
  PMSDSEN_CHECK(!path.empty(), "empty ", what, " path");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    PMSDSEN_CHECK(!S_ISDIR(st.st_mode), "cannot write ", what, " '", path, "': is a directory");
  }
  const std::string tmp = temporary_path_for(path);
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  PMSDSEN_CHECK(fd.get() >= 0, "cannot write ", what, " '", path, "': ", std::strerror(errno));
  fd.close_checked();
  ::unlink(tmp.c_str());
}

}  // namespace pmsdsen
