// bench_prepare: throughput of the `gnnrec prepare` input path on one core.
//   bench_prepare [--format F] [--meta PATH] [--repeat N] [--json OUT] INPUT [INPUT...]
//   bench_prepare --generate N [--keep DIR] ...   (writes N synthetic Amazon-2023 review lines)
// Stages, each timed with a steady clock (best of --repeat runs):
//   lines    LineReader alone: gzip inflate + line splitting
//   parse    read_inputs without hashing: lines + JSON/CSV parsing + id interning
//   sha256   hashing the stored bytes (runs on a second thread inside prepare)
//   prepare  the whole stage into a temporary directory (dedupe, split, CSR, features, write)
// MB/s are of uncompressed bytes, so gzip and plain inputs compare on the same text.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "gnnrec/build_info.h"
#include "kernels/philox.h"
#include "runtime/data/line_reader.h"
#include "runtime/data/prepare.h"
#include "runtime/data/readers.h"
#include "runtime/log.h"
#include "runtime/npy.h"
#include "runtime/sha256.h"

namespace fs = std::filesystem;
using namespace gnnrec;

namespace {

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

struct Timing {
  double wall = 1e300, cpu = 1e300;  // best of the runs; cpu = process CPU time (all threads)
};

// Wall and CPU time: on a shared machine the CPU time of a single-threaded stage is the
// steadier measure of its speed on one core.
Timing best_of(int repeat, const std::function<void()>& f) {
  Timing best;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    f();
    best.cpu = std::min(best.cpu, cpu_seconds() - c0);
    best.wall = std::min(
        best.wall, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// Amazon-2023-like review lines with review text of varied length, ids drawn by Philox.
void generate(const std::string& path, int64_t n) {
  std::ofstream f(path, std::ios::binary);
  const RngKey key{12345, static_cast<uint32_t>(RngPurpose::kTest), 0, 0};
  static const char* kWords[] = {"great",   "product", "works", "as",      "described", "the",
                                 "battery", "lasts",   "long",  "would",   "buy",       "again",
                                 "not",     "worth",   "price", "quality", "is",        "fine"};
  std::string line, text;
  for (int64_t k = 0; k < n; ++k) {
    const U32x4 w = rng_draw(key, static_cast<uint64_t>(k));
    text.clear();
    const uint32_t words = 20 + rng_below(w.v[3], 120);
    for (uint32_t j = 0; j < words; ++j) {
      text += kWords[rng_below(rng_draw(key, (uint64_t(k) << 8) | j).v[0], 18)];
      text.push_back(' ');
    }
    line = fmt::format(
        "{{\"rating\": {}.0, \"title\": \"Review {}\", \"text\": \"{}\", \"images\": [], "
        "\"asin\": \"B{:09d}\", \"parent_asin\": \"B{:09d}\", \"user_id\": \"AG{:026d}\", "
        "\"timestamp\": {}, \"helpful_vote\": {}, \"verified_purchase\": true}}\n",
        1 + rng_below(w.v[0], 5), k, text, rng_below(w.v[1], 200000), rng_below(w.v[1], 100000),
        rng_below(w.v[2], 1000000), 1500000000000LL + rng_below(w.v[3], 1u << 30) * 100LL,
        rng_below(w.v[0] >> 7, 10));
    f << line;
  }
}

}  // namespace

int main(int argc, char** argv) {
  init_logging("warn");
  std::vector<std::string> inputs, meta;
  std::string format = "auto", json_path, keep;
  int repeat = 3;
  int64_t gen = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--format") {
      format = value();
    } else if (a == "--meta") {
      meta.push_back(value());
    } else if (a == "--repeat") {
      repeat = std::max(1, std::stoi(value()));
    } else if (a == "--json") {
      json_path = value();
    } else if (a == "--generate") {
      gen = std::stoll(value());
    } else if (a == "--keep") {
      keep = value();
    } else if (a == "-h" || a == "--help") {
      std::puts(
          "bench_prepare [--format F] [--meta PATH] [--repeat N] [--json OUT] "
          "[--generate N] INPUT...");
      return 0;
    } else {
      inputs.push_back(a);
    }
  }
  const std::string work =
      (fs::temp_directory_path() / ("bench_prepare." + std::to_string(::getpid()))).string();
  fs::create_directories(work);
  try {
    if (gen > 0) {
      const std::string p = (keep.empty() ? work : keep) + "/Synthetic.jsonl";
      if (!keep.empty()) fs::create_directories(keep);
      generate(p, gen);
      inputs.push_back(p);
      format = "amazon2023";
    }
    if (inputs.empty()) {
      std::fprintf(stderr, "bench_prepare: give an input path (or --generate N)\n");
      return 2;
    }
    ReadOptions ro;
    ro.inputs = inputs;
    ro.meta = meta;
    ro.format = parse_input_format(format);
    ro.hash_sources = false;

    // Files as prepare resolves them (folders expanded), for the line and hash stages.
    RawData probe = read_inputs(ro);
    std::vector<std::string> files;
    uint64_t stored = 0;
    for (const auto& s : probe.sources) {
      files.push_back(s.path);
      stored += s.bytes;
    }
    const uint64_t text_bytes = probe.stats.bytes_uncompressed;
    int64_t lines = 0;
    const Timing t_lines = best_of(repeat, [&] {
      lines = 0;
      for (const auto& f : files) {
        LineReader r(f);
        std::string_view l;
        while (r.next(&l)) ++lines;
      }
    });
    int64_t rows = 0;
    const Timing t_parse =
        best_of(repeat, [&] { rows = static_cast<int64_t>(read_inputs(ro).rows.size()); });
    const Timing t_hash = best_of(repeat, [&] {
      for (const auto& f : files) sha256_file(f);
    });
    PrepareOptions po;
    po.read = ro;
    po.read.hash_sources = true;
    po.out = work + "/dataset";
    po.force = true;
    const Timing t_prepare = best_of(repeat, [&] { prepare_dataset(po); });

    const double mb = text_bytes / 1e6;
    std::printf(
        "bench_prepare: %zu file(s), %.1f MB stored, %.1f MB text, %lld lines, %lld "
        "interactions (commit %s)\n",
        files.size(), stored / 1e6, mb, static_cast<long long>(lines), static_cast<long long>(rows),
        GNNREC_GIT_COMMIT);
    std::printf("%-8s %9s %9s %13s %16s %12s\n", "stage", "wall s", "cpu s", "MB/s (wall)",
                "MB/s (cpu-sec)", "lines/s");
    auto row = [&](const char* name, const Timing& t) {
      std::printf("%-8s %9.3f %9.3f %13.1f %16.1f %12.0f\n", name, t.wall, t.cpu, mb / t.wall,
                  mb / t.cpu, lines / t.wall);
    };
    row("lines", t_lines);
    row("parse", t_parse);
    row("sha256", t_hash);
    row("prepare", t_prepare);
    std::printf(
        "(MB are uncompressed text; prepare's cpu time includes the hashing thread; "
        "sha256 of stored bytes: %.1f MB/s)\n",
        stored / 1e6 / t_hash.wall);
    if (!json_path.empty()) {
      auto stage = [&](const Timing& t) {
        return nlohmann::json{{"wall_s", t.wall},
                              {"cpu_s", t.cpu},
                              {"mb_per_s", mb / t.wall},
                              {"mb_per_cpu_s", mb / t.cpu},
                              {"lines_per_s", lines / t.wall}};
      };
      nlohmann::json j = {{"bench", "prepare"},
                          {"commit", GNNREC_GIT_COMMIT},
                          {"device", "cpu (parse on 1 core)"},
                          {"inputs", files},
                          {"format", input_format_name(probe.format)},
                          {"bytes_stored", stored},
                          {"bytes_text", text_bytes},
                          {"lines", lines},
                          {"interactions", rows},
                          {"repeat", repeat},
                          {"stages",
                           {{"lines", stage(t_lines)},
                            {"parse", stage(t_parse)},
                            {"sha256", stage(t_hash)},
                            {"prepare", stage(t_prepare)}}}};
      write_file_atomic(json_path, j.dump(2) + "\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_prepare: error: %s\n", e.what());
    fs::remove_all(work);
    return 1;
  }
  fs::remove_all(work);
  return 0;
}
