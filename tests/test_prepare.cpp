// `gnnrec prepare`: SHA-256 known answers, the id interner, dedupe / k-core / every split rule
// against naive references on random data, the whole stage on the hand-written corpus (atomic
// output, --force, drop report, cold users and items, user features from training edges only),
// and the real datasets' acceptance counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>

#include "kernels/philox.h"
#include "runtime/data/prepare.h"
#include "runtime/npy.h"
#include "runtime/sha256.h"
#include "testing/testing.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;
using testing::corpus;
using testing::expect_error;
using testing::write_text;

// Nothing named `out` or `out.tmp.*` / `out.old.*` next to it.
void expect_no_output(const std::string& out) {
  EXPECT_FALSE(fs::exists(out)) << out;
  const fs::path parent = fs::path(out).parent_path();
  const std::string stem = fs::path(out).filename().string();
  for (const auto& e : fs::directory_iterator(parent)) {
    const std::string n = e.path().filename().string();
    EXPECT_TRUE(n.rfind(stem + ".", 0) != 0) << "left behind: " << e.path();
  }
}

PrepareOptions options(const std::vector<std::string>& inputs, const std::string& out) {
  PrepareOptions o;
  o.read.inputs = inputs;
  o.out = out;
  o.command_line = "test_prepare";
  return o;
}

// ---- SHA-256

