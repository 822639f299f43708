// gnnrec serve without sockets: ServeHandler::handle() on a tiny dataset + export written here.
// Schema and sources (precomputed / live / cold start) against naive references, A/B stability and
// split ratio, k and id bounds, feedback capture, reload swap (and a failed reload keeping the old
// model), the Prometheus text format, and the A/B report's Wilson intervals.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "runtime/data/dataset.h"
#include "runtime/npy.h"
#include "runtime/serve/ab.h"
#include "runtime/serve/feedback.h"
#include "runtime/serve/handler.h"
#include "runtime/serve/metrics.h"
#include "runtime/serve/model.h"
#include "testing/testing.h"

namespace gnnrec::serve {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Scores are float dot products of small vectors; the handler and the reference may sum in a
// different order, so scores agree to float rounding, not bit for bit.
constexpr double kScoreTol = 1e-5;

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// 8 users (the last two cold: no training edge), 12 items, d = 5, precomputed K = 3.
struct World {
  static constexpr int kUsers = 8, kItems = 12, kDim = 5, kK = 3;
  std::string root, dataset, export_a, export_b, recs_a;
  std::vector<std::string> user_ids, item_ids;
  std::vector<int32_t> tu, ti;  // training edges
  std::vector<float> ue, ie;    // model A embeddings

  explicit World(const std::string& tag) : root(testing::temp_dir(tag)) {
    dataset = root + "/dataset";
    export_a = root + "/model_a";
    export_b = root + "/model_b";
    recs_a = root + "/recs_a";
    for (int u = 0; u < kUsers; ++u) user_ids.push_back("user_" + std::to_string(u));
    for (int i = 0; i < kItems; ++i) item_ids.push_back("B00ITEM" + std::to_string(i));
    // Degrees: item 3 has 4 users, items 1 and 7 have 2, items 0, 5, 9 have 1 (ties -> smaller id).
    const std::vector<std::pair<int, int>> edges = {{0, 3}, {0, 1}, {0, 7}, {1, 3}, {1, 5}, {2, 3},
                                                    {2, 7}, {3, 3}, {3, 1}, {4, 0}, {4, 9}, {5, 2}};
    for (auto [u, i] : edges) {
      tu.push_back(u);
      ti.push_back(i);
    }
    write_dataset();
    ue = testing::random_floats(kUsers * kDim);
    ie = testing::random_floats(kItems * kDim);
    write_export(export_a, "model-a", ue, ie);
    write_export(export_b, "model-b", testing::random_floats(kUsers * kDim),
                 testing::random_floats(kItems * kDim));
    write_recs(recs_a, export_a, ue, ie);
  }

  void write_dataset() const {
    fs::create_directories(dataset);
    const int64_t n = static_cast<int64_t>(tu.size());
    json m = {
        {"schema_version", kDatasetSchemaVersion},
        {"kind", "gnnrec-dataset"},
        {"counts", {{"users", kUsers}, {"items", kItems}, {"train", n}, {"val", 2}, {"test", 0}}}};
    write_text(dataset + "/manifest.json", m.dump());
    std::string ul, il, items;
    for (const auto& u : user_ids) ul += u + "\n";
    for (int i = 0; i < kItems; ++i) {
      il += item_ids[i] + "\n";
      json it = {{"id", item_ids[i]},
                 {"title", "Item \"" + std::to_string(i) + "\" <b>"},
                 {"category", i % 2 ? "Books" : "Kitchen"},
                 {"brand", "Acme"},
                 {"price", i == 4 ? json(nullptr) : json(1.5 + i)}};
      items += it.dump() + "\n";
    }
    write_text(dataset + "/user_ids.txt", ul);
    write_text(dataset + "/item_ids.txt", il);
    write_text(dataset + "/items.jsonl", items);
    auto split = [&](const std::string& s, const std::vector<int32_t>& u,
                     const std::vector<int32_t>& i) {
      std::vector<int32_t> e;
      std::vector<int64_t> ts;
      for (size_t k = 0; k < u.size(); ++k) {
        e.push_back(u[k]);
        e.push_back(i[k]);
        ts.push_back(1000 + static_cast<int64_t>(k));  // later edges are more recent
      }
      const int64_t cnt = static_cast<int64_t>(u.size());
      save_npy(dataset + "/" + s + "_edges.npy", Tensor::from_vector(e, {cnt, 2}));
      save_npy(dataset + "/" + s + "_ratings.npy",
               Tensor::from_vector(std::vector<float>(u.size(), 4.0f), {cnt}));
      save_npy(dataset + "/" + s + "_timestamps.npy", Tensor::from_vector(ts, {cnt}));
    };
    split("train", tu, ti);
    split("val", {0, 2}, {4, 9});  // only the "train+val" mask hides these
    split("test", {}, {});
    auto csr = [&](const std::string& p, const Csr& c) {
      save_npy(dataset + "/" + p + "_indptr.npy", Tensor::from_vector(c.indptr));
      save_npy(dataset + "/" + p + "_indices.npy",
               Tensor::from_vector(c.indices, {static_cast<int64_t>(c.indices.size())}));
      save_npy(dataset + "/" + p + "_edge_ids.npy",
               Tensor::from_vector(c.edge_ids, {static_cast<int64_t>(c.edge_ids.size())}));
    };
    csr("ui", build_csr(kUsers, tu, ti));
    csr("iu", build_csr(kItems, ti, tu));
    write_text(dataset + "/feature_names.json", R"({"user": [], "item": []})");
    save_npy(dataset + "/user_features.npy", Tensor::zeros({kUsers, 0}, DType::kF32));
    save_npy(dataset + "/item_features.npy", Tensor::zeros({kItems, 0}, DType::kF32));
  }

