// gnnrec synth: determinism (bytes, thread count), counts, schema of every line (simdjson),
// gzip round trip, power-law popularity, and the planted cluster signal.
#include <gtest/gtest.h>
#include <omp.h>
#include <simdjson.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "runtime/data/synth.h"
#include "runtime/npy.h"
#include "testing/testing.h"

namespace gnnrec {
namespace {

constexpr int64_t kMinMs = 1546300800000;  // 2019-01-01
constexpr int64_t kMaxMs = 1696118400000;  // 2023-10-01

SynthConfig tiny(uint64_t seed) {
  SynthConfig c = synth_preset("tiny");
  c.seed = seed;
  return c;
}

std::string gunzip_file(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  EXPECT_NE(f, nullptr) << path;
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, n);
  gzclose(f);
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream ss(text);
  std::string l;
  while (std::getline(ss, l)) v.push_back(l);
  return v;
}

TEST(SynthCpuTest, PresetsAndIds) {
  for (const auto& p : synth_preset_names()) EXPECT_EQ(synth_preset(p).preset, p);
  EXPECT_EQ(synth_preset("electronics").interactions, 15000000);
  EXPECT_THROW(synth_preset("huge"), Error);
  std::unordered_set<std::string> items, users;
  for (int64_t i = 0; i < 100000; ++i) {
    const std::string a = synth_item_id(i), u = synth_user_id(i);
    ASSERT_EQ(a.size(), 10u);
    ASSERT_EQ(a.substr(0, 2), "B0");
    ASSERT_EQ(u.size(), 28u);
    ASSERT_EQ(u[0], 'A');
    items.insert(a);
    users.insert(u);
  }
  EXPECT_EQ(items.size(), 100000u);
  EXPECT_EQ(users.size(), 100000u);
}

TEST(SynthCpuTest, SameSeedSameBytesAnyThreadCountDifferentSeedDiffers) {
  const std::string dir = testing::temp_dir("synth_det");
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const SynthSummary a = write_synth(tiny(7), dir + "/a");
  omp_set_num_threads(std::max(2, threads));
  const SynthSummary b = write_synth(tiny(7), dir + "/b");
  const SynthSummary c = write_synth(tiny(8), dir + "/c");
  omp_set_num_threads(threads);
  EXPECT_EQ(read_file(a.reviews_path), read_file(b.reviews_path));
  EXPECT_EQ(read_file(a.meta_path), read_file(b.meta_path));
  EXPECT_EQ(read_file(a.truth_path), read_file(b.truth_path));
  EXPECT_NE(read_file(a.reviews_path), read_file(c.reviews_path));
  EXPECT_NE(read_file(a.meta_path), read_file(c.meta_path));
  // gzip: deterministic bytes too, and the same content as the plain files.
  SynthConfig g = tiny(7);
  g.gzip = true;
  const SynthSummary z1 = write_synth(g, dir + "/z1");
  const SynthSummary z2 = write_synth(g, dir + "/z2");
  EXPECT_EQ(z1.reviews_path.substr(z1.reviews_path.size() - 9), ".jsonl.gz");
  EXPECT_EQ(read_file(z1.reviews_path), read_file(z2.reviews_path));
  EXPECT_EQ(gunzip_file(z1.reviews_path), read_file(a.reviews_path));
  EXPECT_EQ(gunzip_file(z1.meta_path), read_file(a.meta_path));
  // No temporary files are left behind.
  for (const auto& e : std::filesystem::directory_iterator(dir + "/a"))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
}

TEST(SynthCpuTest, EveryLineParsesWithTheAmazon2023Schema) {
  const std::string dir = testing::temp_dir("synth_schema");
  const SynthConfig cfg = tiny(testing::test_seed());
  const SynthSummary s = write_synth(cfg, dir);
  EXPECT_EQ(s.reviews_path, dir + "/Electronics.jsonl");
  EXPECT_EQ(s.meta_path, dir + "/meta_Electronics.jsonl");
  simdjson::dom::parser parser;
  using T = simdjson::dom::element_type;
  auto type_of = [](simdjson::dom::element e, const char* k) {
    simdjson::dom::element v;
    return e[k].get(v) == simdjson::SUCCESS ? v.type() : static_cast<T>(0);
  };
  auto n_fields = [](simdjson::dom::element e) {
    simdjson::dom::object o;
    EXPECT_EQ(e.get(o), simdjson::SUCCESS);
    return o.size();
  };

  // Meta: one line per item, all fields with Amazon 2023 types.
  std::unordered_set<std::string> asins;
  int64_t no_price = 0, no_store = 0;
  const auto meta = lines_of(read_file(s.meta_path));
  ASSERT_EQ(static_cast<int64_t>(meta.size()), cfg.items);
  for (size_t i = 0; i < meta.size(); ++i) {
    SCOPED_TRACE("meta line " + std::to_string(i + 1));
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(meta[i]).get(e), simdjson::SUCCESS) << meta[i];
    EXPECT_EQ(n_fields(e), 13u);
    EXPECT_EQ(type_of(e, "main_category"), T::STRING);
    EXPECT_EQ(type_of(e, "title"), T::STRING);
    EXPECT_EQ(type_of(e, "average_rating"), T::DOUBLE);
    EXPECT_EQ(type_of(e, "rating_number"), T::INT64);
    EXPECT_EQ(type_of(e, "features"), T::ARRAY);
    EXPECT_EQ(type_of(e, "description"), T::ARRAY);
    const T pt = type_of(e, "price");
    EXPECT_TRUE(pt == T::DOUBLE || pt == T::NULL_VALUE);
    no_price += pt == T::NULL_VALUE;
    EXPECT_EQ(type_of(e, "images"), T::ARRAY);
    EXPECT_EQ(type_of(e, "videos"), T::ARRAY);
    const T st = type_of(e, "store");
    EXPECT_TRUE(st == T::STRING || st == T::NULL_VALUE);
    no_store += st == T::NULL_VALUE;
    EXPECT_EQ(type_of(e, "categories"), T::ARRAY);
    simdjson::dom::array cats;
    ASSERT_EQ(e["categories"].get(cats), simdjson::SUCCESS);
    EXPECT_EQ(cats.size(), 3u);
    for (auto c : cats) EXPECT_EQ(c.type(), T::STRING);
    EXPECT_EQ(std::string(cats.at(0).get_string().value()), "Electronics");
    EXPECT_EQ(type_of(e, "details"), T::OBJECT);
    std::string_view pa;
    ASSERT_EQ(e["parent_asin"].get(pa), simdjson::SUCCESS);
    EXPECT_TRUE(asins.insert(std::string(pa)).second) << "duplicate item " << pa;
    if (pt == T::DOUBLE) {
      EXPECT_GT(e["price"].get_double().value(), 0.0);
    }
  }
  // "A few %" missing: 4% and 3% expected; bounds are ~4 standard deviations at 1000 items.
  EXPECT_GT(no_price, 10);
  EXPECT_LT(no_price, 80);
  EXPECT_GT(no_store, 5);
  EXPECT_LT(no_store, 70);

