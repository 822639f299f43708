// Shared helpers for the bench_*.cpp programs (header-only, so each bench stays one file):
//   Options / parse_options   --json PATH, --quick, --reps N, --device cpu|cuda|all, --help
//   time_cpu / time_cuda      warm-up, then N timed repetitions; median, min, max in ms
//                             (steady clock on the CPU, CUDA events on the GPU)
//   measure_*_bandwidth_gbs   a measured memory bandwidth (parallel copy / D2D cudaMemcpy), the
//                             denominator of "fraction of measured bandwidth"
//   Table                     an aligned text table for stdout
//   Report                    collects result rows and writes the JSON file: bench name, date,
//                             host, CPU model, build info (commit, CUDA archs, GPUs), the measured
//                             bandwidths and the rows (see bench/README.md for the schema)
#pragma once
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/context.h"
#include "runtime/info.h"
#include "runtime/npy.h"
#include "runtime/tensor.h"

#ifdef GNNREC_WITH_CUDA
#include "runtime/cuda_check.h"
#endif

namespace gnnrec::bench {

struct Options {
  std::string json_path;  // empty: no JSON
  bool quick = false;     // smaller sizes and fewer repetitions (CI smoke runs)
  int reps = 0;           // 0: the bench's default
  bool run_cpu = true;
  bool run_cuda = true;  // also needs a visible GPU: see cuda_ok()
  bool cuda_ok() const { return run_cuda && cuda_device_count() > 0; }
};

inline Options parse_options(int argc, char** argv, const char* what) {
  Options o;
  auto usage = [&](int rc) {
    std::fprintf(rc ? stderr : stdout,
                 "%s\nusage: %s [--json PATH] [--quick] [--reps N] [--device cpu|cuda|all]\n", what,
                 argv[0]);
    std::exit(rc);
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s: option %s needs a value\n", argv[0], a.c_str());
        usage(2);
      }
      return argv[++i];
    };
    if (a == "--json") {
      o.json_path = value();
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--reps") {
      o.reps = std::atoi(value().c_str());
      if (o.reps < 1) {
        std::fprintf(stderr, "%s: --reps must be >= 1\n", argv[0]);
        usage(2);
      }
    } else if (a == "--device") {
      const std::string d = value();
      if (d != "cpu" && d != "cuda" && d != "all") {
        std::fprintf(stderr, "%s: --device must be cpu, cuda or all, got '%s'\n", argv[0],
                     d.c_str());
        usage(2);
      }
      o.run_cpu = d != "cuda";
      o.run_cuda = d != "cpu";
    } else if (a == "-h" || a == "--help") {
      usage(0);
    } else {
      std::fprintf(stderr, "%s: unknown option '%s'\n", argv[0], a.c_str());
      usage(2);
    }
  }
  return o;
}

struct Timing {
  double median_ms = 0, min_ms = 0, max_ms = 0;
  int reps = 0;
};

inline Timing summarise(std::vector<double> ms) {
  Timing t;
  if (ms.empty()) return t;
  std::sort(ms.begin(), ms.end());
  t.reps = static_cast<int>(ms.size());
  t.min_ms = ms.front();
  t.max_ms = ms.back();
  const size_t h = ms.size() / 2;
  t.median_ms = ms.size() % 2 ? ms[h] : 0.5 * (ms[h - 1] + ms[h]);
  return t;
}

// Runs `f` `warmup` times, then up to `reps` timed times; stops early (after at least 3) once
// `budget_s` seconds of timed runs have passed, so slow CPU cases do not dominate a sweep.
inline Timing time_cpu(const std::function<void()>& f, int warmup, int reps,
                       double budget_s = 2.0) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> ms;
  double total = 0;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = clock::now();
    f();
    const double dt = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    ms.push_back(dt);
    total += dt;
    if (ms.size() >= 3 && total > budget_s * 1e3) break;
  }
  return summarise(ms);
}