  void write_export(const std::string& dir, const std::string& name, const std::vector<float>& u,
                    const std::vector<float>& i) const {
    fs::create_directories(dir);
    save_npy(dir + "/user_emb.npy", Tensor::from_vector(u, {kUsers, kDim}));
    save_npy(dir + "/item_emb.npy", Tensor::from_vector(i, {kItems, kDim}));
    json m = {{"schema_version", 1},      {"kind", "gnnrec-embeddings"}, {"model", name},
              {"run_dir", root + "/run"}, {"dataset_dir", dataset},      {"dim", kDim},
              {"num_users", kUsers},      {"num_items", kItems},         {"score", "dot"},
              {"inv_temp", 1.0},          {"normalized", false}};
    write_file_atomic(dir + "/embeddings.json", m.dump(2));
  }

  // Naive reference: every unmasked item scored in double, sorted by (score desc, id asc).
  static std::vector<std::pair<int32_t, double>> ref_topk(const std::vector<double>& q,
                                                          const std::vector<float>& items,
                                                          const std::set<int32_t>& mask, int k) {
    std::vector<std::pair<int32_t, double>> all;
    for (int32_t i = 0; i < kItems; ++i) {
      if (mask.count(i)) continue;
      double s = 0;
      for (int j = 0; j < kDim; ++j) s += q[j] * items[i * kDim + j];
      all.emplace_back(i, s);
    }
    std::sort(all.begin(), all.end(), [](auto& a, auto& b) {
      return a.second > b.second || (a.second == b.second && a.first < b.first);
    });
    if (static_cast<int>(all.size()) > k) all.resize(k);
    return all;
  }
  std::set<int32_t> seen(int u) const {
    std::set<int32_t> s;
    for (size_t k = 0; k < tu.size(); ++k) {
      if (tu[k] == u) s.insert(ti[k]);
    }
    return s;
  }
  std::vector<double> user_query(int u, const std::vector<float>& emb) const {
    return std::vector<double>(emb.begin() + u * kDim, emb.begin() + (u + 1) * kDim);
  }

  void write_recs(const std::string& dir, const std::string& export_dir,
                  const std::vector<float>& u, const std::vector<float>& i) const {
    fs::create_directories(dir);
    std::vector<int32_t> ids(kUsers * kK, -1);
    std::vector<float> scores(kUsers * kK, -INFINITY);
    for (int user = 0; user < kUsers; ++user) {
      auto top = ref_topk(user_query(user, u), i, seen(user), kK);
      for (size_t r = 0; r < top.size(); ++r) {
        ids[user * kK + r] = top[r].first;
        scores[user * kK + r] = static_cast<float>(top[r].second);
      }
    }
    save_npy(dir + "/recommendations.npy", Tensor::from_vector(ids, {kUsers, kK}));
    save_npy(dir + "/recommendation_scores.npy", Tensor::from_vector(scores, {kUsers, kK}));
    json m = {{"schema_version", 1},
              {"kind", "gnnrec-recommendations"},
              {"k", kK},
              {"mask", "train"},
              {"num_users", kUsers},
              {"embeddings_dir", export_dir},
              {"dataset_dir", dataset}};
    write_file_atomic(dir + "/recommendations.json", m.dump(2));
  }

