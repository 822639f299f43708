#include "runtime/eval/report.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "runtime/data/dataset.h"
#include "runtime/eval/baselines.h"
#include "runtime/eval/metrics.h"
#include "runtime/eval/recommend.h"
#include "runtime/info.h"
#include "runtime/log.h"
#include "runtime/npy.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;

// User slices by number of training interactions.
struct Slice {
  const char* name;
  int64_t lo, hi;  // inclusive degree range
};
const Slice kSlices[] = {
    {"all users", 0, INT64_MAX},
    {"cold-start (<= 5 train)", 0, 5},
    {"degree 0", 0, 0},
    {"degree 1-5", 1, 5},
    {"degree 6-20", 6, 20},
    {"degree 21-50", 21, 50},
    {"degree 51+", 51, INT64_MAX},
};
constexpr int kNumSlices = sizeof(kSlices) / sizeof(kSlices[0]);
const char* const kMethods[] = {"model", "most_popular", "random"};
constexpr int kNumMethods = 3;

nlohmann::json metrics_json(const RankingMetrics& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : m.values) j[k] = v;
  return j;
}

nlohmann::json item_json(const Dataset& ds, int32_t item) {
  nlohmann::json j;
  j["id"] = ds.item_ids[item];
  const ItemInfo info = item < static_cast<int32_t>(ds.items.size()) ? ds.items[item] : ItemInfo{};
  j["title"] = info.title;
  j["category"] = info.category;
  j["brand"] = info.brand;
  return j;
}

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

}  // namespace

nlohmann::json read_training_curves(const std::string& path) {
  GNNREC_EXPECTS(fs::exists(path), "{}: missing (--run expects a run directory with metrics.jsonl)",
                 path);
  const std::string text = read_file(path);
  std::vector<nlohmann::json> rows;
  size_t p = 0;
  int64_t line = 0;
  while (p < text.size()) {
    size_t e = text.find('\n', p);
    if (e == std::string::npos) e = text.size();
    const std::string s = text.substr(p, e - p);
    p = e + 1;
    ++line;
    if (s.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(s);
    } catch (const nlohmann::json::exception& ex) {
      GNNREC_FAIL("{}:{}: not valid JSON ({})", path, line, ex.what());
    }
    GNNREC_EXPECTS(j.is_object(), "{}:{}: expected one JSON object per line", path, line);
    rows.push_back(std::move(j));
  }
  nlohmann::json out;
  const bool has_epoch =
      !rows.empty() && std::all_of(rows.begin(), rows.end(), [](const nlohmann::json& r) {
        return r.contains("epoch") && r["epoch"].is_number();
      });
  out["x_key"] = has_epoch ? "epoch" : "line";
  out["x"] = nlohmann::json::array();
  std::vector<std::string> keys;
  for (const auto& r : rows) {
    for (auto it = r.begin(); it != r.end(); ++it) {
      if (it.value().is_number() && !it.value().is_boolean() && it.key() != "epoch" &&
          std::find(keys.begin(), keys.end(), it.key()) == keys.end()) {
        keys.push_back(it.key());
      }
    }
  }
  nlohmann::json series = nlohmann::json::object();
  for (const auto& k : keys) series[k] = nlohmann::json::array();
  for (size_t i = 0; i < rows.size(); ++i) {
    out["x"].push_back(has_epoch ? rows[i]["epoch"].get<double>() : static_cast<double>(i + 1));
    for (const auto& k : keys) {
      const bool ok = rows[i].contains(k) && rows[i][k].is_number();
      const double v = ok ? rows[i][k].get<double>() : NAN;
      series[k].push_back(ok && std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr));
    }
  }
  out["series"] = series;
  // Display order: losses, then validation and test metrics, then the rest; first appearance
  // within each group.
  auto group = [](const std::string& k) {
    if (k.find("loss") != std::string::npos) return 0;
    if (k.rfind("val/", 0) == 0 || k.rfind("val_", 0) == 0) return 1;
    if (k.rfind("test/", 0) == 0) return 2;
    return 3;
  };
  std::stable_sort(keys.begin(), keys.end(),
                   [&](const std::string& a, const std::string& b) { return group(a) < group(b); });
  out["order"] = keys;
  out["path"] = path;
  return out;
}

