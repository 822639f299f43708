// Logging: spdlog to stderr, one format for every command. Progress lines use log_info.
#pragma once
#include <spdlog/spdlog.h>

namespace gnnrec {

// Sets the level ("debug", "info", "warn", "error") and the line format; called by apps once.
void init_logging(const std::string& level = "info");

template <typename... Args>
void log_info(fmt::format_string<Args...> f, Args&&... a) {
  spdlog::info(f, std::forward<Args>(a)...);
}
template <typename... Args>
void log_warn(fmt::format_string<Args...> f, Args&&... a) {
  spdlog::warn(f, std::forward<Args>(a)...);
}
template <typename... Args>
void log_debug(fmt::format_string<Args...> f, Args&&... a) {
  spdlog::debug(f, std::forward<Args>(a)...);
}

}  // namespace gnnrec
