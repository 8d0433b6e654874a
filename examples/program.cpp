#include "examples/program.h"

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <new>

#include "core/error.h"

namespace pmsdsen::cli {

int run_program(int argc, char** argv, const std::string& program,
                const std::function<int(const std::vector<std::string>& args)>& body) {
  // OpenMP threads that spin while they wait cost several times the run time as soon as
  // anything else uses a core (measured: a 512x1024 forward took 7.3 s instead of 1.4 s
  // with one busy core). libgomp reads OMP_WAIT_POLICY when it loads, before main, so
  // set it and run this binary again, once; a user's own setting is kept.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);  // returns only on failure: then go on as we are
  }
  // Past a file-size limit (ulimit -f) a write then fails with EFBIG, which the writers
  // report naming the file, instead of the process dying from SIGXFSZ mid-write.
  std::signal(SIGXFSZ, SIG_IGN);
  const std::vector<std::string> args(argv + 1, argv + argc);
  const std::string who = args.empty() ? program : program + " " + args[0];
  try {
    return body(args);
  } catch (const Error& e) {
    std::cerr << who << ": error: " << e.what() << "\n";
  } catch (const std::bad_alloc&) {
    std::cerr << who << ": error: out of memory (smaller sizes, batches or images need less)\n";
  } catch (const std::exception& e) {
    std::cerr << who << ": unexpected error: " << e.what() << "\n";
  }
  return 1;
}

}  // namespace pmsdsen::cli