  // Reviews: all fields, types, ranges; every item exists in meta; timestamps increase per user.
  const auto reviews = lines_of(read_file(s.reviews_path));
  EXPECT_EQ(static_cast<int64_t>(reviews.size()), s.interactions);
  EXPECT_NEAR(static_cast<double>(s.interactions), cfg.interactions, 0.02 * cfg.interactions);
  std::unordered_map<std::string, int64_t> last_ts;
  std::set<std::pair<std::string, std::string>> pairs;
  for (size_t i = 0; i < reviews.size(); ++i) {
    SCOPED_TRACE("review line " + std::to_string(i + 1));
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(reviews[i]).get(e), simdjson::SUCCESS) << reviews[i];
    EXPECT_EQ(n_fields(e), 10u);
    ASSERT_EQ(type_of(e, "rating"), T::DOUBLE);
    const double r = e["rating"].get_double().value();
    EXPECT_TRUE(r >= 1 && r <= 5 && r == std::floor(r)) << r;
    EXPECT_EQ(type_of(e, "title"), T::STRING);
    EXPECT_EQ(type_of(e, "text"), T::STRING);
    EXPECT_EQ(type_of(e, "images"), T::ARRAY);
    EXPECT_EQ(type_of(e, "asin"), T::STRING);
    EXPECT_EQ(type_of(e, "parent_asin"), T::STRING);
    EXPECT_EQ(type_of(e, "user_id"), T::STRING);
    ASSERT_EQ(type_of(e, "timestamp"), T::INT64);
    EXPECT_EQ(type_of(e, "helpful_vote"), T::INT64);
    EXPECT_EQ(type_of(e, "verified_purchase"), T::BOOL);
    const std::string pa(e["parent_asin"].get_string().value());
    const std::string uid(e["user_id"].get_string().value());
    EXPECT_TRUE(asins.count(pa)) << pa;
    EXPECT_TRUE(pairs.insert({uid, pa}).second) << "duplicate (user, item)";
    const int64_t ts = e["timestamp"].get_int64().value();
    EXPECT_GE(ts, kMinMs);
    EXPECT_LT(ts, kMaxMs);
    auto it = last_ts.find(uid);
    if (it != last_ts.end()) {
      EXPECT_GT(ts, it->second);
    }
    last_ts[uid] = ts;
    EXPECT_GE(e["helpful_vote"].get_int64().value(), 0);
  }
  EXPECT_EQ(static_cast<int64_t>(last_ts.size()), cfg.users);  // every user has a review

  const auto truth = nlohmann::json::parse(read_file(s.truth_path));
  EXPECT_EQ(truth["preset"], "tiny");
  EXPECT_EQ(truth["seed"], cfg.seed);
  EXPECT_EQ(truth["interactions"], s.interactions);
  EXPECT_EQ(truth["users"], cfg.users);
  EXPECT_EQ(truth["items"], cfg.items);
}

