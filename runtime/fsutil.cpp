#include "runtime/fsutil.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "runtime/error.h"

namespace gnnrec {
namespace fs = std::filesystem;

std::string make_temp_dir_for(const std::string& final_dir) {
  const std::string tmp = final_dir + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  GNNREC_EXPECTS(!ec, "{}: cannot create directory ({})", tmp, ec.message());
  return tmp;
}

void commit_dir(const std::string& tmp_dir, const std::string& final_dir) {
  std::error_code ec;
  const std::string old = final_dir + ".old." + std::to_string(::getpid());
  const bool had = fs::exists(final_dir);
  if (had) {
    fs::rename(final_dir, old, ec);
    GNNREC_EXPECTS(!ec, "{}: cannot move the previous version aside ({})", final_dir,
                   ec.message());
  }
  fs::rename(tmp_dir, final_dir, ec);
  if (ec) {
    if (had) fs::rename(old, final_dir);
    GNNREC_FAIL("{}: cannot rename {} into place ({})", final_dir, tmp_dir, ec.message());
  }
  if (had) fs::remove_all(old, ec);
}

void ensure_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  GNNREC_EXPECTS(!ec, "{}: cannot create directory ({})", dir, ec.message());
}

bool path_exists(const std::string& path) { return fs::exists(path); }

void append_line(const std::string& path, const std::string& line) {
  FILE* f = std::fopen(path.c_str(), "a");
  GNNREC_EXPECTS(f != nullptr, "{}: cannot open for appending", path);
  std::fputs(line.c_str(), f);
  std::fputc('\n', f);
  std::fflush(f);
  ::fsync(fileno(f));
  std::fclose(f);
}

double peak_rss_mib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

}  // namespace gnnrec