#ifdef GNNREC_WITH_CUDA
// `f` enqueues work on `stream`; each repetition is bracketed by CUDA events on that stream, so
// the time is the GPU's, without launch gaps before the first kernel.
inline Timing time_cuda(const std::function<void()>& f, Stream stream, int warmup, int reps,
                        double budget_s = 2.0) {
  auto st = reinterpret_cast<cudaStream_t>(stream);
  for (int i = 0; i < warmup; ++i) f();
  GNNREC_CUDA_CHECK(cudaStreamSynchronize(st));
  cudaEvent_t a, b;
  GNNREC_CUDA_CHECK(cudaEventCreate(&a));
  GNNREC_CUDA_CHECK(cudaEventCreate(&b));
  std::vector<double> ms;
  double total = 0;
  for (int i = 0; i < reps; ++i) {
    GNNREC_CUDA_CHECK(cudaEventRecord(a, st));
    f();
    GNNREC_CUDA_CHECK(cudaEventRecord(b, st));
    GNNREC_CUDA_CHECK(cudaEventSynchronize(b));
    float dt = 0;
    GNNREC_CUDA_CHECK(cudaEventElapsedTime(&dt, a, b));
    ms.push_back(dt);
    total += dt;
    if (ms.size() >= 3 && total > budget_s * 1e3) break;
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return summarise(ms);
}
#endif

// Host memory bandwidth in GB/s (1e9 bytes): an OpenMP-parallel copy of `bytes` (well beyond the
// last-level cache), counting read + write (STREAM "copy" convention); best of 5.
inline double measure_cpu_bandwidth_gbs(size_t bytes = size_t{256} << 20) {
  const size_t n = bytes / sizeof(float);
  std::unique_ptr<float[]> src(new float[n]), dst(new float[n]);
  const int64_t nn = static_cast<int64_t>(n);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < nn; ++i) {  // first touch by the threads that copy later
    src[i] = static_cast<float>(i & 1023);
    dst[i] = 0;
  }
  Timing t = time_cpu(
      [&] {
#pragma omp parallel
        {
          const int nt = omp_get_num_threads(), id = omp_get_thread_num();
          const int64_t lo = nn * id / nt, hi = nn * (id + 1) / nt;
          std::memcpy(dst.get() + lo, src.get() + lo, static_cast<size_t>(hi - lo) * 4);
        }
      },
      1, 5, 10.0);
  return 2.0 * static_cast<double>(n * sizeof(float)) / (t.min_ms * 1e6);
}

#ifdef GNNREC_WITH_CUDA
// GPU memory bandwidth in GB/s: device-to-device cudaMemcpyAsync of `bytes`, read + write.
inline double measure_cuda_bandwidth_gbs(Device dev, size_t bytes = size_t{1} << 30) {
  DeviceContext& ctx = context_for(dev);
  Tensor a = Tensor::empty({static_cast<int64_t>(bytes)}, DType::kU8, dev, ctx.stream);
  Tensor b = Tensor::empty({static_cast<int64_t>(bytes)}, DType::kU8, dev, ctx.stream);
  a.fill_zero(ctx.stream);
  auto st = reinterpret_cast<cudaStream_t>(ctx.stream);
  Timing t = time_cuda(
      [&] {
        GNNREC_CUDA_CHECK(cudaMemcpyAsync(b.raw(), a.raw(), bytes, cudaMemcpyDeviceToDevice, st));
      },
      ctx.stream, 2, 10);
  return 2.0 * static_cast<double>(bytes) / (t.min_ms * 1e6);
}
#endif

// Blocks until all work on the device's context stream is done (no-op on the CPU).
inline void sync(Device dev) {
  if (dev.is_cuda()) stream_synchronize(context_for(dev).stream);
}

