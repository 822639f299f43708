// gnnrec::Error and the checking macros. Every failure the user can cause, and every failed
// library call, throws gnnrec::Error with the expression, file and line; apps catch it in main.
#pragma once
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace gnnrec {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
[[noreturn]] void throw_error(const char* file, int line, const char* expr, const std::string& msg);
}  // namespace detail

}  // namespace gnnrec

// Argument and input checks. The message is a fmt format string with arguments.
#define GNNREC_EXPECTS(cond, ...)                                                    \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      ::gnnrec::detail::throw_error(__FILE__, __LINE__, #cond, fmt::format(__VA_ARGS__)); \
    }                                                                                \
  } while (0)

#define GNNREC_FAIL(...) \
  ::gnnrec::detail::throw_error(__FILE__, __LINE__, nullptr, fmt::format(__VA_ARGS__))