nlohmann::json evaluate_recommendations(const EvalOptions& opt) {
  GNNREC_EXPECTS(!opt.out_dir.empty(), "--out is required");
  GNNREC_EXPECTS(opt.split == "test" || opt.split == "val", "--split '{}': expected test or val",
                 opt.split);
  GNNREC_EXPECTS(!opt.ks.empty(), "--ks: give at least one K");
  for (int k : opt.ks) GNNREC_EXPECTS(k >= 1, "--ks: K must be >= 1, got {}", k);
  const auto t0 = std::chrono::steady_clock::now();
  const Recommendations rec = load_recommendations(opt.recommendations_dir);
  const std::string rpath = (fs::path(opt.recommendations_dir) / "recommendations.json").string();
  std::string ds_dir = opt.dataset_dir;
  if (ds_dir.empty()) {
    GNNREC_EXPECTS(rec.manifest.contains("dataset_dir") && rec.manifest["dataset_dir"].is_string(),
                   "{}: no dataset_dir; pass --dataset", rpath);
    ds_dir = rec.manifest["dataset_dir"].get<std::string>();
  }
  const Dataset ds = load_dataset(ds_dir);
  const int K = rec.k;
  const int max_k = *std::max_element(opt.ks.begin(), opt.ks.end());
  GNNREC_EXPECTS(max_k <= K, "--ks asks for K = {}, but {} holds only the top {} per user", max_k,
                 opt.recommendations_dir, K);
  const std::string mask_name = rec.manifest.value("mask", std::string("train+val"));
  GNNREC_EXPECTS(!(opt.split == "val" && mask_name == "train+val"),
                 "{}: recommendations masked with train+val hide every validation item; "
                 "evaluate --split val on recommendations made with --mask train",
                 rpath);
  GNNREC_EXPECTS(
      static_cast<int64_t>(rec.manifest.value("num_items", ds.num_items)) == ds.num_items,
      "{}: made for {} items, dataset {} has {}", rpath, rec.manifest.value("num_items", 0), ds_dir,
      ds.num_items);
  for (int32_t u : rec.users) {
    GNNREC_EXPECTS(u >= 0 && u < ds.num_users, "{}: user id {} outside the dataset's [0, {})",
                   opt.recommendations_dir, u, ds.num_users);
  }
  for (int32_t i : rec.ids) {
    GNNREC_EXPECTS(i >= -1 && i < ds.num_items, "{}: item id {} outside the dataset's [0, {})",
                   opt.recommendations_dir, i, ds.num_items);
  }
  const EdgeList& split = opt.split == "test" ? ds.test : ds.val;
  const Csr truth = csr_from_pairs(ds.num_users, split.user, split.item);
  const Csr mask = build_mask(ds, mask_name);
  std::vector<int64_t> item_degree(ds.num_items), user_degree(ds.num_users);
  for (int32_t i = 0; i < ds.num_items; ++i) item_degree[i] = ds.item_users.degree(i);
  for (int32_t u = 0; u < ds.num_users; ++u) user_degree[u] = ds.user_items.degree(u);
  log_info("eval: {} rows of top-{} against {} ({} edges), mask {}", rec.rows(), K, opt.split,
           split.size(), mask_name);

  // Rankings of the three methods for the same users, all of length K.
  const int64_t R = rec.rows();
  std::vector<int32_t> pop, rnd;
  most_popular_topk(item_degree, mask, rec.users, K, pop);
  random_topk(ds.num_items, mask, rec.users, K, opt.seed, rnd);
  const std::vector<int32_t>* ranked[kNumMethods] = {&rec.ids, &pop, &rnd};

  // Mask violations in the model's lists (the kernel guarantees none; a stale or hand-edited
  // directory could have some): counted and reported.
  int64_t violations = 0, duplicates = 0;
  for (int64_t r = 0; r < R; ++r) {
    const int32_t u = rec.users[r];
    std::vector<int32_t> row;
    for (int k = 0; k < K; ++k) {
      const int32_t i = rec.ids[r * K + k];
      if (i < 0) continue;
      if (std::binary_search(mask.indices.begin() + mask.indptr[u],
                             mask.indices.begin() + mask.indptr[u + 1], i)) {
        ++violations;
      }
      row.push_back(i);
    }
    std::sort(row.begin(), row.end());
    duplicates +=
        static_cast<int64_t>(row.size()) - (std::unique(row.begin(), row.end()) - row.begin());
  }
  if (violations > 0 || duplicates > 0) {
    log_warn("eval: {} recommended items are in the mask and {} are duplicates", violations,
             duplicates);
  }

  const int curve_k = std::max(1, std::min(opt.curve_max_k, K));
  std::vector<std::vector<RankingAccumulator>> acc(kNumSlices);
  for (int s = 0; s < kNumSlices; ++s) {
    for (int m = 0; m < kNumMethods; ++m) acc[s].emplace_back(opt.ks, ds.num_items, item_degree);
  }
  std::vector<RankingCurve> curves(kNumMethods, RankingCurve(curve_k));
  // Cold items: test edges whose item has no training interaction; micro recall@K.
  std::vector<std::vector<int64_t>> cold_hits(kNumMethods, std::vector<int64_t>(opt.ks.size(), 0));
  int64_t cold_edges = 0;
  int64_t cold_items = 0;
  for (int64_t d : item_degree) cold_items += d == 0 ? 1 : 0;
  for (int64_t r = 0; r < R; ++r) {
    const int32_t u = rec.users[r];
    const int32_t* t = truth.indices.data() + truth.indptr[u];
    const int64_t nt = truth.degree(u);
    for (int s = 0; s < kNumSlices; ++s) {
      if (user_degree[u] < kSlices[s].lo || user_degree[u] > kSlices[s].hi) continue;
      for (int m = 0; m < kNumMethods; ++m) acc[s][m].add(ranked[m]->data() + r * K, K, t, nt);
    }
    for (int m = 0; m < kNumMethods; ++m) curves[m].add(ranked[m]->data() + r * K, K, t, nt);
    for (int64_t e = 0; e < nt; ++e) {
      if (item_degree[t[e]] != 0) continue;
      ++cold_edges;
      for (int m = 0; m < kNumMethods; ++m) {
        const int32_t* row = ranked[m]->data() + r * K;
        for (size_t ki = 0; ki < opt.ks.size(); ++ki) {
          if (std::find(row, row + opt.ks[ki], t[e]) != row + opt.ks[ki]) ++cold_hits[m][ki];
        }
      }
    }
  }

  nlohmann::json rep;
  rep["schema_version"] = kEvalReportSchemaVersion;
  rep["kind"] = "gnnrec-eval-report";
  rep["created"] = now_utc();
  rep["recommendations_dir"] = absolute_path(opt.recommendations_dir);
  rep["dataset_dir"] = absolute_path(ds_dir);
  rep["dataset"] = ds.manifest.contains("name") && ds.manifest["name"].is_string()
                       ? ds.manifest["name"].get<std::string>()
                       : fs::path(absolute_path(ds_dir)).filename().string();
  rep["split"] = opt.split;
  rep["mask"] = mask_name;
  rep["k"] = K;
  rep["ks"] = opt.ks;
  rep["num_users"] = ds.num_users;
  rep["num_items"] = ds.num_items;
  rep["rows"] = R;
  rep["model"] = rec.manifest.value("model", nlohmann::json(nullptr));
  rep["seed"] = opt.seed;
  const RankingMetrics& all_model = acc[0][0].result();
  rep["users_evaluated"] = all_model.users;
  rep["users_skipped"] = all_model.skipped;
  rep["mask_violations"] = violations;
  rep["duplicate_items"] = duplicates;
  nlohmann::json metrics;
  for (int m = 0; m < kNumMethods; ++m) metrics[kMethods[m]] = metrics_json(acc[0][m].result());
  rep["metrics"] = metrics;
  nlohmann::json cj;
  cj["k"] = nlohmann::json::array();
  for (int k = 1; k <= curve_k; ++k) cj["k"].push_back(k);
  for (int m = 0; m < kNumMethods; ++m) {
    cj[kMethods[m]] = {{"recall", curves[m].recall()}, {"ndcg", curves[m].ndcg()}};
  }
  rep["curves"] = cj;
  nlohmann::json slices = nlohmann::json::array();
  for (int s = 0; s < kNumSlices; ++s) {
    nlohmann::json sj;
    sj["name"] = kSlices[s].name;
    sj["min_train_degree"] = kSlices[s].lo;
    sj["max_train_degree"] =
        kSlices[s].hi == INT64_MAX ? nlohmann::json(nullptr) : nlohmann::json(kSlices[s].hi);
    const RankingMetrics first = acc[s][0].result();
    sj["users"] = first.users;
    sj["users_skipped"] = first.skipped;
    for (int m = 0; m < kNumMethods; ++m) sj[kMethods[m]] = metrics_json(acc[s][m].result());
    slices.push_back(sj);
  }
  rep["slices"] = slices;
  nlohmann::json cold;
  cold["items"] = cold_items;
  cold["test_edges"] = cold_edges;
  for (int m = 0; m < kNumMethods; ++m) {
    nlohmann::json mj = nlohmann::json::object();
    for (size_t ki = 0; ki < opt.ks.size(); ++ki) {
      mj["recall@" + std::to_string(opt.ks[ki])] =
          cold_edges > 0 ? static_cast<double>(cold_hits[m][ki]) / cold_edges : 0.0;
    }
    cold[kMethods[m]] = mj;
  }
  rep["cold_items"] = cold;

  // Example users: the first evaluated user of each degree bucket, in bucket order.
  nlohmann::json examples = nlohmann::json::array();
  const int show_k = std::min(K, 10);
  for (int s = 3; s < kNumSlices && static_cast<int>(examples.size()) < opt.examples; ++s) {
    for (int64_t r = 0; r < R; ++r) {
      const int32_t u = rec.users[r];
      if (truth.degree(u) == 0 || user_degree[u] < kSlices[s].lo ||
          user_degree[u] > kSlices[s].hi) {
        continue;
      }
      nlohmann::json ex;
      ex["user"] = ds.user_ids[u];
      ex["slice"] = kSlices[s].name;
      ex["train_degree"] = user_degree[u];
      ex["truth_count"] = truth.degree(u);
      // History: the most recent training items first (by timestamp, then edge order).
      std::vector<std::pair<int64_t, int64_t>> hist;  // (timestamp, edge id)
      for (int64_t k = ds.user_items.indptr[u]; k < ds.user_items.indptr[u + 1]; ++k) {
        const int64_t e = ds.user_items.edge_ids.empty() ? k : ds.user_items.edge_ids[k];
        hist.emplace_back(ds.train.timestamp.empty() ? 0 : ds.train.timestamp[e], e);
      }
      std::sort(hist.begin(), hist.end(), std::greater<>());
      nlohmann::json hj = nlohmann::json::array();
      for (size_t h = 0; h < hist.size() && h < 8; ++h) {
        hj.push_back(item_json(ds, ds.train.item[hist[h].second]));
      }
      ex["history"] = hj;
      nlohmann::json recs = nlohmann::json::array();
      const int32_t* t = truth.indices.data() + truth.indptr[u];
      for (int k = 0; k < show_k; ++k) {
        const int32_t i = rec.ids[r * K + k];
        if (i < 0) break;
        nlohmann::json ij = item_json(ds, i);
        ij["score"] = rec.scores[r * K + k];
        ij["hit"] = std::binary_search(t, t + truth.degree(u), i);
        recs.push_back(ij);
      }
      ex["recommendations"] = recs;
      examples.push_back(ex);
      break;
    }
  }
  rep["examples"] = examples;
  if (!opt.run_dir.empty()) {
    rep["training"] = read_training_curves((fs::path(opt.run_dir) / "metrics.jsonl").string());
    rep["run_dir"] = absolute_path(opt.run_dir);
  }
  rep["build"] = build_info_json();
  rep["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  fs::create_directories(opt.out_dir);
  write_file_atomic((fs::path(opt.out_dir) / "report.json").string(), rep.dump(2) + "\n");
  write_file_atomic((fs::path(opt.out_dir) / "report.html").string(), render_report_html(rep));
  log_info("eval: recall@{} {:.4f}, ndcg@{} {:.4f} over {} users; wrote {}", max_k,
           metrics["model"].value("recall@" + std::to_string(max_k), 0.0), max_k,
           metrics["model"].value("ndcg@" + std::to_string(max_k), 0.0), all_model.users,
           opt.out_dir);
  return rep;
}

}  // namespace gnnrec
