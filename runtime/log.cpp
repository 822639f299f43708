#include "runtime/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace gnnrec {

void init_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("gnnrec");
  logger->set_pattern("[%H:%M:%S.%e] %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace gnnrec
