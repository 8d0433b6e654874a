#pragma once
// Code and commands run under resource limits in a forked child, and the files they left
// behind (files_under). A full disk, simulated:
// RLIMIT_FSIZE caps the size of every file the child writes (writes past it fail with
// EFBIG, "File too large", once SIGXFSZ is ignored, as the pmsdsen binary does). A tight
// address space (RLIMIT_AS): thread stacks and large allocations fail.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "tests/test_model_cmd_util.h"

namespace pmsdsen::test {

// Runs `limit` then f in a child; the message of the Error f throws, "no error", or
// "crashed".
inline std::string error_in_child(const std::function<void()>& limit, const std::function<void()>& f) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    limit();
    std::string message = "no error";
    try {
      f();
    } catch (const Error& e) {
      message = e.what();
    }
    (void)!::write(fds[1], message.data(), message.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string message;
  std::array<char, 4096> buf;
  ssize_t n;
  while ((n = ::read(fds[0], buf.data(), buf.size())) > 0) message.append(buf.data(), static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? message : "crashed";
}

// f in a child whose files may not grow past `max_bytes`.
inline std::string error_with_file_limit(size_t max_bytes, const std::function<void()>& f) {
  return error_in_child(
      [max_bytes] {
        ::signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{max_bytes, max_bytes};
        ::setrlimit(RLIMIT_FSIZE, &limit);
      },
      f);
}

// f in a child that may map only `extra_bytes` more than it has mapped already.
inline std::string error_with_address_space_limit(size_t extra_bytes, const std::function<void()>& f) {
  return error_in_child(
      [extra_bytes] {
        std::FILE* status = std::fopen("/proc/self/status", "r");
        char line[256];
        size_t vm_kb = 0;
        while (status && std::fgets(line, sizeof line, status))
          if (std::sscanf(line, "VmSize: %zu kB", &vm_kb) == 1) break;
        if (status) std::fclose(status);
        const rlimit limit{vm_kb * 1024 + extra_bytes, vm_kb * 1024 + extra_bytes};
        ::setrlimit(RLIMIT_AS, &limit);
      },
      f);
}

// `pmsdsen <args>` with its files capped at `max_bytes` (SIGXFSZ left at its default:
// the binary itself must ignore it to report the error).
inline CommandResult run_tool_with_file_limit(const std::string& args, size_t max_bytes) {
  const std::string command = std::string("'") + PMSDSEN_TOOL_PATH + "' " + args + " 2>&1";
  int fds[2];
  CommandResult r;
  if (::pipe(fds) != 0) return r;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    ::dup2(fds[1], 1);
    ::close(fds[1]);
    const rlimit limit{max_bytes, max_bytes};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::array<char, 4096> buf;
  ssize_t n;
  while ((n = ::read(fds[0], buf.data(), buf.size())) > 0) r.output.append(buf.data(), static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// Every file and folder under `dir`, relative to it, sorted: what a command left behind.
inline std::vector<std::string> files_under(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(std::filesystem::relative(it->path(), dir).string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace pmsdsen::test
