#pragma once
// Running the built `pmsdsen` binary from the command tests.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace pmsdsen::test {

struct CommandResult {
  int status = -1;     // exit code
  std::string output;  // stdout and stderr together
};

// Runs a shell command line, its stderr joined to its stdout.
inline CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs `pmsdsen <args>` (args are passed to the shell as written: quote paths with spaces),
// with the environment settings `env` ("NAME=value ...") when given.
inline CommandResult run_tool(const std::string& args, const std::string& env = "") {
  return run_command(env + (env.empty() ? "'" : " '") + PMSDSEN_TOOL_PATH + "' " + args);
}

inline std::string temp_file(const std::string& name) { return std::string(::testing::TempDir()) + "pmsdsen_cmd_" + name; }

}  // namespace pmsdsen::test

#define EXPECT_OUTPUT_HAS(result, text) \
  EXPECT_NE((result).output.find(text), std::string::npos) << "'" << (text) << "' not in:\n" << (result).output