// An aligned text table. Columns are right-aligned except the first `left` ones.
class Table {
 public:
  explicit Table(std::vector<std::string> header, int left = 1)
      : header_(std::move(header)), left_(left) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(FILE* out = stdout) const {
    std::vector<size_t> w(header_.size(), 0);
    auto widen = [&](const std::vector<std::string>& r) {
      for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
    };
    widen(header_);
    for (const auto& r : rows_) widen(r);
    auto line = [&](const std::vector<std::string>& r) {
      std::string s;
      for (size_t i = 0; i < w.size(); ++i) {
        const std::string c = i < r.size() ? r[i] : "";
        const std::string pad(w[i] - c.size(), ' ');
        s += (i ? "  " : "") + (static_cast<int>(i) < left_ ? c + pad : pad + c);
      }
      while (!s.empty() && s.back() == ' ') s.pop_back();
      std::fprintf(out, "%s\n", s.c_str());
    };
    line(header_);
    size_t total = 0;
    for (size_t x : w) total += x + 2;
    std::fprintf(out, "%s\n", std::string(total > 2 ? total - 2 : 0, '-').c_str());
    for (const auto& r : rows_) line(r);
    std::fflush(out);
  }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
  int left_;
};

// Formats a number for the table: fixed with `prec` decimals, "-" for negative (not measured).
inline std::string num(double v, int prec = 2) {
  if (v < 0) return "-";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

inline std::string utc_now_iso() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

inline std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t p = line.find(':');
      if (p != std::string::npos) return line.substr(line.find_first_not_of(' ', p + 1));
    }
  }
  return "unknown";
}

inline std::string host_name() {
  char b[256] = {0};
  if (gethostname(b, sizeof b - 1) != 0) return "unknown";
  return b;
}

// Collects result rows; write() produces
//   {"bench", "date", "host", "cpu", "build": build_info_json(), "bandwidth_gbs": {device: GB/s},
//    "failures": n, "results": [row, ...]}
// Every row has at least "name" and "device"; times are "ms" (median), "min_ms", "reps".
class Report {
 public:
  Report(std::string bench, Options opt) : bench_(std::move(bench)), opt_(std::move(opt)) {}

  void set_bandwidth(const std::string& device, double gbs) { bandwidth_[device] = gbs; }
  double bandwidth(const std::string& device) const {
    return bandwidth_.contains(device) ? bandwidth_.at(device).get<double>() : -1.0;
  }
  void add(nlohmann::json row) { rows_.push_back(std::move(row)); }
  // Records a failed correctness check (the bench then exits non-zero).
  void fail(const std::string& what) {
    std::fprintf(stderr, "CHECK FAILED: %s\n", what.c_str());
    failures_.push_back(what);
  }
  int failures() const { return static_cast<int>(failures_.size()); }

  nlohmann::json json() const {
    nlohmann::json j;
    j["bench"] = bench_;
    j["date"] = utc_now_iso();
    j["host"] = host_name();
    j["cpu"] = cpu_model();
    j["build"] = build_info_json();
    j["quick"] = opt_.quick;
    j["bandwidth_gbs"] = bandwidth_.empty() ? nlohmann::json::object() : bandwidth_;
    j["failures"] = failures_;
    j["results"] = rows_;
    return j;
  }
  // Writes the JSON file if --json was given; returns the process exit code (1 on failures).
  int finish() const {
    if (!opt_.json_path.empty()) {
      write_file_atomic(opt_.json_path, json().dump(2) + "\n");
      std::printf("wrote %s\n", opt_.json_path.c_str());
    }
    if (!failures_.empty()) {
      std::fprintf(stderr, "%s: %d correctness check(s) failed\n", bench_.c_str(), failures());
      return 1;
    }
    return 0;
  }

 private:
  std::string bench_;
  Options opt_;
  nlohmann::json bandwidth_ = nlohmann::json::object();
  nlohmann::json rows_ = nlohmann::json::array();
  std::vector<std::string> failures_;
};

// Runs a bench body, turning a gnnrec::Error (or any exception) into one line and exit code 1.
inline int run_main(const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

}  // namespace gnnrec::bench