  ModelSources sources(bool with_b = false) const {
    ModelSources s;
    s.export_dir = export_a;
    s.recommendations_dir = recs_a;
    if (with_b) s.export_b_dir = export_b;
    return s;
  }
};

HttpRequest get(const std::string& path,
                std::vector<std::pair<std::string, std::string>> params = {}) {
  HttpRequest r;
  r.method = "GET";
  r.path = path;
  r.params = std::move(params);
  r.remote_addr = "127.0.0.1";
  return r;
}

HttpRequest post(const std::string& path, const std::string& body,
                 const std::string& remote = "127.0.0.1") {
  HttpRequest r;
  r.method = "POST";
  r.path = path;
  r.body = body;
  r.remote_addr = remote;
  return r;
}

json body_of(const HttpResponse& r) { return json::parse(r.body); }

void expect_error(const HttpResponse& r, int status, const std::string& what) {
  EXPECT_EQ(r.status, status) << what << ": " << r.body;
  EXPECT_EQ(r.content_type, "application/json") << what;
  const json j = json::parse(r.body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << what << ": " << r.body;
  EXPECT_TRUE(j.contains("error") && j["error"].is_string()) << what << ": " << r.body;
  EXPECT_TRUE(j.contains("detail") && j["detail"].is_string()) << what << ": " << r.body;
}

std::vector<std::string> ids_of(const json& j) {
  std::vector<std::string> v;
  for (const auto& it : j["items"]) v.push_back(it["item_id"].get<std::string>());
  return v;
}

TEST(ServeHandlerCpuTest, RecommendSchemaAndPrecomputedSource) {
  GNNREC_SEED_TRACE();
  World w("serve_schema");
  ServeHandler h(w.sources(), ServeConfig{});
  h.load();
  const HttpResponse r = h.handle(get("/recommend/user_0/", {{"k", "2"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  const json j = body_of(r);
  EXPECT_EQ(j["user_id"], "user_0");
  EXPECT_EQ(j["variant"], "A");
  EXPECT_EQ(j["model"], "model-a");
  EXPECT_EQ(j["source"], "precomputed");
  EXPECT_EQ(j["k"], 2);
  EXPECT_EQ(j["known_user"], true);
  ASSERT_EQ(j["items"].size(), 2u);
  const auto ref = World::ref_topk(w.user_query(0, w.ue), w.ie, w.seen(0), 2);
  for (size_t r2 = 0; r2 < 2; ++r2) {
    const json& it = j["items"][r2];
    for (const char* f : {"item_id", "title", "category", "brand"}) {
      EXPECT_TRUE(it[f].is_string()) << f;
    }
    EXPECT_TRUE(it["price"].is_number() || it["price"].is_null());
    EXPECT_EQ(it["item_id"], w.item_ids[ref[r2].first]);
    EXPECT_NEAR(it["score"].get<double>(), ref[r2].second, kScoreTol);
    const int idx = ref[r2].first;
    EXPECT_EQ(it["title"], "Item \"" + std::to_string(idx) + "\" <b>");
  }
  // Trailing slash optional; default k is 10 (> K = 3, so live).
  const json d = body_of(h.handle(get("/recommend/user_0")));
  EXPECT_EQ(d["k"], 10);
  EXPECT_EQ(d["source"], "live");
}

TEST(ServeHandlerCpuTest, LiveSourceMatchesNaiveReferenceAndMasksTrainingItems) {
  GNNREC_SEED_TRACE();
  World w("serve_live");
  ServeHandler h(w.sources(), ServeConfig{});
  h.load();
  for (int u = 0; u < World::kUsers; ++u) {
    SCOPED_TRACE("user " + std::to_string(u));
    for (int k : {1, 4, 11, 12, 1000}) {
      // k <= K can be forced live; k > K is live by itself.
      std::vector<std::pair<std::string, std::string>> p = {{"k", std::to_string(k)}};
      if (k <= World::kK) p.emplace_back("source", "live");
      const json j = body_of(h.handle(get("/recommend/" + w.user_ids[u] + "/", p)));
      EXPECT_EQ(j["source"], "live");
      const auto ref = World::ref_topk(w.user_query(u, w.ue), w.ie, w.seen(u), k);
      ASSERT_EQ(j["items"].size(), ref.size()) << "k " << k;
      std::set<std::string> got;
      double prev = INFINITY;
      for (size_t r = 0; r < ref.size(); ++r) {
        const json& it = j["items"][r];
        const double s = it["score"].get<double>();
        EXPECT_LE(s, prev + kScoreTol);
        prev = s;
        EXPECT_NEAR(s, ref[r].second, kScoreTol);
        got.insert(it["item_id"].get<std::string>());
      }
      for (int32_t i : w.seen(u)) EXPECT_EQ(got.count(w.item_ids[i]), 0u) << "trained item";
      EXPECT_EQ(got.size(), ref.size()) << "duplicates";
    }
  }
  // Forced live and precomputed agree on the first K.
  const json a = body_of(h.handle(get("/recommend/user_1/", {{"k", "3"}})));
  const json b = body_of(h.handle(get("/recommend/user_1/", {{"k", "3"}, {"source", "live"}})));
  EXPECT_EQ(a["source"], "precomputed");
  EXPECT_EQ(ids_of(a), ids_of(b));
}

TEST(ServeHandlerCpuTest, ColdStartIsPopularOrHistoryMean) {
  GNNREC_SEED_TRACE();
  World w("serve_cold");
  ServeHandler h(w.sources(), ServeConfig{});
  h.load();
  // Unknown user: most popular by training degree, ties -> smaller item id.
  json j = body_of(h.handle(get("/recommend/stranger/", {{"k", "5"}})));
  EXPECT_EQ(j["source"], "cold_start");
  EXPECT_EQ(j["strategy"], "popular");
  EXPECT_EQ(j["known_user"], false);
  const std::vector<std::string> want = {w.item_ids[3], w.item_ids[1], w.item_ids[7], w.item_ids[0],
                                         w.item_ids[2]};
  EXPECT_EQ(ids_of(j), want);
  EXPECT_EQ(j["items"][0]["score"], 4.0);
  // A known but cold user (no training edges) is still served from their embedding.
  j = body_of(h.handle(get("/recommend/user_7/", {{"k", "5"}})));
  EXPECT_EQ(j["known_user"], true);
  EXPECT_EQ(j["source"], "live");
  // History: the mean of the known history items' embeddings, those items masked; unknown ids
  // are counted and ignored.
  j = body_of(h.handle(get("/recommend/stranger/",
                           {{"k", "4"}, {"history", w.item_ids[2] + ",nope," + w.item_ids[6]}})));
  EXPECT_EQ(j["strategy"], "history");
  EXPECT_EQ(j["history_unknown"], 1);
  std::vector<double> q(World::kDim, 0.0);
  for (int i : {2, 6}) {
    for (int d = 0; d < World::kDim; ++d) q[d] += w.ie[i * World::kDim + d] / 2.0;
  }
  const auto ref = World::ref_topk(q, w.ie, {2, 6}, 4);
  ASSERT_EQ(j["items"].size(), ref.size());
  for (size_t r = 0; r < ref.size(); ++r) {
    EXPECT_EQ(j["items"][r]["item_id"], w.item_ids[ref[r].first]);
    EXPECT_NEAR(j["items"][r]["score"].get<double>(), ref[r].second, kScoreTol);
  }
  // Only unknown history ids: falls back to popular.
  j = body_of(h.handle(get("/recommend/stranger/", {{"history", "x1,x2"}})));
  EXPECT_EQ(j["strategy"], "popular");
  EXPECT_EQ(j["history_unknown"], 2);
  // k larger than the catalog: everything, once.
  j = body_of(h.handle(get("/recommend/stranger/", {{"k", "50"}})));
  EXPECT_EQ(j["items"].size(), static_cast<size_t>(World::kItems));
}

TEST(ServeHandlerCpuTest, BadParametersAndIdsAre4xxJson) {
  World w("serve_bad");
  ServeHandler h(w.sources(), ServeConfig{});
  h.load();
  for (const char* k : {"0", "-1", "1001", "abc", "", "1.5", "10 ", "99999999999", "0x10"}) {
    expect_error(h.handle(get("/recommend/user_0/", {{"k", k}})), 400, std::string("k=") + k);
  }
  expect_error(h.handle(get("/recommend/user_0/", {{"k", "2"}, {"k", "3"}})), 400, "k twice");
  expect_error(h.handle(get("/recommend/user_0/", {{"source", "gpu"}})), 400, "source");
  EXPECT_EQ(h.handle(get("/recommend/user_0/", {{"k", "1000"}})).status, 200);
  EXPECT_EQ(h.handle(get("/recommend/user_0/", {{"k", "1"}})).status, 200);
  const std::string long_id(257, 'a');
  for (const std::string& id :
       {std::string("a/b"), std::string(".."), std::string("a..b"), std::string("."), long_id,
        std::string("a b"), std::string("a%2F"), std::string("caf\xc3\xa9"), std::string("a\0b", 3),
        std::string("a\\b"), std::string("<script>"), std::string("")}) {
    expect_error(h.handle(get("/recommend/" + id + "/")), 400, "id '" + id + "'");
    expect_error(h.handle(get("/history/" + id + "/")), 400, "history id '" + id + "'");
  }
  EXPECT_EQ(h.handle(get("/recommend/" + std::string(256, 'a') + "/")).status, 200);
  std::string many;
  for (int i = 0; i < 101; ++i) many += (i ? "," : "") + std::string("x") + std::to_string(i);
  expect_error(h.handle(get("/recommend/x/", {{"history", many}})), 400, "101 history items");
  expect_error(h.handle(get("/recommend/x/", {{"history", "a,,b"}})), 400, "empty history id");
  expect_error(h.handle(get("/recommend/x/", {{"history", "../etc"}})), 400, "path history");
  expect_error(h.handle(get("/history/user_0/", {{"n", "0"}})), 400, "n=0");
  expect_error(h.handle(get("/users/", {{"limit", "101"}})), 400, "limit=101");
  // Unknown routes and wrong methods.
  expect_error(h.handle(get("/nope")), 404, "unknown route");
  expect_error(h.handle(get("/recommend")), 404, "no id");
  expect_error(h.handle(get("/admin/reload")), 405, "GET reload");
  HttpRequest del = get("/recommend/user_0/");
  del.method = "DELETE";
  const HttpResponse r = h.handle(del);
  expect_error(r, 405, "DELETE");
  EXPECT_NE(std::find(r.headers.begin(), r.headers.end(),
                      std::pair<std::string, std::string>("Allow", "GET")),
            r.headers.end());
  // The id check itself.
  EXPECT_EQ(check_id("AE22236AFRRSMQIKGG7TPTB75QEA", 256), "");
  EXPECT_EQ(check_id("user.name+tag@example.com", 256), "");
  EXPECT_NE(check_id("a/b", 256), "");
}

TEST(ServeAbCpuTest, Fnv1aKnownValuesAndStableSplit) {
  // FNV-1a 64 reference values (offset basis; "a"; "foobar").
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
  EXPECT_EQ(fnv1a64("bar", fnv1a64("foo")), fnv1a64("foobar"));
  EXPECT_EQ(ab_bucket("s", "u"), static_cast<int>(fnv1a64("s:u") % 100));
  // Split ratio: 20000 ids at 10%: binomial sd = 0.21%, so +-1% is about 5 sd.
  const int n = 20000;
  for (int split : {0, 10, 50, 100}) {
    int b = 0;
    for (int i = 0; i < n; ++i) {
      b += std::string(assign_variant("salt", "user" + std::to_string(i), split)) == "B";
    }
    EXPECT_NEAR(double(b) / n, split / 100.0, 0.01) << "split " << split;
  }
  // Stable for a user, and a different salt reshuffles.
  int moved = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string u = "u" + std::to_string(i);
    EXPECT_STREQ(assign_variant("x", u, 30), assign_variant("x", u, 30));
    moved += std::string(assign_variant("x", u, 50)) != assign_variant("y", u, 50);
  }
  EXPECT_GT(moved, 300);
}

TEST(ServeAbCpuTest, VariantsRouteToTheirModelInEveryResponse) {
  World w("serve_ab");
  ServeConfig cfg;
  cfg.split_b = 50;
  cfg.salt = "exp1";
  ServeHandler h(w.sources(/*with_b=*/true), cfg);
  h.load();
  std::map<std::string, int> seen;
  for (int i = 0; i < 60; ++i) {
    const std::string uid = i < World::kUsers ? w.user_ids[i] : "visitor" + std::to_string(i);
    const std::string want = assign_variant("exp1", uid, 50);
    for (int rep = 0; rep < 2; ++rep) {
      const json j = body_of(h.handle(get("/recommend/" + uid + "/", {{"k", "2"}})));
      EXPECT_EQ(j["variant"], want) << uid;
      EXPECT_EQ(j["model"], want == "A" ? "model-a" : "model-b") << uid;
      // Model B has no precomputed lists here.
      if (want == "B" && i < World::kUsers) {
        EXPECT_EQ(j["source"], "live");
      }
    }
    EXPECT_EQ(body_of(h.handle(get("/history/" + uid + "/")))["variant"], want);
    seen[want]++;
  }
  EXPECT_GT(seen["A"], 10);
  EXPECT_GT(seen["B"], 10);
  const std::string m = h.render_metrics();
  EXPECT_NE(m.find("gnnrec_recommendations_served_total{variant=\"B\",source=\"live\"}"),
            std::string::npos);
  EXPECT_NE(m.find("gnnrec_model_info{variant=\"B\",model=\"model-b\",precomputed_k=\"0\"} 1"),
            std::string::npos);
  // Without a model B every user is on A whatever the split.
  ServeHandler only_a(w.sources(), cfg);
  only_a.load();
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(body_of(only_a.handle(get("/recommend/v" + std::to_string(i) + "/")))["variant"],
              "A");
  }
}

TEST(ServeFeedbackCpuTest, EventsAreAppendedWithVariantAndBadBodiesRefused) {
  World w("serve_feedback");
  const std::string log = w.root + "/feedback.jsonl";
  ServeConfig cfg;
  cfg.split_b = 50;
  {
    FeedbackLog fb(log, std::chrono::milliseconds(50));
    ServeHandler h(w.sources(true), cfg, &fb);
    h.load();
    const std::string uid = w.user_ids[1];
    EXPECT_EQ(
        h
            .handle(post(
                "/feedback",
                json{{"user_id", uid}, {"item_id", w.item_ids[2]}, {"event", "impression"}}.dump()))
            .status,
        202);
    EXPECT_EQ(h.handle(post("/feedback", R"({"user_id": 42, "item_id": "x", "event": "rating",
                                             "value": 4.5})"))
                  .status,
              202);
    EXPECT_EQ(h.handle(post("/feedback", R"({"user_id": "u", "item_id": "x", "event": "click",
                                             "value": null, "extra": [1]})"))
                  .status,
              202);
    const std::vector<std::pair<std::string, int>> bad = {
        {"", 400},
        {"{", 400},
        {"[]", 400},
        {"null", 400},
        {R"({"user_id": "u", "item_id": "i"})", 400},
        {R"({"user_id": "u", "item_id": "i", "event": "view"})", 400},
        {R"({"user_id": "u", "item_id": "i", "event": 3})", 400},
        {R"({"user_id": "u/../x", "item_id": "i", "event": "click"})", 400},
        {R"({"user_id": "u", "item_id": "", "event": "click"})", 400},
        {R"({"user_id": ["u"], "item_id": "i", "event": "click"})", 400},
        {R"({"user_id": "u", "item_id": "i", "event": "rating"})", 400},
        {R"({"user_id": "u", "item_id": "i", "event": "click", "value": "5"})", 400},
        {std::string(64 * 1024 + 1, ' '), 413},
    };
    for (const auto& [body, status] : bad) {
      expect_error(h.handle(post("/feedback", body)), status, "body " + body.substr(0, 60));
    }
    EXPECT_EQ(fb.lines_written(), 3u);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    EXPECT_GE(fb.syncs(), 1u);  // the syncer ran after the writes
    const std::string m = h.render_metrics();
    EXPECT_NE(m.find("gnnrec_feedback_events_total{event=\"rating\",variant=\"" +
                     std::string(assign_variant("gnnrec", "42", 50)) + "\"} 1"),
              std::string::npos)
        << m;
  }
  std::ifstream in(log);
  std::vector<json> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(json::parse(l));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["event"], "impression");
  EXPECT_EQ(lines[0]["variant"], assign_variant("gnnrec", w.user_ids[1], 50));
  EXPECT_EQ(lines[0]["known_user"], true);
  EXPECT_EQ(lines[0]["known_item"], true);
  EXPECT_TRUE(lines[0]["ts"].is_string());
  EXPECT_EQ(lines[1]["user_id"], "42");
  EXPECT_EQ(lines[1]["value"], 4.5);
  EXPECT_FALSE(lines[2].contains("extra"));
  // Without a log the endpoint says so.
  ServeHandler none(w.sources(), ServeConfig{});
  none.load();
  expect_error(none.handle(post("/feedback", R"({"user_id":"u","item_id":"i","event":"click"})")),
               503, "feedback disabled");
}

TEST(ServeReloadCpuTest, ReloadSwapsAtomicallyAndAFailedReloadKeepsTheOldModel) {
  GNNREC_SEED_TRACE();
  World w("serve_reload");
  ServeHandler h(w.sources(), ServeConfig{});
  EXPECT_FALSE(h.ready());
  expect_error(h.handle(get("/readyz")), 503, "readyz before load");
  expect_error(h.handle(get("/recommend/user_0/")), 503, "recommend before load");
  EXPECT_EQ(h.handle(get("/healthz")).status, 200);
  h.load();
  EXPECT_EQ(h.handle(get("/readyz")).status, 200);
  const auto old = h.state();
  EXPECT_EQ(old->generation, 1u);
  // New embeddings under a new name, then reload.
  const auto ue2 = testing::random_floats(World::kUsers * World::kDim);
  const auto ie2 = testing::random_floats(World::kItems * World::kDim);
  w.write_export(w.export_a, "model-a2", ue2, ie2);
  w.write_recs(w.recs_a, w.export_a, ue2, ie2);
  std::string why;
  ASSERT_TRUE(h.reload(&why)) << why;
  EXPECT_EQ(h.state()->generation, 2u);
  EXPECT_EQ(h.state()->a.name, "model-a2");
  // A request that started before the swap still holds the old, intact state.
  EXPECT_EQ(old->a.name, "model-a");
  EXPECT_EQ(old->a.item_emb.to_vector<float>(), w.ie);
  const json j = body_of(h.handle(get("/recommend/user_2/", {{"k", "2"}})));
  EXPECT_EQ(j["model"], "model-a2");
  EXPECT_EQ(j["model_generation"], 2);
  const auto ref = World::ref_topk(w.user_query(2, ue2), ie2, w.seen(2), 2);
  EXPECT_EQ(j["items"][0]["item_id"], w.item_ids[ref[0].first]);
  // A broken export: the reload fails, says why, and generation 2 keeps serving.
  fs::remove(w.export_a + "/item_emb.npy");
  EXPECT_FALSE(h.reload(&why));
  EXPECT_NE(why.find("item_emb.npy"), std::string::npos) << why;
  EXPECT_EQ(h.state()->generation, 2u);
  EXPECT_EQ(h.handle(get("/recommend/user_2/")).status, 200);
  // Over HTTP: loopback only; a failure is a 500 with the reason.
  expect_error(h.handle(post("/admin/reload", "", "10.1.2.3")), 403, "remote reload");
  expect_error(h.handle(post("/admin/reload", "", "")), 403, "unknown peer reload");
  expect_error(h.handle(post("/admin/reload", "")), 500, "broken reload");
  w.write_export(w.export_a, "model-a3", ue2, ie2);
  const HttpResponse ok = h.handle(post("/admin/reload", "", "::1"));
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(body_of(ok)["generation"], 3);
  const std::string m = h.render_metrics();
  EXPECT_NE(m.find("gnnrec_model_reloads_total{result=\"failed\"} 2"), std::string::npos) << m;
  EXPECT_NE(m.find("gnnrec_model_reloads_total{result=\"ok\"} 2"), std::string::npos) << m;
  EXPECT_NE(m.find("gnnrec_model_generation 3"), std::string::npos);
}

TEST(ServeReloadCpuTest, ConcurrentRequestsDuringReloadsAllSucceed) {
  World w("serve_concurrent");
  ServeHandler h(w.sources(), ServeConfig{});
  h.load();
  std::atomic<int> failures{0}, done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < 300 && !stop; ++i) {
        const std::string uid = w.user_ids[(t + i) % World::kUsers];
        const HttpResponse r =
            h.handle(get("/recommend/" + uid + "/", {{"k", std::to_string(1 + i % 6)}}));
        if (r.status != 200 || body_of(r)["items"].empty()) failures++;
        done++;
      }
    });
  }
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(h.reload());
  for (auto& c : clients) c.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(done.load(), 1200);
  EXPECT_EQ(h.state()->generation, 6u);
}

