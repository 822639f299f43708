// What this build is and what it runs on: used by `gnnrec info`, benchmarks and run manifests.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace gnnrec {

nlohmann::json build_info_json();
std::string build_report(bool as_json);

}  // namespace gnnrec
