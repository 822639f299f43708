#include "runtime/info.h"

#include <cblas.h>
#include <omp.h>

#include "gnnrec/build_info.h"
#include "runtime/context.h"

namespace gnnrec {

nlohmann::json build_info_json() {
  nlohmann::json j;
  j["version"] = GNNREC_VERSION;
  j["commit"] = GNNREC_GIT_COMMIT;
  j["build_type"] = GNNREC_BUILD_TYPE;
  j["compiler"] = GNNREC_CXX_COMPILER;
  j["cuda_compiled"] = cuda_compiled();
  j["cuda_archs"] = cuda_compiled() ? GNNREC_CUDA_ARCHS : "";
#ifdef GNNREC_WITH_NCCL
  j["nccl"] = true;
#else
  j["nccl"] = false;
#endif
  j["cuda_runtime"] = cuda_runtime_version();
  j["cuda_driver"] = cuda_driver_version();
  j["omp_threads"] = omp_get_max_threads();
  j["blas"] = std::string(openblas_get_config());
  j["blas_threads"] = openblas_get_num_threads();
  nlohmann::json devs = nlohmann::json::array();
  for (const DeviceInfo& d : list_devices()) {
    devs.push_back({{"index", d.index},
                    {"name", d.name},
                    {"memory_gib", static_cast<double>(d.total_memory) / (1 << 30)},
                    {"sm_count", d.sm_count},
                    {"compute_capability", fmt::format("{}.{}", d.cc_major, d.cc_minor)}});
  }
  j["gpus"] = devs;
  return j;
}

std::string build_report(bool as_json) {
  const nlohmann::json j = build_info_json();
  if (as_json) return j.dump(2) + "\n";
  std::string s;
  s += fmt::format("gnnrec {} (commit {}, {} build, {})\n", j["version"].get<std::string>(),
                   j["commit"].get<std::string>(), j["build_type"].get<std::string>(),
                   j["compiler"].get<std::string>());
  s += fmt::format("CUDA compiled in: {}{}\n", j["cuda_compiled"].get<bool>() ? "yes" : "no",
                   j["cuda_compiled"].get<bool>()
                       ? fmt::format(" (archs {}, NCCL {})", j["cuda_archs"].get<std::string>(),
                                     j["nccl"].get<bool>() ? "yes" : "no")
                       : "");
  s += fmt::format("CUDA runtime: {}, driver: {}\n", j["cuda_runtime"].get<std::string>(),
                   j["cuda_driver"].get<std::string>());
  s += fmt::format("GPUs found: {}\n", j["gpus"].size());
  for (const auto& d : j["gpus"]) {
    s += fmt::format("  cuda:{} {} ({:.1f} GiB, {} SMs, sm_{})\n", d["index"].get<int>(),
                     d["name"].get<std::string>(), d["memory_gib"].get<double>(),
                     d["sm_count"].get<int>(), d["compute_capability"].get<std::string>());
  }
  if (j["gpus"].empty()) s += "  (none: every command runs on the CPU)\n";
  s += fmt::format("CPU threads (OpenMP): {}\n", j["omp_threads"].get<int>());
  s += fmt::format("BLAS: {} ({} threads)\n", j["blas"].get<std::string>(),
                   j["blas_threads"].get<int>());
  return s;
}

}  // namespace gnnrec