TEST(Sha256CpuTest, FipsKnownAnswers) {
  for (bool hw : {true, false}) {
    SCOPED_TRACE(hw ? "hardware (if present)" : "portable");
    sha256_use_hardware(hw);
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
  sha256_use_hardware(true);
}

TEST(Sha256CpuTest, HardwareMatchesPortableAndChunkingDoesNotMatter) {
  GNNREC_SEED_TRACE();
  // Without SHA extensions both settings run the portable code: the chunking half still counts.
  if (!sha256_hardware_available()) std::printf("no SHA extensions: comparing portable with itself\n");
  for (size_t n : {0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 4097}) {
    std::string s;
    for (int32_t v : testing::random_ints(n, 0, 255)) s.push_back(static_cast<char>(v));
    sha256_use_hardware(false);
    const std::string ref = sha256_hex(s);
    sha256_use_hardware(true);
    EXPECT_EQ(sha256_hex(s), ref) << "n=" << n;
    Sha256 h;  // odd-sized pieces
    for (size_t p = 0; p < n; p += 7) h.update(s.data() + p, std::min<size_t>(7, n - p));
    EXPECT_EQ(h.finish_hex(), ref) << "n=" << n;
  }
}

// ---- Id interner

TEST(IdInternerCpuTest, MatchesAHashMapReference) {
  GNNREC_SEED_TRACE();
  IdInterner ids;
  std::unordered_map<std::string, int32_t> ref;
  std::vector<std::string> by_id;
  for (int32_t v : testing::random_ints(20000, 0, 5000)) {
    const std::string s = "id" + std::to_string(v) + std::string(v % 13, 'x');
    auto it = ref.find(s);
    const int32_t want = it == ref.end() ? static_cast<int32_t>(by_id.size()) : it->second;
    if (it == ref.end()) {
      ref[s] = want;
      by_id.push_back(s);
    }
    ASSERT_EQ(ids.intern(s), want) << s;
  }
  EXPECT_EQ(ids.size(), static_cast<int32_t>(by_id.size()));
  for (int32_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(ids.str(i), by_id[i]);
    EXPECT_EQ(ids.find(by_id[i]), i);
  }
  EXPECT_EQ(ids.find("absent"), -1);
  const int32_t before = ids.size();
  EXPECT_EQ(ids.intern(""), before);  // the interner itself accepts any key
  EXPECT_EQ(ids.intern(""), before);
}

// ---- Steps against naive references

std::vector<Interaction> random_rows(int n, int users, int items, int times) {
  std::vector<Interaction> rows;
  const auto u = testing::random_ints(n, 0, users - 1), i = testing::random_ints(n, 0, items - 1),
             t = testing::random_ints(n, 0, times - 1), r = testing::random_ints(n, 1, 5);
  for (int k = 0; k < n; ++k) {
    rows.push_back({u[k], i[k], static_cast<float>(r[k]), SplitTag::kNone, t[k]});
  }
  return rows;
}

bool same_rows(const std::vector<Interaction>& a, const std::vector<Interaction>& b) {
  if (a.size() != b.size()) return false;
  for (size_t k = 0; k < a.size(); ++k) {
    if (a[k].user != b[k].user || a[k].item != b[k].item || a[k].timestamp != b[k].timestamp ||
        a[k].rating != b[k].rating) {
      return false;
    }
  }
  return true;
}

TEST(DedupeCpuTest, KeepsTheEarliestRowOfEachPair) {
  GNNREC_SEED_TRACE();
  for (int n : {0, 1, 50, 2000}) {
    const auto rows = random_rows(n, 7, 9, 4);
    // Reference: for each pair, the row with the smallest (timestamp, index); output in input
    // order.
    std::map<std::pair<int, int>, size_t> best;
    for (size_t k = 0; k < rows.size(); ++k) {
      const auto key = std::make_pair(rows[k].user, rows[k].item);
      auto it = best.find(key);
      if (it == best.end() || rows[k].timestamp < rows[it->second].timestamp) best[key] = k;
    }
    std::vector<size_t> keep;
    for (auto& [key, k] : best) keep.push_back(k);
    std::sort(keep.begin(), keep.end());
    std::vector<Interaction> ref;
    for (size_t k : keep) ref.push_back(rows[k]);
    EXPECT_TRUE(same_rows(dedupe_pairs(rows, 7), ref)) << "n=" << n;
  }
}

TEST(KcoreCpuTest, MatchesPeelingReference) {
  GNNREC_SEED_TRACE();
  for (int k : {1, 2, 3, 5}) {
    for (int n : {0, 30, 400}) {
      const auto rows = dedupe_pairs(random_rows(n, 30, 25, 3), 30);
      // Reference: remove one under-degree node at a time until none is left.
      std::set<size_t> alive;
      for (size_t r = 0; r < rows.size(); ++r) alive.insert(r);
      for (bool changed = true; changed;) {
        changed = false;
        std::map<int, int> du, di;
        for (size_t r : alive) du[rows[r].user]++, di[rows[r].item]++;
        for (size_t r : alive) {
          if (du[rows[r].user] < k || di[rows[r].item] < k) {
            const int u = du[rows[r].user] < k ? rows[r].user : -1;
            const int i = u < 0 ? rows[r].item : -1;
            for (auto it = alive.begin(); it != alive.end();) {
              if ((u >= 0 && rows[*it].user == u) || (i >= 0 && rows[*it].item == i)) {
                it = alive.erase(it);
              } else {
                ++it;
              }
            }
            changed = true;
            break;
          }
        }
      }
      std::vector<Interaction> ref;
      for (size_t r : alive) ref.push_back(rows[r]);
      int rounds = 0;
      const auto got = kcore_filter(rows, 30, 25, k, &rounds);
      EXPECT_TRUE(same_rows(got, ref)) << "k=" << k << " n=" << n;
      EXPECT_GE(rounds, 1);
    }
  }
}

// Reference user-temporal / leave-last-out split, written independently of the library.
std::vector<SplitTag> naive_user_split(const std::vector<Interaction>& rows, bool llo, double vf,
                                       double tf) {
  std::map<int, std::vector<std::pair<int64_t, size_t>>> per_user;
  for (size_t k = 0; k < rows.size(); ++k) per_user[rows[k].user].push_back({rows[k].timestamp, k});
  std::vector<SplitTag> tag(rows.size(), SplitTag::kTrain);
  for (auto& [u, v] : per_user) {
    std::sort(v.begin(), v.end());
    const int64_t n = static_cast<int64_t>(v.size());
    if (n < 3) continue;
    int64_t nt =
        llo ? 1 : (tf > 0 ? std::max<int64_t>(1, std::llround(std::floor(n * tf + 0.5))) : 0);
    int64_t nv =
        llo ? 1 : (vf > 0 ? std::max<int64_t>(1, std::llround(std::floor(n * vf + 0.5))) : 0);
    while (n - nv - nt < 1 && nv > 0) --nv;
    while (n - nv - nt < 1 && nt > 0) --nt;
    for (int64_t j = 0; j < n; ++j) {
      tag[v[j].second] = j >= n - nt        ? SplitTag::kTest
                         : j >= n - nt - nv ? SplitTag::kVal
                                            : SplitTag::kTrain;
    }
  }
  return tag;
}

TEST(SplitCpuTest, UserTemporalAndLeaveLastOutMatchReference) {
  GNNREC_SEED_TRACE();
  for (int n : {0, 1, 2, 3, 40, 3000}) {
    const auto rows = random_rows(n, 13, 50, 20);  // many timestamp ties: input order decides
    for (auto [vf, tf] : {std::pair{0.1, 0.1}, {0.2, 0.05}, {0.0, 0.3}, {0.45, 0.45}}) {
      SplitOptions o;
      o.rule = "user-temporal";
      o.val_frac = vf;
      o.test_frac = tf;
      EXPECT_EQ(assign_splits(rows, 13, o), naive_user_split(rows, false, vf, tf))
          << "n=" << n << " vf=" << vf << " tf=" << tf;
    }
    SplitOptions o;
    o.rule = "leave-last-out";
    EXPECT_EQ(assign_splits(rows, 13, o), naive_user_split(rows, true, 0, 0)) << "n=" << n;
  }
  // Documented rounding: 10 -> 8/1/1, 15 -> 11/2/2, 3 -> 1/1/1, 2 -> 2/0/0.
  for (auto [m, want_val, want_test] : {std::tuple{10, 1, 1}, {15, 2, 2}, {3, 1, 1}, {2, 0, 0}}) {
    std::vector<Interaction> rows;
    for (int j = 0; j < m; ++j) rows.push_back({0, j, 1.0f, SplitTag::kNone, int64_t(100 - j)});
    SplitOptions o;
    o.rule = "user-temporal";
    const auto t = assign_splits(rows, 1, o);
    EXPECT_EQ(std::count(t.begin(), t.end(), SplitTag::kVal), want_val) << m;
    EXPECT_EQ(std::count(t.begin(), t.end(), SplitTag::kTest), want_test) << m;
    if (m >= 3) {
      EXPECT_EQ(t[0], SplitTag::kTest);  // the latest row (timestamps decrease)
    }
  }
}

TEST(SplitCpuTest, GlobalTemporalRandomAndPredefined) {
  GNNREC_SEED_TRACE();
  const auto rows = random_rows(1000, 20, 30, 100);
  SplitOptions g;
  g.rule = "global-temporal";
  g.val_from = 60;
  g.test_from = 80;
  const auto t = assign_splits(rows, 20, g);
  for (size_t k = 0; k < rows.size(); ++k) {
    const SplitTag want = rows[k].timestamp >= 80   ? SplitTag::kTest
                          : rows[k].timestamp >= 60 ? SplitTag::kVal
                                                    : SplitTag::kTrain;
    ASSERT_EQ(t[k], want) << k;
  }
  g.val_from = 90;
  expect_error([&] { assign_splits(rows, 20, g); }, {"--val-from"});

  SplitOptions r;
  r.rule = "random";
  r.seed = 7;
  const auto a = assign_splits(rows, 20, r);
  EXPECT_EQ(a, assign_splits(rows, 20, r));  // deterministic
  EXPECT_EQ(std::count(a.begin(), a.end(), SplitTag::kVal), 100);
  EXPECT_EQ(std::count(a.begin(), a.end(), SplitTag::kTest), 100);
  // Reference: rank rows by their Philox key (purpose kSplit); the last 20% are val then test.
  std::vector<std::pair<uint64_t, size_t>> keyed;
  for (size_t k = 0; k < rows.size(); ++k) {
    const U32x4 w = rng_draw(RngKey{7, static_cast<uint32_t>(RngPurpose::kSplit), 0, 0}, k);
    keyed.push_back({(uint64_t(w.v[1]) << 32) | w.v[0], k});
  }
  std::sort(keyed.begin(), keyed.end());
  for (size_t j = 0; j < keyed.size(); ++j) {
    const SplitTag want = j < 800 ? SplitTag::kTrain : j < 900 ? SplitTag::kVal : SplitTag::kTest;
    ASSERT_EQ(a[keyed[j].second], want) << j;
  }
  r.seed = 8;
  EXPECT_NE(a, assign_splits(rows, 20, r));

  SplitOptions p;
  p.rule = "predefined";
  expect_error([&] { assign_splits(rows, 20, p); }, {"do not define a split"});
  auto tagged = rows;
  for (size_t k = 0; k < tagged.size(); ++k) tagged[k].split = static_cast<SplitTag>(k % 3);
  const auto pt = assign_splits(tagged, 20, p);
  for (size_t k = 0; k < tagged.size(); ++k) ASSERT_EQ(pt[k], tagged[k].split);

  SplitOptions bad;
  bad.rule = "chronological";
  expect_error([&] { assign_splits(rows, 20, bad); }, {"--split chronological"});
  bad.rule = "random";
  bad.val_frac = 0.6;
  bad.test_frac = 0.5;
  expect_error([&] { assign_splits(rows, 20, bad); }, {"--val-frac"});
}

// ---- The whole stage on the corpus

TEST(PrepareCpuTest, Amazon2023CorpusEndToEnd) {
  const std::string out = testing::temp_dir("prep23") + "/ds";
  PrepareOptions o = options({corpus("amazon2023")}, out);
  o.split.rule = "global-temporal";  // Amazon 2023 default cuts
  prepare_dataset(o);
  const Dataset d = load_dataset(out);
  EXPECT_EQ(d.num_users, 3);
  EXPECT_EQ(d.num_items, 4);
  EXPECT_EQ(d.user_ids, (std::vector<std::string>{"UA", "UB", "UC"}));  // first appearance
  EXPECT_EQ(d.item_ids, (std::vector<std::string>{"P01", "P02", "P03", "P04"}));
  // 8 rows, one duplicate (UA, P01): 7. Cuts at 1628643414 / 1658002729 s.
  EXPECT_EQ(d.train.size(), 4u);
  EXPECT_EQ(d.val.size(), 1u);   // UC P04 at 1650000000
  EXPECT_EQ(d.test.size(), 2u);  // UC P02, UC P03
  EXPECT_EQ(d.train.timestamp[0], 1588687728);
  EXPECT_EQ(d.items[1].title, "Wireless Earbuds");
  EXPECT_EQ(d.items[1].category, "Earbud Headphones");
  EXPECT_DOUBLE_EQ(d.items[1].price, 12.5);
  EXPECT_EQ(d.items[0].brand, "Howard Products");
  EXPECT_LT(d.items[3].price, 0);  // no metadata
  EXPECT_EQ(d.items[3].title, "");
  EXPECT_GT(d.item_feature_names.size(), 0u);
  const auto& m = d.manifest;
  EXPECT_EQ(m["format"], "amazon2023");
  EXPECT_EQ(m["drops"][0]["rows_dropped"], 1);
  EXPECT_EQ(m["split"]["rule"], "global-temporal");
  EXPECT_EQ(m["split"]["val_from"], kAmazon2023ValFrom);
  EXPECT_EQ(m["input"]["items_without_meta"], 1);
  EXPECT_EQ(m["input"]["meta_duplicates"], 1);
  EXPECT_EQ(m["input"]["meta_unknown_items"], 1);
  EXPECT_EQ(m["command_line"], "test_prepare");
  ASSERT_EQ(m["sources"].size(), 2u);
  EXPECT_EQ(m["sources"][0]["sha256"], sha256_file(corpus("amazon2023/Tiny_Beauty.jsonl")));
  EXPECT_EQ(m["sources"][0]["bytes"], fs::file_size(corpus("amazon2023/Tiny_Beauty.jsonl")));
  EXPECT_EQ(m["features"]["user"].size(), d.user_feature_names.size());
  const std::string desc = describe_dataset(d);
  EXPECT_NE(desc.find("users 3, items 4"), std::string::npos) << desc;
  EXPECT_NE(desc.find("cold in test"), std::string::npos) << desc;
  expect_no_output(out + "_none");  // (sanity of the helper)
}

TEST(PrepareCpuTest, EveryCorpusFormatPrepares) {
  const std::string dir = testing::temp_dir("prepall");
  struct Case {
    std::string input;
    int users, items;
    size_t train, val, test;
  } cases[] = {
      {corpus("amazon2018"), 3, 4, 4, 1, 1},  // 7 rows, 1 duplicate; only R1 has 3 rows
      {corpus("amazon2023csv"), 3, 4, 4, 2, 2}, {corpus("lightgcn"), 4, 6, 9, 0, 5},
      {corpus("movielens"), 4, 5, 4, 4, 4},     {corpus("csv/ratings.csv"), 3, 4, 5, 0, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    const std::string out = dir + "/" + fs::path(c.input).filename().string();
    prepare_dataset(options({c.input}, out));
    const Dataset d = load_dataset(out);
    EXPECT_EQ(d.num_users, c.users);
    EXPECT_EQ(d.num_items, c.items);
    EXPECT_EQ(d.train.size(), c.train);
    EXPECT_EQ(d.val.size(), c.val);
    EXPECT_EQ(d.test.size(), c.test);
  }
  // LightGCN and MovieLens ids keep their numeric order.
  const Dataset ml = load_dataset(dir + "/movielens");
  EXPECT_EQ(ml.user_ids, (std::vector<std::string>{"1", "2", "3", "10"}));
  EXPECT_EQ(ml.items[2].title, "Caf\xc3\xa9 au lait (1993)");
  EXPECT_EQ(ml.items[0].category, "Animation, Children's, Comedy");
  const auto& names = ml.item_feature_names;
  ASSERT_GE(names.size(), 21u);
  EXPECT_EQ(names[names.size() - 2], "ml_release_year_z");  // dataset columns come last
  EXPECT_EQ(names.back(), "ml_release_year_missing");
  const float* f = ml.item_features.data<float>();
  const int64_t F = static_cast<int64_t>(names.size());
  EXPECT_EQ(f[3 * F + F - 1], 1.0f);  // movie 4 has no release date
  EXPECT_EQ(f[0 * F + F - 1], 0.0f);
  const Dataset lg = load_dataset(dir + "/lightgcn");
  EXPECT_EQ(lg.user_ids, (std::vector<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(lg.item_ids, (std::vector<std::string>{"0", "1", "2", "3", "4", "5"}));
  EXPECT_EQ(lg.item_features.dim(1), 0);  // no metadata: no item feature columns
  EXPECT_FALSE(fs::exists(dir + "/lightgcn/items.jsonl"));
  EXPECT_EQ(lg.item_users.degree(5), 0);  // item 5 only in test: kept, cold
  EXPECT_EQ(lg.train.rating[0], 1.0f);    // no ratings in the source
}

TEST(PrepareCpuTest, OutputIsAtomicAndForceReplaces) {
  const std::string dir = testing::temp_dir("prepatomic");
  const std::string out = dir + "/ds";
  prepare_dataset(options({corpus("lightgcn")}, out));
  const std::string before = read_file(out + "/train_edges.npy");
  // An existing directory is refused without --force, and left alone.
  expect_error([&] { prepare_dataset(options({corpus("movielens")}, out)); },
               {"already exists", "--force"});
  EXPECT_EQ(read_file(out + "/train_edges.npy"), before);
  // A failing run with --force keeps the old dataset and leaves no temporary directory.
  PrepareOptions bad = options({corpus("movielens")}, out);
  bad.force = true;
  bad.kcore = 1000;
  expect_error([&] { prepare_dataset(bad); }, {"no interactions left"});
  EXPECT_EQ(read_file(out + "/train_edges.npy"), before);
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename().string(), "ds") << "left behind: " << e.path();
  }
  // --force replaces it once the new one is complete.
  PrepareOptions good = options({corpus("movielens")}, out);
  good.force = true;
  prepare_dataset(good);
  EXPECT_EQ(load_dataset(out).manifest["format"], "movielens");
  // A trailing slash names the same directory (the temporary one is its sibling).
  PrepareOptions slash = options({corpus("lightgcn")}, out + "/");
  slash.force = true;
  prepare_dataset(slash);
  EXPECT_EQ(load_dataset(out).manifest["format"], "lightgcn");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  // Failures leave nothing behind.
  const std::string out2 = dir + "/fresh";
  PrepareOptions empty = options({corpus("movielens")}, out2);
  empty.min_rating = 6;
  expect_error([&] { prepare_dataset(empty); }, {"no interactions left"});
  expect_no_output(out2);
  PrepareOptions nometa = options({corpus("lightgcn")}, out2);
  nometa.min_rating = 3;
  expect_error([&] { prepare_dataset(nometa); }, {"--min-rating", "no ratings"});
  expect_no_output(out2);
  PrepareOptions badsplit = options({corpus("lightgcn")}, out2);
  badsplit.split.rule = "global-temporal";
  expect_error([&] { prepare_dataset(badsplit); }, {"global-temporal", "no timestamps"});
  expect_no_output(out2);
}

TEST(PrepareCpuTest, FiltersAreRecordedInTheDropReport) {
  const std::string dir = testing::temp_dir("prepdrops");
  PrepareOptions o = options({corpus("movielens")}, dir + "/ds");
  o.min_rating = 3;
  o.kcore = 2;
  prepare_dataset(o);
  const Dataset d = load_dataset(dir + "/ds");
  const auto& drops = d.manifest["drops"];
  ASSERT_EQ(drops.size(), 3u);
  EXPECT_EQ(drops[0]["rows_dropped"], 0);  // no duplicates
  EXPECT_EQ(drops[1]["rows_dropped"], 3);  // ratings 2, 2 and 1
  EXPECT_EQ(drops[1]["min_rating"], 3.0);
  // 9 rows left: users 10:{1,4} 1:{1,2,3} 2:{5} 3:{2,3,5}. Peeling user 2 and item 4, then
  // user 10 and item 5, then item 1 leaves users 1 and 3 with items 2 and 3.
  EXPECT_EQ(drops[2]["k"], 2);
  EXPECT_EQ(drops[2]["rows_before"], 9);
  EXPECT_EQ(drops[2]["rows_dropped"], 5);
  EXPECT_EQ(d.user_ids, (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(d.item_ids, (std::vector<std::string>{"2", "3"}));
  EXPECT_EQ(d.train.size(), 4u);  // 2 rows per user: too few to hold any out
}

TEST(PrepareCpuTest, ColdUsersAndItemsAreKept) {
  const std::string dir = testing::temp_dir("prepcold");
  write_text(dir, "r.csv",
             "user_id,item_id,timestamp\nu1,i1,10\nu1,i2,11\nu2,i1,12\nu2,i3,30\nu3,i2,31\n"
             "u1,i4,40\n");
  PrepareOptions o = options({dir + "/r.csv"}, dir + "/ds");
  o.split.rule = "global-temporal";
  o.split.val_from = 30;
  o.split.test_from = 40;
  prepare_dataset(o);
  const Dataset d = load_dataset(dir + "/ds");
  EXPECT_EQ(d.num_users, 3);
  EXPECT_EQ(d.num_items, 4);
  EXPECT_EQ(d.user_items.degree(2), 0);  // u3: only in val
  EXPECT_EQ(d.item_users.degree(2), 0);  // i3: only in val
  EXPECT_EQ(d.item_users.degree(3), 0);  // i4: only in test
  EXPECT_EQ(d.manifest["split"]["cold"]["val"]["users"], 1);
  EXPECT_EQ(d.manifest["split"]["cold"]["val"]["items"], 1);
  EXPECT_EQ(d.manifest["split"]["cold"]["test"]["items"], 1);
  // Millisecond cut values are accepted too.
  o.split.val_from = 30000000000000;  // > 1e11: read as ms
  o.split.test_from = 40000000000000;
  o.force = true;
  prepare_dataset(o);
  EXPECT_EQ(load_dataset(dir + "/ds").manifest["split"]["val_from"], 30000000000);
}

TEST(PrepareCpuTest, UserFeaturesIgnoreValidationAndTestEdges) {
  const std::string dir = testing::temp_dir("prepleak");
  auto make = [&](const std::string& name, int val_rating, int test_rating) {
    write_text(dir, name + ".csv",
               fmt::format("user_id,item_id,rating,timestamp\nu1,i1,5,10\nu1,i2,3,11\n"
                           "u2,i1,4,12\nu1,i3,{},30\nu2,i2,{},31\nu2,i3,{},40\nu3,i1,{},41\n",
                           val_rating, val_rating, test_rating, test_rating));
    PrepareOptions o = options({dir + "/" + name + ".csv"}, dir + "/" + name);
    o.split.rule = "global-temporal";
    o.split.val_from = 30;
    o.split.test_from = 40;
    prepare_dataset(o);
    return read_file(dir + "/" + name + "/user_features.npy");
  };
  const std::string a = make("a", 1, 1);
  EXPECT_EQ(make("b", 5, 2), a);  // val/test ratings and edges change nothing
  // (and the comparison is not vacuous: training ratings do show up)
  write_text(dir, "c.csv",
             "user_id,item_id,rating,timestamp\nu1,i1,1,10\nu1,i2,1,11\nu2,i1,4,12\nu1,i3,1,30\n"
             "u2,i2,1,31\nu2,i3,1,40\nu3,i1,1,41\n");
  PrepareOptions o = options({dir + "/c.csv"}, dir + "/c");
  o.split.rule = "global-temporal";
  o.split.val_from = 30;
  o.split.test_from = 40;
  prepare_dataset(o);
  EXPECT_NE(read_file(dir + "/c/user_features.npy"), a);
}

// ---- Real datasets: the acceptance counts

TEST(RealDataCpuTest, GowallaLightGcnSplit) {
  const std::string out = testing::temp_dir("gowalla") + "/ds";
  prepare_dataset(options({testing::data_dir() + "/gowalla-lightgcn"}, out));
  const Dataset d = load_dataset(out);
  EXPECT_EQ(d.num_users, 29858);
  EXPECT_EQ(d.num_items, 40981);
  EXPECT_EQ(d.train.size(), 810128u);
  EXPECT_EQ(d.val.size(), 0u);
  EXPECT_EQ(d.test.size(), 217242u);
  for (int32_t u : {0, 1, 12345, 29857}) EXPECT_EQ(d.user_ids[u], std::to_string(u));
  for (int32_t i : {0, 7, 40980}) EXPECT_EQ(d.item_ids[i], std::to_string(i));
  EXPECT_EQ(d.manifest["split"]["rule"], "predefined");
  // Line 0 of train.txt is user 0's training items.
  std::ifstream f(testing::data_dir() + "/gowalla-lightgcn/train.txt");
  std::string first;
  std::getline(f, first);
  std::istringstream ss(first);
  int64_t v;
  ss >> v;
  std::vector<int32_t> items;
  while (ss >> v) items.push_back(static_cast<int32_t>(v));
  std::sort(items.begin(), items.end());
  const auto& ui = d.user_items;
  EXPECT_EQ(
      std::vector<int32_t>(ui.indices.begin() + ui.indptr[0], ui.indices.begin() + ui.indptr[1]),
      items);
}

TEST(RealDataCpuTest, MovieLens100k) {
  const std::string dir = testing::temp_dir("ml100k");
  prepare_dataset(options({testing::data_dir() + "/ml-100k"}, dir + "/ds"));
  const Dataset d = load_dataset(dir + "/ds");
  EXPECT_EQ(d.num_users, 943);
  EXPECT_EQ(d.num_items, 1682);
  EXPECT_EQ(d.train.size() + d.val.size() + d.test.size(), 100000u);
  EXPECT_EQ(d.user_ids[0], "1");
  EXPECT_EQ(d.items[0].title, "Toy Story (1995)");
  EXPECT_EQ(d.manifest["split"]["rule"], "user-temporal");
  PrepareOptions fold = options({testing::data_dir() + "/ml-100k"}, dir + "/fold1");
  fold.read.ml_fold = "1";
  prepare_dataset(fold);
  const Dataset f = load_dataset(dir + "/fold1");
  EXPECT_EQ(f.train.size(), 80000u);
  EXPECT_EQ(f.test.size(), 20000u);
  EXPECT_EQ(f.manifest["split"]["rule"], "predefined");
}

TEST(RealDataCpuTest, Amazon2018GiftCardsAndMagazines) {
  const std::string dir = testing::temp_dir("amz2018");
  struct Case {
    const char* name;
    int users, items;
    size_t pairs;
    int without_meta;
  } cases[] = {{"amazon-gift-cards-2018", 458, 148, 2965, 0},
               {"amazon-magazine-subscriptions-2018", 348, 157, 2302, 6}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    prepare_dataset(options({testing::data_dir() + "/" + c.name}, dir + "/" + c.name));
    const Dataset d = load_dataset(dir + "/" + c.name);
    EXPECT_EQ(d.num_users, c.users);
    EXPECT_EQ(d.num_items, c.items);
    EXPECT_EQ(d.train.size() + d.val.size() + d.test.size(), c.pairs);
    EXPECT_EQ(d.manifest["input"]["items_without_meta"], c.without_meta);
    EXPECT_GT(d.item_feature_names.size(), 0u);
    int titled = 0;
    for (const auto& it : d.items) titled += !it.title.empty();
    EXPECT_EQ(titled, c.items - c.without_meta);
  }
}

}  // namespace
}  // namespace gnnrec
