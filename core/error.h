#pragma once
// Errors: every failure in the library throws pmsdsen::Error with a message that
// names the operation, the argument or file at fault, and the shapes involved.
#include <sstream>
#include <stdexcept>
#include <string>

namespace pmsdsen {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  append(os, rest...);
}
}  // namespace detail

// str("conv2d: ", 3, " channels") concatenates anything streamable.
template <class... Args>
std::string str(const Args&... args) {
  std::ostringstream os;
  detail::append(os, args...);
  return os.str();
}

[[noreturn]] void throw_error(const char* file, int line, const std::string& message);

}  // namespace pmsdsen

// PMSDSEN_CHECK(cond, "op: message ", value, ...) throws pmsdsen::Error when cond is false.
#define PMSDSEN_CHECK(cond, ...)                                              \
  do {                                                                        \
    if (!(cond)) ::pmsdsen::throw_error(__FILE__, __LINE__, ::pmsdsen::str(__VA_ARGS__)); \
  } while (0)

#define PMSDSEN_FAIL(...) ::pmsdsen::throw_error(__FILE__, __LINE__, ::pmsdsen::str(__VA_ARGS__))