// Checks the Prometheus text exposition format line by line (what promtool also checks).
::testing::AssertionResult valid_exposition(const std::string& text) {
  static const std::regex kHelp(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*$)");
  static const std::regex kType(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)");
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? (\S+)$)");
  std::map<std::string, std::string> types;
  std::map<std::string, double> last_bucket;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  if (text.empty() || text.back() != '\n')
    return ::testing::AssertionFailure() << "no final newline";
  while (std::getline(in, line)) {
    ++n;
    std::smatch m;
    if (std::regex_match(line, m, kHelp)) continue;
    if (std::regex_match(line, m, kType)) {
      if (types.count(m[1])) return ::testing::AssertionFailure() << "TYPE twice: " << line;
      types[m[1]] = m[2];
      continue;
    }
    if (!std::regex_match(line, m, kSample)) {
      return ::testing::AssertionFailure() << "line " << n << " malformed: " << line;
    }
    std::string name = m[1];
    const std::string value = m[m.size() - 1];
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (*end && value != "+Inf" && value != "-Inf" && value != "NaN") {
      return ::testing::AssertionFailure() << "line " << n << " bad value: " << line;
    }
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s(suffix);
      if (family.size() > s.size() && family.compare(family.size() - s.size(), s.size(), s) == 0 &&
          types.count(family.substr(0, family.size() - s.size())) &&
          types[family.substr(0, family.size() - s.size())] == "histogram") {
        family = family.substr(0, family.size() - s.size());
      }
    }
    if (!types.count(family)) {
      return ::testing::AssertionFailure() << "line " << n << " has no TYPE: " << line;
    }
    if (types[family] == "counter" &&
        (v < 0 || family.size() < 6 || family.compare(family.size() - 6, 6, "_total") != 0)) {
      return ::testing::AssertionFailure() << "counter must end in _total and be >= 0: " << line;
    }
    if (name == family + "_bucket") {
      const std::string series = line.substr(0, line.find("le="));
      if (last_bucket.count(series) && v < last_bucket[series]) {
        return ::testing::AssertionFailure() << "buckets not cumulative: " << line;
      }
      last_bucket[series] = v;
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(ServeMetricsCpuTest, TextFormatIsValidAndCountsRequests) {
  World w("serve_metrics");
  ServeHandler h(w.sources(), ServeConfig{});
  h.load();
  for (int i = 0; i < 7; ++i) h.handle(get("/recommend/user_0/", {{"k", "2"}}));
  h.handle(get("/recommend/user_0/", {{"k", "0"}}));
  h.handle(get("/nope"));
  h.count_transport_error("BREW", 400);
  const HttpResponse r = h.handle(get("/metrics"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_TRUE(valid_exposition(r.body)) << r.body;
  const std::string& m = r.body;
  auto has = [&](const std::string& s) { return m.find(s) != std::string::npos; };
  EXPECT_TRUE(
      has("gnnrec_http_requests_total{route=\"/recommend/{user_id}\",method=\"GET\","
          "status=\"200\"} 7"));
  EXPECT_TRUE(
      has("gnnrec_http_requests_total{route=\"/recommend/{user_id}\",method=\"GET\","
          "status=\"400\"} 1"));
  EXPECT_TRUE(
      has("gnnrec_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1"));
  EXPECT_TRUE(
      has("gnnrec_http_requests_total{route=\"unmatched\",method=\"other\",status=\"400\"} 1"));
  EXPECT_TRUE(has("gnnrec_recommendations_served_total{variant=\"A\",source=\"precomputed\"} 7"));
  EXPECT_TRUE(has("gnnrec_http_request_duration_seconds_count{route=\"/recommend/{user_id}\"} 8"));
  EXPECT_TRUE(
      has("gnnrec_http_request_duration_seconds_bucket{route=\"/recommend/{user_id}\","
          "le=\"+Inf\"} 8"));
  EXPECT_TRUE(has("gnnrec_model_info{variant=\"A\",model=\"model-a\",precomputed_k=\"3\"} 1"));
  EXPECT_TRUE(has("gnnrec_model_generation 1"));
  EXPECT_TRUE(has("gnnrec_model_loaded_timestamp_seconds "));
  EXPECT_TRUE(has("gnnrec_feedback_events_total{event=\"click\",variant=\"A\"} 0"));
}

TEST(ServeMetricsCpuTest, RegistryEscapesLabelsAndHistogramsAreCumulative) {
  MetricRegistry reg;
  auto& c = reg.counter("x_total", "help with \\ and\nnewline", {"l"});
  c.inc({"a\"b\\c\nd"}, 2);
  EXPECT_THROW(c.inc({"a"}, -1), Error);
  EXPECT_THROW(c.inc({"a", "b"}), Error);
  auto& hgm = reg.histogram("y_seconds", "h", {}, {0.1, 1});
  for (double v : {0.05, 0.1, 0.5, 2.0}) hgm.observe({}, v);
  const std::string t = reg.render();
  EXPECT_TRUE(valid_exposition(t)) << t;
  EXPECT_NE(t.find("x_total{l=\"a\\\"b\\\\c\\nd\"} 2"), std::string::npos) << t;
  EXPECT_NE(t.find("# HELP x_total help with \\\\ and\\nnewline"), std::string::npos) << t;
  EXPECT_NE(t.find("y_seconds_bucket{le=\"0.1\"} 2"), std::string::npos) << t;
  EXPECT_NE(t.find("y_seconds_bucket{le=\"1\"} 3"), std::string::npos) << t;
  EXPECT_NE(t.find("y_seconds_bucket{le=\"+Inf\"} 4"), std::string::npos) << t;
  EXPECT_NE(t.find("y_seconds_sum 2.65"), std::string::npos) << t;
  EXPECT_EQ(format_sample(3), "3");
  EXPECT_EQ(format_sample(INFINITY), "+Inf");
}

TEST(ServePageCpuTest, PageIsSelfContainedHtml) {
  World w("serve_page");
  ServeHandler h(w.sources(), ServeConfig{});
  h.load();
  const HttpResponse r = h.handle(get("/"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("Recommended for You"), std::string::npos);
  EXPECT_EQ(r.body.find("http://"), std::string::npos) << "external resource";
  EXPECT_EQ(r.body.find("https://"), std::string::npos) << "external resource";
  EXPECT_EQ(r.body.find("innerHTML"), std::string::npos) << "catalog text must not become HTML";
  const json u = body_of(h.handle(get("/users/", {{"limit", "3"}})));
  EXPECT_EQ(u["users"].size(), 3u);
  EXPECT_EQ(u["num_users"], World::kUsers);
  for (const auto& x : u["users"]) EXPECT_GT(x["interactions"].get<int>(), 0);
  const json hist = body_of(h.handle(get("/history/user_0/", {{"n", "2"}})));
  EXPECT_EQ(hist["interactions"], 3);
  ASSERT_EQ(hist["items"].size(), 2u);
  // Most recent first: user_0's edges are 0, 1, 2 with increasing timestamps -> items 7, 1.
  EXPECT_EQ(hist["items"][0]["item_id"], w.item_ids[7]);
  EXPECT_EQ(hist["items"][1]["item_id"], w.item_ids[1]);
  EXPECT_EQ(hist["items"][0]["timestamp"], 1002);
  EXPECT_TRUE(body_of(h.handle(get("/history/ghost/")))["items"].empty());
}

TEST(ServeModelCpuTest, LoadErrorsNameTheFileAndField) {
  World w("serve_load_errors");
  auto expect_fail = [&](const std::string& needle) {
    try {
      load_serving_state(w.sources(), 1);
      ADD_FAILURE() << "accepted a broken export (expected " << needle << ")";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  const std::string mp = w.export_a + "/embeddings.json";
  const std::string good = read_file(mp);
  json m = json::parse(good);
  m["num_users"] = 99;
  write_text(mp, m.dump());
  expect_fail("embeddings.json: 99 users");
  m = json::parse(good);
  m["score"] = "mlp";
  write_text(mp, m.dump());
  expect_fail("needs \"dot\"");
  m = json::parse(good);
  m["kind"] = "other";
  write_text(mp, m.dump());
  expect_fail("kind must be \"gnnrec-embeddings\"");
  write_text(mp, "{not json");
  expect_fail("not valid JSON");
  write_text(mp, good);
  save_npy(w.recs_a + "/recommendations.npy",
           Tensor::from_vector(std::vector<int32_t>(World::kUsers * World::kK, World::kItems),
                               {World::kUsers, World::kK}));
  expect_fail("outside [-1, 12)");
  save_npy(w.recs_a + "/recommendations.npy", Tensor::zeros({World::kUsers, 2}, DType::kI32));
  expect_fail("recommendations.npy: shape");
}

TEST(ServeModelCpuTest, MaskInvTempAndPartialListsFollowTheExport) {
  GNNREC_SEED_TRACE();
  World w("serve_mask");
  // inv_temp scales every reported score (as gnnrec recommend writes them), never the ranking.
  json m = json::parse(read_file(w.export_a + "/embeddings.json"));
  m["inv_temp"] = 2.5;
  write_file_atomic(w.export_a + "/embeddings.json", m.dump());
  // Lists for users 5 and 1 only, made under the train+val mask (neither has a validation item).
  const std::vector<int32_t> rows_users = {5, 1};
  std::vector<int32_t> ids;
  std::vector<float> scores;
  for (int32_t u : rows_users) {
    for (const auto& [i, s] : World::ref_topk(w.user_query(u, w.ue), w.ie, w.seen(u), World::kK)) {
      ids.push_back(i);
      scores.push_back(static_cast<float>(2.5 * s));
    }
  }
  save_npy(w.recs_a + "/recommendations.npy", Tensor::from_vector(ids, {2, World::kK}));
  save_npy(w.recs_a + "/recommendation_scores.npy", Tensor::from_vector(scores, {2, World::kK}));
  save_npy(w.recs_a + "/recommendation_users.npy", Tensor::from_vector(rows_users, {2}));
  json r = json::parse(read_file(w.recs_a + "/recommendations.json"));
  r["num_users"] = 2;
  r["mask"] = "train+val";
  write_file_atomic(w.recs_a + "/recommendations.json", r.dump());
  ServeHandler h(w.sources(), ServeConfig{});
  h.load();
  // User 1 has a row; user 0 has none, so is served live under the same mask.
  json j = body_of(h.handle(get("/recommend/user_1/", {{"k", "2"}})));
  EXPECT_EQ(j["source"], "precomputed");
  auto ref = World::ref_topk(w.user_query(1, w.ue), w.ie, w.seen(1), 2);
  EXPECT_EQ(j["items"][0]["item_id"], w.item_ids[ref[0].first]);
  EXPECT_NEAR(j["items"][0]["score"].get<double>(), 2.5 * ref[0].second, 2.5 * kScoreTol);
  j = body_of(h.handle(get("/recommend/user_0/", {{"k", "12"}})));
  EXPECT_EQ(j["source"], "live");
  std::set<int32_t> mask0 = w.seen(0);
  mask0.insert(4);  // user 0's validation item
  ref = World::ref_topk(w.user_query(0, w.ue), w.ie, mask0, 12);
  ASSERT_EQ(j["items"].size(), ref.size());
  for (size_t k = 0; k < ref.size(); ++k) {
    EXPECT_EQ(j["items"][k]["item_id"], w.item_ids[ref[k].first]);
    EXPECT_NEAR(j["items"][k]["score"].get<double>(), 2.5 * ref[k].second, 2.5 * kScoreTol);
  }
  // A user named twice is refused; without recommendation_users.npy the rows must be all users.
  save_npy(w.recs_a + "/recommendation_users.npy",
           Tensor::from_vector(std::vector<int32_t>{1, 1}, {2}));
  EXPECT_THROW(load_serving_state(w.sources(), 1), Error);
  fs::remove(w.recs_a + "/recommendation_users.npy");
  try {
    load_serving_state(w.sources(), 1);
    ADD_FAILURE() << "2 rows for 8 users accepted without recommendation_users.npy";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("recommendation_users.npy"), std::string::npos);
  }
}

TEST(ServeAbCpuTest, WilsonIntervalsAndReportFromALog) {
  // Reference values of the Wilson score interval at z = 1.96.
  Proportion p = wilson_interval(10, 100);
  EXPECT_NEAR(p.lo, 0.05523, 1e-4);
  EXPECT_NEAR(p.hi, 0.17437, 1e-4);
  p = wilson_interval(0, 10);
  EXPECT_NEAR(p.lo, 0.0, 1e-12);
  EXPECT_NEAR(p.hi, 0.27754, 1e-4);
  p = wilson_interval(0, 0);
  EXPECT_EQ(p.lo, 0.0);
  EXPECT_EQ(p.hi, 1.0);
  const std::string dir = testing::temp_dir("serve_abreport");
  std::string log;
  for (int i = 0; i < 200; ++i) {
    const char* v = i % 4 == 0 ? "B" : "A";
    log += json{{"user_id", "u" + std::to_string(i % 37)},
                {"item_id", "i"},
                {"event", "impression"},
                {"variant", v}}
               .dump() +
           "\n";
    if (i % 10 == 0) {
      log += json{{"user_id", "u1"}, {"item_id", "i"}, {"event", "click"}, {"variant", v}}.dump() +
             "\n";
    }
  }
  log += "{\"variant\": \"A\", \"event\": \"cli";  // torn last line (crash mid-write)
  write_text(dir + "/fb.jsonl", log);
  const AbReport r = ab_report_from_log(dir + "/fb.jsonl");
  EXPECT_EQ(r.skipped, 1);
  EXPECT_EQ(r.variants.at("A").impressions, 150);
  EXPECT_EQ(r.variants.at("B").impressions, 50);
  EXPECT_EQ(r.variants.at("A").clicks + r.variants.at("B").clicks, 20);
  const json j = json::parse(format_ab_report(r, true));
  EXPECT_NEAR(j["variants"]["A"]["ctr"]["rate"].get<double>(), r.variants.at("A").clicks / 150.0,
              1e-12);
  EXPECT_TRUE(j.contains("ctr_p_value"));
  const std::string text = format_ab_report(r, false);
  EXPECT_NE(text.find("variant"), std::string::npos);
  EXPECT_THROW(ab_report_from_log(dir + "/missing.jsonl"), Error);
}

}  // namespace
}  // namespace gnnrec::serve
