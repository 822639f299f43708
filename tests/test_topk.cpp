// Masked top-K: every variant against the naive reference (all scores in double, full sort).
// Scores are compared with a tolerance; ids exactly where scores are separated and as sets
// inside groups of (near-)tied scores; every returned id must be a real, unmasked, unique item
// whose own score matches. Integer-valued inputs make every dot product exact in fp32, so there
// the ids (tie-break by smaller id included) must match exactly.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "kernels/topk.h"
#include "runtime/ops_topk.h"
#include "testing/testing.h"

namespace gnnrec {
namespace {

// fp32 dot products of length <= 128 with |terms| <= 1 differ between summation orders by at
// most ~d * 2^-24 * (partial sums <= d), about 1e-4 at d = 128 in the worst case and ~1e-6
// typically; an indexing error moves a score by ~0.1. Scores closer than twice this are treated
// as tied when comparing ids.
constexpr double kScoreAtol = 2e-4;
constexpr double kScoreRtol = 1e-5;

struct Inputs {
  int64_t B = 0, N = 0, d = 0;
  int K = 1;
  Tensor Q, V, indptr, indices;
  std::vector<std::vector<int32_t>> excl;  // per row, sorted
};

struct Result {
  std::vector<int32_t> ids;
  std::vector<float> scores;
};

enum class Values { kUniform, kInteger, kDuplicates };

Inputs make_inputs(int64_t B, int64_t N, int64_t d, int K, Values values, double mask_rate) {
  Inputs in;
  in.B = B;
  in.N = N;
  in.d = d;
  in.K = K;
  std::vector<float> q(B * d), v(N * d);
  auto& g = testing::rng();
  if (values == Values::kInteger) {
    std::uniform_int_distribution<int> u(-1, 1);
    for (auto& x : q) x = static_cast<float>(u(g));
    for (auto& x : v) x = static_cast<float>(u(g));
  } else {
    q = testing::random_floats(q.size());
    v = testing::random_floats(v.size());
    if (values == Values::kDuplicates && N > 1) {
      // Every third item copies an earlier one: exact duplicate scores in any backend whose
      // arithmetic does not depend on the item's position.
      std::uniform_int_distribution<int64_t> pick(0, N - 1);
      for (int64_t j = 2; j < N; j += 3) {
        const int64_t src = pick(g) % j;
        std::copy(v.begin() + src * d, v.begin() + (src + 1) * d, v.begin() + j * d);
      }
    }
  }
  in.Q = Tensor::from_vector(q, {B, d});
  in.V = Tensor::from_vector(v, {N, d});
  std::vector<int64_t> ptr{0};
  std::vector<int32_t> idx;
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  in.excl.resize(B);
  for (int64_t b = 0; b < B; ++b) {
    std::vector<int32_t>& row = in.excl[b];
    if (b % 7 == 3) {  // everything masked
      for (int64_t j = 0; j < N; ++j) row.push_back(static_cast<int32_t>(j));
    } else if (b % 5 != 1) {  // rows b % 5 == 1 mask nothing
      for (int64_t j = 0; j < N; ++j) {
        if (u01(g) < mask_rate) row.push_back(static_cast<int32_t>(j));
      }
    }
    idx.insert(idx.end(), row.begin(), row.end());
    ptr.push_back(static_cast<int64_t>(idx.size()));
  }
  in.indptr = Tensor::from_vector(ptr);
  in.indices = Tensor::from_vector(idx, {static_cast<int64_t>(idx.size())});
  return in;
}

Result run(const Inputs& in, Device dev, TopKVariant v) {
  Tensor ids = Tensor::empty({in.B, in.K}, DType::kI32, dev);
  Tensor scores = Tensor::empty({in.B, in.K}, DType::kF32, dev);
  topk_masked(in.Q.to(dev), in.V.to(dev), in.indptr.to(dev), in.indices.to(dev), in.K, ids, scores,
              v);
  return {ids.to_vector<int32_t>(), scores.to_vector<float>()};
}

double exact_score(const Inputs& in, int64_t b, int32_t j) {
  double acc = 0;
  const float* q = in.Q.data<float>() + b * in.d;
  const float* v = in.V.data<float>() + static_cast<int64_t>(j) * in.d;
  for (int64_t k = 0; k < in.d; ++k) acc += static_cast<double>(q[k]) * v[k];
  return acc;
}

// got vs ref (both best-first, padded with -1 / -inf).
::testing::AssertionResult same_topk(const Inputs& in, const Result& got, const Result& ref,
                                     bool exact_ids) {
  const int K = in.K;
  for (int64_t b = 0; b < in.B; ++b) {
    auto fail = [&](const std::string& what) {
      return ::testing::AssertionFailure()
             << "row " << b << ": " << what << " (B=" << in.B << " N=" << in.N << " d=" << in.d
             << " K=" << K << ", seed " << testing::test_seed() << ")";
    };
    const int32_t* gi = got.ids.data() + b * K;
    const float* gs = got.scores.data() + b * K;
    const int32_t* ri = ref.ids.data() + b * K;
    const float* rs = ref.scores.data() + b * K;
    std::set<int32_t> seen;
    for (int r = 0; r < K; ++r) {
      if ((gi[r] < 0) != (ri[r] < 0)) {
        return fail(
            fmt::format("position {}: id {} vs reference {} (padding differs)", r, gi[r], ri[r]));
      }
      if (gi[r] < 0) {
        if (!(std::isinf(gs[r]) && gs[r] < 0)) return fail(fmt::format("padding score {}", gs[r]));
        continue;
      }
      if (gi[r] >= in.N) return fail(fmt::format("id {} out of range", gi[r]));
      if (!seen.insert(gi[r]).second) return fail(fmt::format("id {} returned twice", gi[r]));
      if (std::binary_search(in.excl[b].begin(), in.excl[b].end(), gi[r])) {
        return fail(fmt::format("masked id {} returned", gi[r]));
      }
      const double tol = kScoreAtol + kScoreRtol * std::fabs(rs[r]);
      if (std::fabs(static_cast<double>(gs[r]) - rs[r]) > tol) {
        return fail(fmt::format("position {}: score {} vs reference {}", r, gs[r], rs[r]));
      }
      if (std::fabs(exact_score(in, b, gi[r]) - gs[r]) > tol) {
        return fail(fmt::format("position {}: id {} has score {}, reported {}", r, gi[r],
                                exact_score(in, b, gi[r]), gs[r]));
      }
      if (r > 0 && gs[r] > gs[r - 1]) return fail(fmt::format("not sorted at {}", r));
      if (exact_ids && gi[r] != ri[r]) {
        return fail(fmt::format("position {}: id {} vs reference {}", r, gi[r], ri[r]));
      }
    }
    if (exact_ids) continue;
    // Tie groups of the reference: runs of positions whose neighbouring scores are within
    // 2 * tol. Every group but the last must hold the same ids (the last one may be cut by K,
    // where any of the tied items is right; their scores were checked above).
    int start = 0;
    while (start < K && ri[start] >= 0) {
      int end = start + 1;
      while (end < K && ri[end] >= 0 &&
             std::fabs(static_cast<double>(rs[end - 1]) - rs[end]) <=
                 2 * (kScoreAtol + kScoreRtol * std::fabs(rs[end]))) {
        ++end;
      }
      const bool last = end >= K || ri[end] < 0;
      if (!last) {
        std::set<int32_t> a(gi + start, gi + end), c(ri + start, ri + end);
        if (a != c)
          return fail(fmt::format("ids at positions [{}, {}) differ as sets", start, end));
      }
      start = end;
    }
  }
  return ::testing::AssertionSuccess();
}

struct Shape4 {
  int64_t B, N, d;
  int K;
};

// Batch 1, d not a multiple of 32, N smaller than a tile, N crossing the CPU chunk (8192),
// B crossing the CPU query block (256), K = 1, K > candidates, K = 1000, N = 0, d = 0.
const Shape4 kShapes[] = {
    {1, 1, 1, 1},      {1, 5000, 64, 10},   {37, 300, 33, 7},  {130, 700, 64, 20},
    {5, 50, 16, 100},  {8, 1500, 40, 1000}, {3, 2000, 1, 1},   {4, 0, 8, 5},
    {6, 100, 0, 5},    {70, 4500, 128, 50}, {2, 129, 95, 128}, {3, 9000, 8, 10},
    {300, 400, 16, 5},
};

void check_variant(Device dev, TopKVariant v, int max_k) {
  GNNREC_SEED_TRACE();
  for (const Shape4& s : kShapes) {
    if (s.K > max_k) continue;
    for (Values vals : {Values::kUniform, Values::kInteger, Values::kDuplicates}) {
      SCOPED_TRACE(fmt::format("B={} N={} d={} K={} values={} variant={}", s.B, s.N, s.d, s.K,
                               static_cast<int>(vals), topk_variant_name(v)));
      const Inputs in = make_inputs(s.B, s.N, s.d, s.K, vals, 0.2);
      const Result ref = run(in, Device::cpu(), TopKVariant::kCpuNaive);
      const Result got = run(in, dev, v);
      EXPECT_TRUE(same_topk(in, got, ref, vals == Values::kInteger || s.d == 0));
    }
  }
}

TEST(TopKCpuTest, NaiveReferenceOnAHandExample) {
  // q = (1, 0); items score 3, -1, 3, 2, 5 (item 4 masked): 0 and 2 tie, 0 first.
  Inputs in;
  in.B = 1;
  in.N = 5;
  in.d = 2;
  in.K = 4;
  in.Q = Tensor::from_vector(std::vector<float>{1, 0}, {1, 2});
  in.V = Tensor::from_vector(std::vector<float>{3, 1, -1, 0, 3, 7, 2, 2, 5, 5}, {5, 2});
  in.indptr = Tensor::from_vector(std::vector<int64_t>{0, 1});
  in.indices = Tensor::from_vector(std::vector<int32_t>{4});
  in.excl = {{4}};
  for (TopKVariant v : {TopKVariant::kCpuNaive, TopKVariant::kCpuBlocked}) {
    const Result r = run(in, Device::cpu(), v);
    EXPECT_EQ(r.ids, (std::vector<int32_t>{0, 2, 3, 1})) << topk_variant_name(v);
    EXPECT_EQ(r.scores, (std::vector<float>{3, 3, 2, -1})) << topk_variant_name(v);
  }
  in.K = 6;
  const Result r = run(in, Device::cpu(), TopKVariant::kCpuBlocked);
  EXPECT_EQ(r.ids, (std::vector<int32_t>{0, 2, 3, 1, -1, -1}));
  EXPECT_TRUE(std::isinf(r.scores[4]) && r.scores[5] < 0);
}

TEST(TopKCpuTest, BlockedMatchesNaive) {
  check_variant(Device::cpu(), TopKVariant::kCpuBlocked, 1000);
}

TEST(TopKCpuTest, AutoIsBlockedOnTheCpu) {
  EXPECT_EQ(topk_masked_variant(Device::cpu(), 10, 10, 5), TopKVariant::kCpuBlocked);
  const Inputs in = make_inputs(20, 300, 24, 10, Values::kUniform, 0.3);
  const Result a = run(in, Device::cpu(), TopKVariant::kAuto);
  const Result b = run(in, Device::cpu(), TopKVariant::kCpuBlocked);
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.scores, b.scores);
}

TEST(TopKCpuTest, SameResultWhateverTheBatchSplit) {
  // The evaluator streams users in batches: row b's answer must not depend on its neighbours.
  const Inputs in = make_inputs(150, 900, 20, 15, Values::kUniform, 0.1);
  const Result all = run(in, Device::cpu(), TopKVariant::kCpuBlocked);
  const auto ptr = in.indptr.to_vector<int64_t>();
  const auto idx = in.indices.to_vector<int32_t>();
  for (int64_t b0 : {0, 7, 149}) {
    const int64_t b1 = std::min<int64_t>(in.B, b0 + 9);
    Inputs part = in;
    part.B = b1 - b0;
    part.Q = in.Q.rows(b0, b1).clone();
    std::vector<int64_t> p;
    for (int64_t b = b0; b <= b1; ++b) p.push_back(ptr[b] - ptr[b0]);
    part.indptr = Tensor::from_vector(p);
    std::vector<int32_t> x(idx.begin() + ptr[b0], idx.begin() + ptr[b1]);
    part.indices = Tensor::from_vector(x, {static_cast<int64_t>(x.size())});
    const Result r = run(part, Device::cpu(), TopKVariant::kCpuBlocked);
    for (int64_t b = b0; b < b1; ++b) {
      for (int k = 0; k < in.K; ++k) {
        ASSERT_EQ(r.ids[(b - b0) * in.K + k], all.ids[b * in.K + k]) << "row " << b;
        ASSERT_EQ(r.scores[(b - b0) * in.K + k], all.scores[b * in.K + k]) << "row " << b;
      }
    }
  }
}

TEST(TopKCpuTest, ExclusionListsMayStartAnywhereInIndices) {
  // excl_indptr[0] != 0: rows index into excl_indices as given (a slice of a bigger CSR).
  const Inputs in = make_inputs(3, 50, 8, 5, Values::kUniform, 0.5);
  Inputs shifted = in;
  auto p = in.indptr.to_vector<int64_t>();
  auto x = in.indices.to_vector<int32_t>();
  for (auto& v : p) v += 3;
  x.insert(x.begin(), {49, 0, 7});
  shifted.indptr = Tensor::from_vector(p);
  shifted.indices = Tensor::from_vector(x, {static_cast<int64_t>(x.size())});
  const Result a = run(in, Device::cpu(), TopKVariant::kCpuBlocked);
  const Result b = run(shifted, Device::cpu(), TopKVariant::kCpuBlocked);
  EXPECT_EQ(a.ids, b.ids);
}

TEST(TopKCpuTest, WorkspaceIsBoundedByTheTile) {
  // Gowalla-sized and ten times the items: the scratch does not grow with B or N; it is a
  // small tile and K-entry heaps per thread (plus split heaps when B is small).
  const size_t threads = static_cast<size_t>(omp_get_max_threads());
  const size_t a = topk_masked_cpu_workspace_bytes(29858, 40981, 64, 20);
  const size_t b = topk_masked_cpu_workspace_bytes(298580, 409810, 64, 20);
  EXPECT_EQ(a, b);
  EXPECT_LT(a, threads * (size_t{1} << 20));
  EXPECT_LT(topk_masked_cpu_workspace_bytes(1, 1000000, 64, 1000), threads * (size_t{1} << 20));
}

TEST(TopKCpuTest, SameAnswerForAnyThreadCount) {
  // The thread count decides how the item range is split for small B; the answer must not
  // change (1 thread: no split; 3 and 8: splits of different lengths).
  GNNREC_SEED_TRACE();
  const int saved = omp_get_max_threads();
  for (const Shape4& s :
       {Shape4{1, 5000, 64, 10}, Shape4{20, 3000, 33, 50}, Shape4{2, 900, 8, 1000}}) {
    const Inputs in = make_inputs(s.B, s.N, s.d, s.K, Values::kInteger, 0.2);
    const Result ref = run(in, Device::cpu(), TopKVariant::kCpuNaive);
    for (int t : {1, 3, 8}) {
      omp_set_num_threads(t);
      SCOPED_TRACE(fmt::format("threads={} B={} N={} K={}", t, s.B, s.N, s.K));
      EXPECT_TRUE(same_topk(in, run(in, Device::cpu(), TopKVariant::kCpuBlocked), ref, true));
    }
  }
  omp_set_num_threads(saved);
}

TEST(TopKCpuTest, RejectsBadArguments) {
  Inputs in = make_inputs(2, 10, 4, 3, Values::kUniform, 0.0);
  Tensor ids = Tensor::empty({2, 3}, DType::kI32), sc = Tensor::empty({2, 3}, DType::kF32);
  // Unsorted and out-of-range exclusions.
  Tensor ptr = Tensor::from_vector(std::vector<int64_t>{0, 2, 2});
  EXPECT_THROW(
      topk_masked(in.Q, in.V, ptr, Tensor::from_vector(std::vector<int32_t>{5, 1}), 3, ids, sc),
      Error);
  EXPECT_THROW(
      topk_masked(in.Q, in.V, ptr, Tensor::from_vector(std::vector<int32_t>{1, 10}), 3, ids, sc),
      Error);
  // K mismatch, K = 0, d mismatch, a CUDA-only variant on the CPU.
  EXPECT_THROW(topk_masked(in.Q, in.V, in.indptr, in.indices, 4, ids, sc), Error);
  EXPECT_THROW(topk_masked(in.Q, in.V, in.indptr, in.indices, 0, ids, sc), Error);
  EXPECT_THROW(
      topk_masked(in.Q, testing::random_tensor({10, 5}), in.indptr, in.indices, 3, ids, sc), Error);
  EXPECT_THROW(topk_masked(in.Q, in.V, in.indptr, in.indices, 3, ids, sc, TopKVariant::kCudaFused),
               Error);
}

TEST(TopKCudaTest, FusedMatchesNaive) {
  GNNREC_REQUIRE_GPU();
  check_variant(Device::cuda(0), TopKVariant::kCudaFused, kTopKFusedMaxK);
}

TEST(TopKCudaTest, GemmSelectMatchesNaive) {
  GNNREC_REQUIRE_GPU();
  check_variant(Device::cuda(0), TopKVariant::kCudaGemmSelect, 1000);
}

TEST(TopKCudaTest, FusedWithoutItemSplitsMatchesCpu) {
  // Enough queries (>= 2 blocks of 32 per SM) that the fused kernel runs without splitting the
  // item range, so its direct write-out path is covered too.
  GNNREC_REQUIRE_GPU();
  GNNREC_SEED_TRACE();
  const Inputs in = make_inputs(12000, 300, 20, 10, Values::kUniform, 0.2);
  const Result ref = run(in, Device::cpu(), TopKVariant::kCpuBlocked);
  EXPECT_TRUE(same_topk(in, run(in, Device::cuda(0), TopKVariant::kCudaFused), ref, false));
  EXPECT_TRUE(same_topk(in, run(in, Device::cuda(0), TopKVariant::kCudaGemmSelect), ref, false));
}

TEST(TopKCudaTest, GemmSelectOverSeveralTilesMatchesCpu) {
  // N large enough that the GEMM variant walks several item chunks and query chunks.
  GNNREC_REQUIRE_GPU();
  GNNREC_SEED_TRACE();
  const Inputs in = make_inputs(1100, 9000, 16, 30, Values::kUniform, 0.05);
  const Result ref = run(in, Device::cpu(), TopKVariant::kCpuBlocked);
  EXPECT_TRUE(same_topk(in, run(in, Device::cuda(0), TopKVariant::kCudaGemmSelect), ref, false));
  EXPECT_TRUE(same_topk(in, run(in, Device::cuda(0), TopKVariant::kAuto), ref, false));
}

}  // namespace
}  // namespace gnnrec
