#pragma once
// What every pmsdsen executable does around its commands (pmsdsen, pmsdsen-bench):
// OpenMP's passive wait policy, SIGXFSZ ignored, and errors printed as
// "PROGRAM COMMAND: error: ..." with exit status 1.
#include <functional>
#include <string>
#include <vector>

namespace pmsdsen::cli {

// Runs `body` on the arguments after the program name and returns its exit status.
int run_program(int argc, char** argv, const std::string& program,
                const std::function<int(const std::vector<std::string>& args)>& body);

}  // namespace pmsdsen::cli
