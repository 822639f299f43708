// Item feature fitting at catalogue scale: parses an Amazon meta file (2023 or 2018 field names,
// .jsonl or .jsonl.gz), fits the item transform (TF-IDF + randomised SVD, top-K categories and
// brands, price z-score) on 80% of the items, and times fit and transform.
//   bench_features [META_FILE] [--json OUT.json]
// Without META_FILE it writes `gnnrec synth --preset small` into a temporary folder and uses its
// meta file (20k items); pass the electronics preset's meta file for the 400k-item case.
#include <simdjson.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gnnrec/build_info.h"
#include "runtime/data/features.h"
#include "runtime/data/synth.h"
#include "runtime/npy.h"

using namespace gnnrec;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string read_maybe_gz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  GNNREC_EXPECTS(f != nullptr, "{}: cannot open", path);
  std::string out;
  std::vector<char> buf(1 << 20);
  int n;
  while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0)
    out.append(buf.data(), n);
  gzclose(f);
  return out;
}

std::string as_string(simdjson::simdjson_result<simdjson::dom::element> e) {
  std::string_view s;
  return e.get(s) == simdjson::SUCCESS ? std::string(s) : std::string();
}

std::vector<RawItemMeta> parse_meta(const std::string& text) {
  std::vector<RawItemMeta> items;
  simdjson::dom::parser parser;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    simdjson::dom::element e;
    if (line.empty() || parser.parse(line.data(), line.size()).get(e) != simdjson::SUCCESS)
      continue;
    RawItemMeta m;
    m.present = true;
    m.title = as_string(e["title"]);
    simdjson::dom::array cats;
    if (e["categories"].get(cats) == simdjson::SUCCESS ||
        e["category"].get(cats) == simdjson::SUCCESS)
      for (simdjson::dom::element c : cats)
        m.categories.push_back(as_string(simdjson::dom::element(c)));
    simdjson::dom::element p;
    if (e["price"].get(p) == simdjson::SUCCESS) {
      double v;
      if (p.get(v) == simdjson::SUCCESS) {
        m.price = v;
      } else {
        m.price_text = as_string(simdjson::dom::element(p));
      }
    }
    m.brand = as_string(e["store"]);
    if (m.brand.empty()) m.brand = as_string(e["brand"]);
    items.push_back(std::move(m));
  }
  return items;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string meta_path, json_out;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--json" && i + 1 < argc) {
        json_out = argv[++i];
      } else {
        meta_path = a;
      }
    }
    const std::string tmp = (std::filesystem::temp_directory_path() /
                             ("gnnrec_bench_features_" + std::to_string(::getpid())))
                                .string();
    if (meta_path.empty()) {
      SynthConfig cfg = synth_preset("small");
      meta_path = write_synth(cfg, tmp + "/synth").meta_path;
    }
    auto t = std::chrono::steady_clock::now();
    const std::vector<RawItemMeta> items = parse_meta(read_maybe_gz(meta_path));
    const double t_parse = seconds_since(t);
    std::vector<uint8_t> fit(items.size());
    for (size_t i = 0; i < items.size(); ++i) fit[i] = i % 5 != 0;  // 80% "have train edges"
    FeatureOptions opt;
    t = std::chrono::steady_clock::now();
    const FeatureMatrix f = build_item_features(items, fit, opt, tmp + "/features");
    const double t_fit = seconds_since(t);
    t = std::chrono::steady_clock::now();
    const FeatureMatrix g = transform_item_features(items, tmp + "/features");
    const double t_transform = seconds_since(t);
    const auto j = nlohmann::json::parse(read_file(tmp + "/features/features.json"));
    std::printf("%-12s %8s %8s %6s %10s %10s %12s\n", "items", "columns", "vocab", "dims",
                "parse_s", "fit_s", "transform_s");
    std::printf("%-12zu %8zu %8d %6d %10.3f %10.3f %12.3f\n", items.size(), f.names.size(),
                j["title"]["vocab_size"].get<int>(), j["title"]["dims"].get<int>(), t_parse, t_fit,
                t_transform);
    if (!json_out.empty()) {
      nlohmann::json r = {{"bench", "features"},
                          {"commit", GNNREC_GIT_COMMIT},
                          {"meta", meta_path},
                          {"items", items.size()},
                          {"columns", f.names.size()},
                          {"vocab", j["title"]["vocab_size"]},
                          {"dims", j["title"]["dims"]},
                          {"parse_s", t_parse},
                          {"fit_s", t_fit},
                          {"transform_s", t_transform}};
      write_file_atomic(json_out, r.dump(2) + "\n");
    }
    std::filesystem::remove_all(tmp);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_features: error: %s\n", e.what());
    return 1;
  }
}
