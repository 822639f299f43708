#include "runtime/error.h"

#include <cstring>

namespace gnnrec::detail {

void throw_error(const char* file, int line, const char* expr, const std::string& msg) {
  // Only the file's base name: messages stay short and do not depend on the build folder.
  const char* base = std::strrchr(file, '/');
  base = base ? base + 1 : file;
  std::string what = msg;
  if (expr != nullptr) {
    what += fmt::format(" [check `{}` failed at {}:{}]", expr, base, line);
  } else {
    what += fmt::format(" [at {}:{}]", base, line);
  }
  throw Error(what);
}

}  // namespace gnnrec::detail
