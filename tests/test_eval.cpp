// Evaluation: metrics against hand-computed examples, independence of the batch size,
// evaluate_ranking against the naive top-K, the baselines, CSR helpers, the training-curve
// reader and the HTML page.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "runtime/eval/baselines.h"
#include "runtime/eval/metrics.h"
#include "runtime/eval/report.h"
#include "runtime/ops_topk.h"
#include "testing/testing.h"

namespace gnnrec {
namespace {

// Metrics are sums of a handful of doubles: exact to ~1e-15.
constexpr double kExact = 1e-12;

TEST(RankingMetricsCpuTest, HandComputedExample) {
  // User A: ranked 3 7 1 9 4, truth {1, 4, 8}: hits at 0-based ranks 2 and 4.
  // User B: nothing ranked (all padding), truth {2}: every metric 0.
  // User C: no truth: skipped.
  RankingAccumulator acc({3, 5}, 10, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  const int32_t a[] = {3, 7, 1, 9, 4}, ta[] = {1, 4, 8};
  const int32_t b[] = {-1, -1, -1, -1, -1}, tb[] = {2};
  acc.add(a, 5, ta, 3);
  acc.add(b, 5, tb, 1);
  acc.add(a, 5, nullptr, 0);
  const RankingMetrics m = acc.result();
  EXPECT_EQ(m.users, 2);
  EXPECT_EQ(m.skipped, 1);
  const double l3 = std::log2(3.0), l4 = 2.0, l6 = std::log2(6.0);
  const double idcg3 = 1 + 1 / l3 + 1 / l4;  // min(|truth| = 3, K) = 3 for both K
  auto& v = m.values;
  // @5: hits 2; DCG = 1/log2(4) + 1/log2(6); AP = (1/3 + 2/5) / min(3, 5); first hit at rank 3.
  EXPECT_NEAR(v.at("precision@5"), (2.0 / 5) / 2, kExact);
  EXPECT_NEAR(v.at("recall@5"), (2.0 / 3) / 2, kExact);
  EXPECT_NEAR(v.at("ndcg@5"), ((1 / l4 + 1 / l6) / idcg3) / 2, kExact);
  EXPECT_NEAR(v.at("hit@5"), 0.5, kExact);
  EXPECT_NEAR(v.at("mrr@5"), (1.0 / 3) / 2, kExact);
  EXPECT_NEAR(v.at("map@5"), ((1.0 / 3 + 2.0 / 5) / 3) / 2, kExact);
  EXPECT_NEAR(v.at("coverage@5"), 5.0 / 10, kExact);
  EXPECT_NEAR(v.at("popularity@5"), (3 + 7 + 1 + 9 + 4) / 5.0, kExact);
  // @3: one hit at rank 2.
  EXPECT_NEAR(v.at("precision@3"), (1.0 / 3) / 2, kExact);
  EXPECT_NEAR(v.at("recall@3"), (1.0 / 3) / 2, kExact);
  EXPECT_NEAR(v.at("ndcg@3"), ((1 / l4) / idcg3) / 2, kExact);
  EXPECT_NEAR(v.at("mrr@3"), (1.0 / 3) / 2, kExact);
  EXPECT_NEAR(v.at("map@3"), ((1.0 / 3) / 3) / 2, kExact);
  EXPECT_NEAR(v.at("coverage@3"), 3.0 / 10, kExact);
  EXPECT_NEAR(v.at("popularity@3"), 11.0 / 3, kExact);
}

TEST(RankingMetricsCpuTest, IdealDcgUsesFewerTruthItemsThanK) {
  // One truth item ranked first: NDCG = 1 at every K (ideal DCG over min(|truth|, K) = 1 item),
  // recall 1, precision 1/K, MAP 1.
  RankingAccumulator acc({1, 4}, 5);
  const int32_t r[] = {2, 0, 1, 3}, t[] = {2};
  acc.add(r, 4, t, 1);
  const auto& v = acc.result().values;
  EXPECT_NEAR(v.at("ndcg@4"), 1.0, kExact);
  EXPECT_NEAR(v.at("recall@4"), 1.0, kExact);
  EXPECT_NEAR(v.at("precision@4"), 0.25, kExact);
  EXPECT_NEAR(v.at("map@4"), 1.0, kExact);
  EXPECT_NEAR(v.at("ndcg@1"), 1.0, kExact);
  EXPECT_EQ(v.count("popularity@4"), 0u);  // no degrees given
  // A list shorter than K counts the missing positions as misses.
  RankingAccumulator shorter({4}, 5);
  shorter.add(r, 1, t, 1);
  EXPECT_NEAR(shorter.result().values.at("precision@4"), 0.25, kExact);
}

TEST(RankingCurveCpuTest, MatchesTheAccumulatorAtEveryK) {
  GNNREC_SEED_TRACE();
  RankingCurve curve(8);
  std::vector<RankingAccumulator> accs;
  for (int k = 1; k <= 8; ++k) accs.emplace_back(std::vector<int>{k}, 30);
  for (int u = 0; u < 40; ++u) {
    std::vector<int32_t> ranked = testing::random_ints(8, -1, 29);
    std::set<int32_t> ts;
    for (int32_t x : testing::random_ints(u % 5, 0, 29)) ts.insert(x);
    std::vector<int32_t> t(ts.begin(), ts.end());
    // Rankings must not repeat items: drop repeats to padding.
    std::set<int32_t> seen;
    for (auto& x : ranked) {
      if (x >= 0 && !seen.insert(x).second) x = -1;
    }
    curve.add(ranked.data(), 8, t.data(), static_cast<int64_t>(t.size()));
    for (auto& a : accs) a.add(ranked.data(), 8, t.data(), static_cast<int64_t>(t.size()));
  }
  for (int k = 1; k <= 8; ++k) {
    const auto& v = accs[k - 1].result().values;
    EXPECT_NEAR(curve.recall()[k - 1], v.at("recall@" + std::to_string(k)), kExact);
    EXPECT_NEAR(curve.ndcg()[k - 1], v.at("ndcg@" + std::to_string(k)), kExact);
  }
}

struct EvalFixture {
  Tensor users, items;
  Csr exclude, truth;
};

EvalFixture make_eval_problem(int64_t U, int64_t I, int64_t d) {
  EvalFixture f;
  f.users = testing::random_tensor({U, d});
  f.items = testing::random_tensor({I, d});
  std::vector<int32_t> er, ec, tr, tc;
  for (int64_t u = 0; u < U; ++u) {
    for (int32_t i :
         testing::random_ints(static_cast<size_t>(u % 9), 0, static_cast<int32_t>(I - 1))) {
      er.push_back(static_cast<int32_t>(u));
      ec.push_back(i);
    }
    if (u % 6 == 5) continue;  // users without truth: skipped
    for (int32_t i : testing::random_ints(1 + u % 4, 0, static_cast<int32_t>(I - 1))) {
      tr.push_back(static_cast<int32_t>(u));
      tc.push_back(i);
    }
  }
  f.exclude = csr_from_pairs(U, er, ec);
  f.truth = csr_from_pairs(U, tr, tc);
  return f;
}

TEST(EvaluateRankingCpuTest, SameValuesForEveryBatchSize) {
  GNNREC_SEED_TRACE();
  const EvalFixture f = make_eval_problem(97, 150, 10);
  const RankingMetrics ref = evaluate_ranking(f.users, f.items, f.exclude, f.truth, {5, 10, 20});
  EXPECT_EQ(ref.skipped, 97 / 6);
  EXPECT_EQ(ref.users + ref.skipped, 97);
  for (int64_t bs : {1, 3, 50, 4096}) {
    const RankingMetrics m =
        evaluate_ranking(f.users, f.items, f.exclude, f.truth, {5, 10, 20}, bs);
    EXPECT_EQ(m.values, ref.values) << "batch " << bs;
    EXPECT_EQ(m.users, ref.users);
  }
}

TEST(EvaluateRankingCpuTest, MatchesNaiveTopKAndHandAccumulation) {
  GNNREC_SEED_TRACE();
  const EvalFixture f = make_eval_problem(60, 80, 7);
  const int K = 10;
  Tensor ptr = Tensor::from_vector(f.exclude.indptr);
  Tensor idx = Tensor::from_vector(f.exclude.indices, {f.exclude.nnz()});
  Tensor ids = Tensor::empty({60, K}, DType::kI32), sc = Tensor::empty({60, K}, DType::kF32);
  topk_masked(f.users, f.items, ptr, idx, K, ids, sc, TopKVariant::kCpuNaive);
  RankingAccumulator acc({K}, 80);
  for (int64_t u = 0; u < 60; ++u) {
    acc.add(ids.data<int32_t>() + u * K, K, f.truth.indices.data() + f.truth.indptr[u],
            f.truth.degree(u));
  }
  const RankingMetrics ref = acc.result();
  const RankingMetrics got = evaluate_ranking(f.users, f.items, f.exclude, f.truth, {K}, 16);
  for (const auto& [k, v] : ref.values) EXPECT_NEAR(got.values.at(k), v, kExact) << k;
}

TEST(EvaluateRankingCudaTest, MatchesCpu) {
  GNNREC_REQUIRE_GPU();
  GNNREC_SEED_TRACE();
  const EvalFixture f = make_eval_problem(300, 500, 24);
  const RankingMetrics cpu = evaluate_ranking(f.users, f.items, f.exclude, f.truth, {5, 20}, 64);
  const RankingMetrics gpu = evaluate_ranking(
      f.users.to(Device::cuda()), f.items.to(Device::cuda()), f.exclude, f.truth, {5, 20}, 64);
  // Random scores: ties within rounding are vanishingly rare, so the lists and metrics agree.
  for (const auto& [k, v] : cpu.values) EXPECT_NEAR(gpu.values.at(k), v, 1e-9) << k;
}

TEST(CsrHelpersCpuTest, PairsUnionAndGather) {
  const Csr a = csr_from_pairs(3, {0, 0, 2, 0}, {5, 1, 3, 5});  // duplicate (0, 5)
  EXPECT_EQ(a.indptr, (std::vector<int64_t>{0, 2, 2, 3}));
  EXPECT_EQ(a.indices, (std::vector<int32_t>{1, 5, 3}));
  const Csr b = csr_from_pairs(3, {0, 1}, {2, 4});
  const Csr c = csr_union(a, b);
  EXPECT_EQ(c.indptr, (std::vector<int64_t>{0, 3, 4, 5}));
  EXPECT_EQ(c.indices, (std::vector<int32_t>{1, 2, 5, 4, 3}));
  Tensor p, x;
  gather_csr_rows(c, {2, 0, 2}, p, x);
  EXPECT_EQ(p.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 4, 5}));
  EXPECT_EQ(x.to_vector<int32_t>(), (std::vector<int32_t>{3, 1, 2, 5, 3}));
  EXPECT_THROW(gather_csr_rows(c, {3}, p, x), Error);
}

TEST(BaselinesCpuTest, MostPopularSkipsMaskedItemsAndBreaksTiesById) {
  const std::vector<int64_t> deg{5, 9, 9, 0, 2};
  const Csr mask = csr_from_pairs(2, {1, 1}, {1, 0});
  std::vector<int32_t> out;
  most_popular_topk(deg, mask, {0, 1}, 4, out);
  EXPECT_EQ(out, (std::vector<int32_t>{1, 2, 0, 4, 2, 4, 3, -1}));
}

TEST(BaselinesCpuTest, RandomIsDistinctUnmaskedDeterministicAndRoughlyUniform) {
  GNNREC_SEED_TRACE();
  const int64_t I = 40;
  std::vector<int32_t> mr, mc;
  for (int32_t i = 0; i < 37; ++i) {  // user 1 keeps only items 37, 38, 39
    mr.push_back(1);
    mc.push_back(i);
  }
  for (int32_t i = 0; i < 40; i += 2) {  // user 2: odd items only
    mr.push_back(2);
    mc.push_back(i);
  }
  const Csr mask = csr_from_pairs(3, mr, mc);
  std::vector<int32_t> a, b, c;
  random_topk(I, mask, {0, 1, 2}, 5, 7, a);
  random_topk(I, mask, {2, 0}, 5, 7, b);  // other users and order: same rows
  EXPECT_EQ(std::vector<int32_t>(a.begin() + 10, a.end()),
            std::vector<int32_t>(b.begin(), b.begin() + 5));
  std::set<int32_t> u1(a.begin() + 5, a.begin() + 8);
  EXPECT_EQ(u1, (std::set<int32_t>{37, 38, 39}));
  EXPECT_EQ(a[8], -1);
  EXPECT_EQ(a[9], -1);
  for (int k = 0; k < 5; ++k) EXPECT_EQ(a[10 + k] % 2, 1);
  std::set<int32_t> u0(a.begin(), a.begin() + 5);
  EXPECT_EQ(u0.size(), 5u);
  random_topk(I, mask, {0}, 5, 8, c);
  EXPECT_NE(std::vector<int32_t>(a.begin(), a.begin() + 5), c);  // the seed matters
  // Uniformity over many users (each its own Philox stream): each item's count is
  // ~ Binomial(users, 5/40).
  std::vector<int32_t> users(4000);
  for (int i = 0; i < 4000; ++i) users[i] = i;
  std::vector<int64_t> counts(I, 0);
  const Csr none = csr_from_pairs(4000, {}, {});
  random_topk(I, none, users, 5, 1000, c);
  for (int32_t x : c) counts[x]++;
  double chi2 = 0;
  const double expect = 4000.0 * 5 / I;
  for (int64_t n : counts) chi2 += (n - expect) * (n - expect) / expect;
  EXPECT_LT(chi2, 80.0);  // 39 degrees of freedom: p < 1e-4 above ~80
}

TEST(TrainingCurvesCpuTest, ReadsNumericKeysAndGaps) {
  const std::string dir = testing::temp_dir("curves");
  const std::string path = dir + "/metrics.jsonl";
  std::ofstream(path) << "{\"epoch\": 1, \"loss\": 0.9, \"lr\": 0.01, \"tag\": \"x\"}\n"
                         "\n"
                         "{\"epoch\": 2, \"loss\": 0.5, \"val/recall@20\": 0.1}\n";
  const nlohmann::json j = read_training_curves(path);
  EXPECT_EQ(j["x_key"], "epoch");
  EXPECT_EQ(j["x"], nlohmann::json::parse("[1.0, 2.0]"));
  EXPECT_EQ(j["series"]["loss"], nlohmann::json::parse("[0.9, 0.5]"));
  EXPECT_TRUE(j["series"]["lr"][1].is_null());
  EXPECT_TRUE(j["series"]["val/recall@20"][0].is_null());
  EXPECT_FALSE(j["series"].contains("tag"));
  std::ofstream(path) << "{\"epoch\": 1}\nnot json\n";
  EXPECT_THROW(read_training_curves(path), Error);
  EXPECT_THROW(read_training_curves(dir + "/missing.jsonl"), Error);
}

TEST(ReportHtmlCpuTest, SelfContainedAndEscaped) {
  nlohmann::json rep;
  rep["dataset"] = "toy<&>";
  rep["ks"] = {5, 10};
  rep["split"] = "test";
  rep["mask"] = "train+val";
  nlohmann::json m = {{"recall@5", 0.1}, {"recall@10", 0.2}, {"ndcg@5", 0.05}, {"ndcg@10", 0.07}};
  rep["metrics"] = {{"model", m}, {"most_popular", m}, {"random", m}};
  rep["curves"] = {{"k", {1, 2}},
                   {"model", {{"recall", {0.1, 0.2}}, {"ndcg", {0.1, 0.15}}}},
                   {"most_popular", {{"recall", {0.05, 0.1}}, {"ndcg", {0.05, 0.07}}}},
                   {"random", {{"recall", {0.0, 0.0}}, {"ndcg", {0.0, 0.0}}}}};
  rep["slices"] = nlohmann::json::array(
      {{{"name", "all users"}, {"users", 3}, {"model", m}, {"most_popular", m}, {"random", m}}});
  rep["cold_items"] = {
      {"items", 0}, {"test_edges", 0}, {"model", m}, {"most_popular", m}, {"random", m}};
  rep["examples"] = nlohmann::json::array(
      {{{"user", "u<1>"},
        {"history", {{{"id", "i1"}, {"title", "A \"book\""}, {"category", "Books"}}}},
        {"recommendations", {{{"id", "i2"}, {"title", "<b>x</b>"}, {"hit", true}}}}}});
  rep["build"] = {{"version", "0.1.0"}, {"commit", "abc"}};
  const std::string h = render_report_html(rep);
  EXPECT_NE(h.find("<svg"), std::string::npos);
  EXPECT_EQ(h.find("<script"), std::string::npos);
  EXPECT_EQ(h.find("<link"), std::string::npos);
  EXPECT_EQ(h.find("<b>x</b>"), std::string::npos);
  EXPECT_NE(h.find("&lt;b&gt;x&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(h.find("toy&lt;&amp;&gt;"), std::string::npos);
  EXPECT_NE(h.find("No run directory"), std::string::npos);
}

}  // namespace
}  // namespace gnnrec