TEST(SynthCpuTest, InMemoryDataMatchesTheFiles) {
  const std::string dir = testing::temp_dir("synth_mem");
  SynthConfig cfg = tiny(3);
  cfg.users = 300;
  cfg.items = 200;
  cfg.interactions = 3000;
  cfg.category = "Home and Kitchen";
  const SynthSummary s = write_synth(cfg, dir);
  EXPECT_EQ(s.reviews_path, dir + "/Home_and_Kitchen.jsonl");
  const SynthData d = synth_generate(cfg);
  const auto reviews = lines_of(read_file(s.reviews_path));
  ASSERT_EQ(reviews.size(), d.interactions.size());
  simdjson::dom::parser parser;
  for (size_t i = 0; i < reviews.size(); ++i) {
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(reviews[i]).get(e), simdjson::SUCCESS);
    EXPECT_EQ(std::string(e["user_id"].get_string().value()),
              synth_user_id(d.interactions.user[i]));
    EXPECT_EQ(std::string(e["parent_asin"].get_string().value()),
              synth_item_id(d.interactions.item[i]));
    EXPECT_EQ(e["rating"].get_double().value(), d.interactions.rating[i]);
    EXPECT_EQ(e["timestamp"].get_int64().value() / 1000, d.interactions.timestamp[i]);
  }
  EXPECT_EQ(d.item_cluster.size(), 200u);
  EXPECT_EQ(d.user_cluster[0].size(), 300u);
}

TEST(SynthCpuTest, PopularityAndActivityArePowerLaws) {
  const SynthData d = synth_generate(tiny(testing::test_seed()));
  const SynthConfig cfg = tiny(0);
  std::vector<int64_t> item_count(cfg.items, 0), user_count(cfg.users, 0);
  for (size_t e = 0; e < d.interactions.size(); ++e) {
    item_count[d.interactions.item[e]]++;
    user_count[d.interactions.user[e]]++;
  }
  std::sort(item_count.rbegin(), item_count.rend());
  const int64_t total = static_cast<int64_t>(d.interactions.size());
  const int64_t top1 =
      std::accumulate(item_count.begin(), item_count.begin() + cfg.items / 100, int64_t{0});
  // A uniform catalogue would give the top 1% about 1-2% of interactions.
  EXPECT_GT(static_cast<double>(top1) / total, 0.10) << "top 1% share " << double(top1) / total;
  const int64_t max_user = *std::max_element(user_count.begin(), user_count.end());
  EXPECT_GT(max_user, 4 * total / cfg.users) << "heaviest user " << max_user;
}

