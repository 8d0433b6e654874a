#pragma once
// What every fuzz target shares: the input as a string, and the rule that the only
// acceptable failure is a pmsdsen::Error (with a message); anything else that escapes
// (std::bad_alloc, a json exception, out_of_range) terminates, which libFuzzer reports
// as a finding, as it does every sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"

#define PMSDSEN_FUZZ_TARGET(body)                                                      \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {           \
    const std::string bytes(reinterpret_cast<const char*>(data), size);               \
    try {                                                                              \
      body(bytes);                                                                     \
    } catch (const ::pmsdsen::Error& e) {                                              \
      if (*e.what() == '\0') __builtin_trap(); /* every error must say something */   \
    }                                                                                  \
    return 0;                                                                          \
  }