TEST(SynthCpuTest, PlantedClustersBeatMostPopularByFar) {
  const SynthConfig cfg = tiny(testing::test_seed());
  const SynthData d = synth_generate(cfg);
  const EdgeList& x = d.interactions;
  constexpr int kTopK = 20;
  // Leave-last-20%-out per user (interactions are grouped by user in time order).
  std::vector<size_t> begin(cfg.users + 1, 0);
  for (size_t e = 0; e < x.size(); ++e) begin[x.user[e] + 1]++;
  for (int64_t u = 0; u < cfg.users; ++u) begin[u + 1] += begin[u];
  std::vector<uint8_t> is_test(x.size(), 0);
  std::vector<int64_t> pop(cfg.items, 0);
  for (int64_t u = 0; u < cfg.users; ++u) {
    const size_t n = begin[u + 1] - begin[u], n_train = n - std::max<size_t>(1, n / 5);
    for (size_t e = begin[u]; e < begin[u + 1]; ++e) {
      is_test[e] = e - begin[u] >= n_train;
      if (!is_test[e]) pop[x.item[e]]++;
    }
  }
  std::vector<int32_t> by_pop(cfg.items);
  std::iota(by_pop.begin(), by_pop.end(), 0);
  std::stable_sort(by_pop.begin(), by_pop.end(), [&](int a, int b) { return pop[a] > pop[b]; });
  double recall_pop = 0, recall_cluster = 0, in_taste = 0, out_taste = 0;
  int64_t n_in = 0, n_out = 0, users = 0;
  for (int64_t u = 0; u < cfg.users; ++u) {
    std::unordered_set<int32_t> seen, test;
    for (size_t e = begin[u]; e < begin[u + 1]; ++e) (is_test[e] ? test : seen).insert(x.item[e]);
    if (test.empty() || seen.empty()) continue;
    ++users;
    auto recall = [&](bool clusters_only) {
      int hits = 0, taken = 0;
      for (int32_t i : by_pop) {
        if (taken == kTopK) break;
        if (seen.count(i)) continue;
        if (clusters_only && d.item_cluster[i] != d.user_cluster[0][u] &&
            d.item_cluster[i] != d.user_cluster[1][u])
          continue;
        ++taken;
        hits += test.count(i) > 0;
      }
      return static_cast<double>(hits) / test.size();
    };
    recall_pop += recall(false);
    recall_cluster += recall(true);
    for (size_t e = begin[u]; e < begin[u + 1]; ++e) {
      const bool liked = d.item_cluster[x.item[e]] == d.user_cluster[0][u] ||
                         d.item_cluster[x.item[e]] == d.user_cluster[1][u];
      (liked ? in_taste : out_taste) += x.rating[e];
      (liked ? n_in : n_out)++;
    }
  }
  recall_pop /= users;
  recall_cluster /= users;
  std::printf("Recall@%d: most-popular %.4f, cluster-popularity %.4f (%lld users)\n", kTopK,
              recall_pop, recall_cluster, static_cast<long long>(users));
  EXPECT_GT(recall_cluster, 2 * recall_pop);
  // Ratings: liked clusters are rated clearly higher.
  EXPECT_GT(in_taste / n_in, out_taste / n_out + 0.8);
}

TEST(SynthCpuTest, RefusesImpossibleConfigurations) {
  const std::string dir = testing::temp_dir("synth_bad");
  SynthConfig c = tiny(0);
  c.interactions = c.users - 1;
  EXPECT_THROW(write_synth(c, dir), Error);
  c = tiny(0);
  c.interactions = c.users * c.items;
  EXPECT_THROW(write_synth(c, dir), Error);
  c = tiny(0);
  c.clusters = 0;
  EXPECT_THROW(synth_generate(c), Error);
  c = tiny(0);
  c.category = "a/b";
  EXPECT_THROW(write_synth(c, dir), Error);
  // Degenerate but valid: one item, one cluster, one user.
  c = tiny(0);
  c.users = 1;
  c.items = 1;
  c.clusters = 1;
  c.interactions = 1;
  const SynthData d = synth_generate(c);
  EXPECT_EQ(d.interactions.size(), 1u);
}

}  // namespace
}  // namespace gnnrec
