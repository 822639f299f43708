// Node features: TF-IDF against a dense naive reference, the randomised SVD against an exact
// Jacobi decomposition, price parsing, category/brand top-K with other/missing, fit-mask
// isolation (nothing leaks from non-fit items), save/transform bit-exactness, edge cases.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "runtime/data/features.h"
#include "runtime/npy.h"
#include "testing/testing.h"

namespace gnnrec {
namespace {

// TF-IDF values are float-rounded once from a double computation.
constexpr double kTfidfAtol = 1e-6;
// Randomised SVD with 4 power iterations on a matrix with a clear spectral gap: exact to ~1e-10
// in double; 1e-7 leaves room for the Gram-matrix squaring of small singular values.
constexpr double kSvdRtol = 1e-7;
constexpr double kSubspaceTol = 1e-6;

int col(const FeatureMatrix& f, const std::string& name) {
  for (size_t i = 0; i < f.names.size(); ++i)
    if (f.names[i] == name) return static_cast<int>(i);
  ADD_FAILURE() << "no column " << name;
  return -1;
}
bool has_col(const FeatureMatrix& f, const std::string& name) {
  return std::find(f.names.begin(), f.names.end(), name) != f.names.end();
}
float at(const FeatureMatrix& f, int64_t row, const std::string& name) {
  const int c = col(f, name);
  return c < 0 ? NAN : f.values.data<float>()[row * static_cast<int64_t>(f.names.size()) + c];
}
std::vector<float> row_of(const FeatureMatrix& f, int64_t r) {
  const int64_t w = static_cast<int64_t>(f.names.size());
  const float* p = f.values.data<float>() + r * w;
  return std::vector<float>(p, p + w);
}
bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

const char* kWords[] = {"steel", "pan",   "chef",  "knife", "garden", "hose",
                        "usb",   "cable", "pro",   "black", "mini",   "pack",
                        "set",   "wood",  "glass", "lamp",  "led",    "bag"};

std::string random_title(int words) {
  std::string t;
  auto ids = testing::random_ints(words, 0, std::size(kWords) - 1);
  for (int i = 0; i < words; ++i) t += (i ? " " : "") + std::string(kWords[ids[i]]);
  return t;
}

std::vector<RawItemMeta> random_catalogue(int n) {
  std::vector<RawItemMeta> items(n);
  const char* cats[] = {"Kitchen", "Garden", "Tools", "Lighting", "Bags", "Cables"};
  const char* brands[] = {"Acme", "Globex", "Initech", "Umbrella", "Hooli"};
  for (int i = 0; i < n; ++i) {
    auto r = testing::random_ints(6, 0, 99);
    RawItemMeta& m = items[i];
    m.present = r[0] >= 5;
    if (r[1] >= 10) m.title = random_title(2 + r[1] % 6);
    if (r[2] >= 10)
      m.categories = {"Home", cats[r[2] % 6], std::string("Sub") + std::to_string(r[3] % 4)};
    if (r[4] >= 20) {
      m.price = 1.0 + r[4] * 1.7;
    } else if (r[4] >= 10) {
      m.price_text = "$" + std::to_string(r[4]) + ".50";
    } else if (r[4] >= 5) {
      m.price_text = "call for price";
    }
    if (r[5] >= 10) m.brand = brands[r[5] % 5];
  }
  return items;
}

// ---------------------------------------------------------------- tokenizer and TF-IDF

TEST(TfidfCpuTest, TokenizerLowercasesAndSplitsOnPunctuation) {
  const auto t = tokenize_title(
      "Chef's 4K-TV, a B  x2 \xC3\x9C"
      "ber!");
  const std::vector<std::string> want = {"chef", "4k", "tv", "x2",
                                         "\xC3\x9C"
                                         "ber"};
  EXPECT_EQ(t, want);
  EXPECT_TRUE(tokenize_title("").empty());
  EXPECT_TRUE(tokenize_title("a b c ! ?").empty());
}

TEST(TfidfCpuTest, MatchesDenseNaiveReference) {
  GNNREC_SEED_TRACE();
  const int n = 300, min_df = 3;
  std::vector<std::string> docs(n);
  std::vector<uint8_t> mask(n);
  for (int i = 0; i < n; ++i) {
    const auto r = testing::random_ints(2, 0, 9);
    docs[i] =
        r[0] == 0 ? "" : random_title(1 + r[0]) + (r[1] == 0 ? " rare" + std::to_string(i) : "");
    mask[i] = r[1] < 7;
  }
  const TfidfVocabulary v = fit_tfidf(docs, mask, min_df, 1000);

  // Naive: document frequencies by sets, vocabulary sorted by (df desc, term).
  std::map<std::string, int> df;
  int num_docs = 0;
  for (int i = 0; i < n; ++i) {
    if (!mask[i]) continue;
    ++num_docs;
    std::set<std::string> s;
    for (auto& t : tokenize_title(docs[i])) s.insert(t);
    for (auto& t : s) df[t]++;
  }
  std::vector<std::pair<int, std::string>> order;
  for (auto& [t, d] : df)
    if (d >= min_df) order.emplace_back(-d, t);
  std::sort(order.begin(), order.end());
  ASSERT_EQ(v.terms.size(), order.size());
  ASSERT_EQ(v.num_docs, num_docs);
  for (size_t j = 0; j < order.size(); ++j) {
    EXPECT_EQ(v.terms[j], order[j].second);
    const double idf = std::log((1.0 + num_docs) / (1.0 + df[order[j].second])) + 1.0;
    EXPECT_NEAR(v.idf[j], idf, 1e-6);
  }
  const SparseMatrix m = tfidf_transform(v, docs);
  ASSERT_EQ(m.rows, n);
  ASSERT_EQ(m.cols, static_cast<int64_t>(v.terms.size()));
  const size_t V = v.terms.size();
  std::vector<float> got(n * V, 0.0f), ref(n * V, 0.0f);
  for (int r = 0; r < n; ++r)
    for (int64_t p = m.indptr[r]; p < m.indptr[r + 1]; ++p) got[r * V + m.indices[p]] = m.values[p];
  for (int r = 0; r < n; ++r) {
    std::vector<double> row(V, 0.0);
    for (auto& t : tokenize_title(docs[r]))
      for (size_t j = 0; j < V; ++j)
        if (v.terms[j] == t) row[j] += 1;
    double norm = 0;
    for (size_t j = 0; j < V; ++j) {
      if (row[j] > 0) row[j] = (1 + std::log(row[j])) * v.idf[j];
      norm += row[j] * row[j];
    }
    for (size_t j = 0; j < V; ++j) ref[r * V + j] = norm > 0 ? row[j] / std::sqrt(norm) : 0.0;
  }
  EXPECT_TRUE(testing::all_close(got, ref, kTfidfAtol, 0));
}

TEST(TfidfCpuTest, MaxVocabKeepsHighestDocumentFrequency) {
  const std::vector<std::string> docs = {"aa bb cc", "aa bb", "aa dd", "aa bb cc dd"};
  const TfidfVocabulary v = fit_tfidf(docs, {1, 1, 1, 1}, 1, 2);
  EXPECT_EQ(v.terms, (std::vector<std::string>{"aa", "bb"}));
  const TfidfVocabulary w = fit_tfidf(docs, {1, 1, 1, 1}, 3, 100);
  EXPECT_EQ(w.terms, (std::vector<std::string>{"aa", "bb"}));
  const TfidfVocabulary none = fit_tfidf(docs, {0, 0, 0, 0}, 1, 100);
  EXPECT_TRUE(none.terms.empty());
}

// ---------------------------------------------------------------- linear algebra

std::vector<double> random_doubles(size_t n) {
  auto f = testing::random_floats(n, -1, 1);
  return std::vector<double>(f.begin(), f.end());
}

TEST(SvdCpuTest, JacobiEigenDecomposesSymmetricMatrices) {
  GNNREC_SEED_TRACE();
  for (int n : {1, 2, 7, 33}) {
    SCOPED_TRACE("n=" + std::to_string(n));
    auto b = random_doubles(n * n);
    std::vector<double> a(n * n);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) a[i * n + j] = b[i * n + j] + b[j * n + i];
    std::vector<double> lam, w;
    jacobi_eigen(a, n, &lam, &w);
    for (int j = 1; j < n; ++j) EXPECT_GE(lam[j - 1], lam[j]);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        double rec = 0, dot = 0;
        for (int k = 0; k < n; ++k) {
          rec += w[i * n + k] * lam[k] * w[j * n + k];
          dot += w[k * n + i] * w[k * n + j];
        }
        EXPECT_NEAR(rec, a[i * n + j], 1e-12);
        EXPECT_NEAR(dot, i == j ? 1.0 : 0.0, 1e-12);
      }
  }
}

TEST(SvdCpuTest, OrthonormalizeKeepsSpanAndFindsRank) {
  GNNREC_SEED_TRACE();
  const int rows = 100, cols = 8;
  auto a = random_doubles(rows * cols);
  for (int r = 0; r < rows; ++r) a[r * cols + 5] = 2 * a[r * cols + 1] - a[r * cols + 3];
  const auto orig = a;
  const int rank = orthonormalize_columns(&a, rows, cols);
  EXPECT_EQ(rank, 7);
  // Non-zero columns are orthonormal; every original column lies in their span.
  for (int i = 0; i < cols; ++i)
    for (int j = 0; j < cols; ++j) {
      double d = 0;
      for (int r = 0; r < rows; ++r) d += a[r * cols + i] * a[r * cols + j];
      EXPECT_NEAR(d, (i == j && i < rank) ? 1.0 : 0.0, 1e-12);
    }
  for (int c = 0; c < cols; ++c) {
    std::vector<double> proj(rows, 0.0);
    for (int q = 0; q < cols; ++q) {
      double d = 0;
      for (int r = 0; r < rows; ++r) d += a[r * cols + q] * orig[r * cols + c];
      for (int r = 0; r < rows; ++r) proj[r] += d * a[r * cols + q];
    }
    for (int r = 0; r < rows; ++r) EXPECT_NEAR(proj[r], orig[r * cols + c], 1e-10);
  }
}

// A rows x cols sparse matrix U diag(s) Vᵀ with a planted geometric spectrum (ratio 0.6, so
// there is a gap everywhere), then about a quarter of the rows and of the columns zeroed: that
// keeps the rank at most rank_limit and exercises empty CSR rows and unused columns.
SparseMatrix planted_matrix(int rows, int cols, int rank_limit) {
  std::vector<double> dense(rows * cols, 0.0);
  const auto u = random_doubles(rows * rank_limit), v = random_doubles(cols * rank_limit);
  for (int k = 0; k < rank_limit; ++k) {
    const double s = std::pow(0.6, k) * 10;
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c)
        dense[r * cols + c] += s * u[r * rank_limit + k] * v[c * rank_limit + k];
  }
  const auto keep_row = testing::random_ints(rows, 0, 3),
             keep_col = testing::random_ints(cols, 0, 3);
  SparseMatrix m;
  m.rows = rows;
  m.cols = cols;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c)
      if ((r == 0 || keep_row[r]) && (c == 0 || keep_col[c])) {
        m.indices.push_back(c);
        m.values.push_back(static_cast<float>(dense[r * cols + c]));
      }
    m.indptr.push_back(m.nnz());
  }
  return m;
}

void exact_svd(const SparseMatrix& m, std::vector<double>* s, std::vector<double>* v) {
  const int c = static_cast<int>(m.cols);
  std::vector<double> ata(c * c, 0.0);
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t p = m.indptr[r]; p < m.indptr[r + 1]; ++p)
      for (int64_t q = m.indptr[r]; q < m.indptr[r + 1]; ++q)
        ata[m.indices[p] * c + m.indices[q]] += double(m.values[p]) * m.values[q];
  jacobi_eigen(ata, c, s, v);
  for (auto& x : *s) x = std::sqrt(std::max(x, 0.0));
}

TEST(SvdCpuTest, RandomizedSvdMatchesExactDecomposition) {
  GNNREC_SEED_TRACE();
  struct Case {
    int rows, cols, rank_limit, k;
  } cases[] = {{120, 45, 45, 6}, {30, 12, 12, 12}, {1, 5, 1, 3}, {60, 40, 40, 1}};
  for (const auto& cs : cases) {
    SCOPED_TRACE(fmt::format("{}x{} k={}", cs.rows, cs.cols, cs.k));
    const SparseMatrix m = planted_matrix(cs.rows, cs.cols, cs.rank_limit);
    std::vector<double> s_ex, v_ex;
    exact_svd(m, &s_ex, &v_ex);
    RandomizedSvdOptions o;
    o.seed = testing::test_seed();
    const TruncatedSvd r = randomized_svd(m, cs.k, o);
    const int k = std::min({cs.k, cs.rows, cs.cols});
    ASSERT_EQ(r.k, k);
    const int c = cs.cols;
    for (int j = 0; j < k; ++j) {
      if (s_ex[j] < 1e-6 * s_ex[0]) continue;  // beyond the rank: checked by the next test
      EXPECT_NEAR(r.singular_values[j], s_ex[j], kSvdRtol * s_ex[0]) << "sigma " << j;
    }
    // Subspace: || V_r V_rᵀ - V_e V_eᵀ ||_F over the directions of non-zero singular values.
    int kk = 0;
    while (kk < k && s_ex[kk] >= 1e-6 * s_ex[0]) ++kk;
    double err = 0;
    for (int a = 0; a < c; ++a)
      for (int b = 0; b < c; ++b) {
        double pr = 0, pe = 0;
        for (int j = 0; j < kk; ++j) {
          pr += r.components[a * k + j] * r.components[b * k + j];
          pe += v_ex[a * c + j] * v_ex[b * c + j];
        }
        err += (pr - pe) * (pr - pe);
      }
    EXPECT_LT(std::sqrt(err), kSubspaceTol);
  }
}

TEST(SvdCpuTest, RankDeficientMatrixGivesZeroTrailingComponents) {
  const SparseMatrix m = planted_matrix(50, 20, 3);
  const TruncatedSvd r = randomized_svd(m, 5, {});
  ASSERT_EQ(r.k, 5);
  EXPECT_GT(r.singular_values[2], 0.0);
  EXPECT_EQ(r.singular_values[3], 0.0);
  EXPECT_EQ(r.singular_values[4], 0.0);
  for (int c = 0; c < 20; ++c) EXPECT_EQ(r.components[c * 5 + 4], 0.0);
  SparseMatrix empty;
  empty.rows = 3;
  empty.cols = 4;
  empty.indptr = {0, 0, 0, 0};
  const TruncatedSvd z = randomized_svd(empty, 2, {});
  EXPECT_EQ(z.singular_values, (std::vector<double>{0.0, 0.0}));
}

// ---------------------------------------------------------------- price

TEST(PriceCpuTest, ParsesNumbersStringsAndRanges) {
  struct Case {
    const char* text;
    PriceParse want;
    double value;
  } cases[] = {
      {"$12.99", PriceParse::kOk, 12.99},
      {"12.99", PriceParse::kOk, 12.99},
      {" $1,299.00 ", PriceParse::kOk, 1299.0},
      {"$1,234,567", PriceParse::kOk, 1234567.0},
      {"$5.99 - $9.99", PriceParse::kOk, 7.99},
      {"5 to 7", PriceParse::kOk, 6.0},
      {"$3 \xE2\x80\x93 $5", PriceParse::kOk, 4.0},
      {"US$ 3.50", PriceParse::kOk, 3.5},
      {"USD 10", PriceParse::kOk, 10.0},
      {".99", PriceParse::kOk, 0.99},
      {"0", PriceParse::kOk, 0.0},
      {"", PriceParse::kMissing, 0},
      {"  ", PriceParse::kMissing, 0},
      {"null", PriceParse::kMissing, 0},
      {"None", PriceParse::kMissing, 0},
      {"-", PriceParse::kMissing, 0},
      {"N/A", PriceParse::kMissing, 0},
      {"call for price", PriceParse::kUnparseable, 0},
      {"-5", PriceParse::kUnparseable, 0},
      {"$1,29", PriceParse::kUnparseable, 0},
      {"1234,567", PriceParse::kUnparseable, 0},
      {"$5 -", PriceParse::kUnparseable, 0},
      {"$", PriceParse::kUnparseable, 0},
      {"12.99 USD extra", PriceParse::kUnparseable, 0},
      {".a-box-inner{background-color:#fff}", PriceParse::kUnparseable, 0},
  };
  for (const auto& c : cases) {
    double v = -1;
    EXPECT_EQ(parse_price(c.text, &v), c.want) << "'" << c.text << "'";
    if (c.want == PriceParse::kOk) {
      EXPECT_NEAR(v, c.value, 1e-12) << "'" << c.text << "'";
    }
  }
}

// ---------------------------------------------------------------- item features

RawItemMeta item(std::vector<std::string> cats, std::string brand, std::string title = "",
                 double price = NAN) {
  RawItemMeta m;
  m.present = true;
  m.categories = std::move(cats);
  m.brand = std::move(brand);
  m.title = std::move(title);
  m.price = price;
  return m;
}

TEST(ItemFeaturesCpuTest, CategoryAndBrandTopKWithOtherAndMissing) {
  std::vector<RawItemMeta> items = {
      item({"Books", "Cooking", "Baking"}, "Acme"),
      item({"Books", "Cooking", "Grill"}, "Acme"),
      item({"Books", "Travel"}, "Globex"),
      item({"Books", "Cooking"}, "  Acme "),
      item({}, ""),
      item({"Books", "Travel", "Baking"}, "Initech"),
      item({"Books", "Secret"}, "Secret"),  // not a fit item: its values are never counted
      RawItemMeta{},                        // no metadata at all
  };
  const std::vector<uint8_t> fit = {1, 1, 1, 1, 1, 1, 0, 1};
  FeatureOptions o;
  o.top_categories = 2;
  o.top_brands = 1;
  const FeatureMatrix f = build_item_features(items, fit, o, "");
  // "Books" is the root of every fit item's path, so it gets no column.
  const std::vector<std::string> head = {"cat=Cooking", "cat=Baking", "cat=other", "cat=missing"};
  ASSERT_GE(f.names.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(f.names.begin(), f.names.begin() + 4), head);
  EXPECT_EQ(f.names[f.names.size() - 3], "brand=Acme");
  EXPECT_EQ(f.names[f.names.size() - 2], "brand=other");
  EXPECT_EQ(f.names[f.names.size() - 1], "brand=missing");
  EXPECT_FALSE(has_col(f, "cat=Books"));
  const float want_cat[8][4] = {{1, 1, 0, 0}, {1, 0, 1, 0}, {0, 0, 1, 0}, {1, 0, 0, 0},
                                {0, 0, 0, 1}, {0, 1, 1, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
  const float want_brand[8][3] = {{1, 0, 0}, {1, 0, 0}, {0, 1, 0}, {1, 0, 0},
                                  {0, 0, 1}, {0, 1, 0}, {0, 1, 0}, {0, 0, 1}};
  for (int i = 0; i < 8; ++i) {
    SCOPED_TRACE("item " + std::to_string(i));
    for (int c = 0; c < 4; ++c) EXPECT_EQ(at(f, i, head[c]), want_cat[i][c]) << head[c];
    EXPECT_EQ(at(f, i, "brand=Acme"), want_brand[i][0]);
    EXPECT_EQ(at(f, i, "brand=other"), want_brand[i][1]);
    EXPECT_EQ(at(f, i, "brand=missing"), want_brand[i][2]);
  }
  // Missing metadata: every flag, zeros elsewhere.
  EXPECT_EQ(at(f, 7, "title_missing"), 1.0f);
  EXPECT_EQ(at(f, 7, "price_missing"), 1.0f);
  EXPECT_EQ(at(f, 7, "price_z"), 0.0f);
  float sum = 0;
  for (float x : row_of(f, 7)) sum += x;
  EXPECT_EQ(sum, 4.0f);
}

TEST(ItemFeaturesCpuTest, RootIsKeptWhenFitItemsDisagree) {
  std::vector<RawItemMeta> items = {item({"Books", "Cooking"}, "A"), item({"Music", "Jazz"}, "B")};
  const FeatureMatrix f = build_item_features(items, {1, 1}, {}, "");
  EXPECT_GE(col(f, "cat=Books"), 0);
  EXPECT_GE(col(f, "cat=Music"), 0);
  EXPECT_EQ(at(f, 0, "cat=Books"), 1.0f);
}

TEST(ItemFeaturesCpuTest, PriceIsLogZScoredOverFitItems) {
  GNNREC_SEED_TRACE();
  std::vector<RawItemMeta> items = random_catalogue(400);
  std::vector<uint8_t> fit(items.size());
  auto r = testing::random_ints(items.size(), 0, 3);
  for (size_t i = 0; i < items.size(); ++i) fit[i] = r[i] != 0;
  const FeatureMatrix f = build_item_features(items, fit, {}, "");
  double s = 0, s2 = 0;
  int n = 0, bad = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    double p;
    const PriceParse pp =
        items[i].present
            ? (std::isnan(items[i].price) ? parse_price(items[i].price_text, &p) : PriceParse::kOk)
            : PriceParse::kMissing;
    EXPECT_EQ(at(f, i, "price_missing"), pp == PriceParse::kOk ? 0.0f : 1.0f) << i;
    bad += pp == PriceParse::kUnparseable;
    if (pp != PriceParse::kOk || !fit[i]) continue;
    const double z = at(f, i, "price_z");
    s += z;
    s2 += z * z;
    ++n;
  }
  ASSERT_GT(n, 100);
  ASSERT_GT(bad, 0);
  EXPECT_NEAR(s / n, 0.0, 1e-5);
  EXPECT_NEAR(s2 / n, 1.0, 1e-5);
}

TEST(ItemFeaturesCpuTest, NonFitItemMetadataDoesNotChangeOtherItems) {
  GNNREC_SEED_TRACE();
  std::vector<RawItemMeta> items = random_catalogue(300);
  std::vector<uint8_t> fit(items.size(), 1);
  for (int i : {3, 50, 51, 200}) fit[i] = 0;
  FeatureOptions o;
  o.title_dims = 8;
  const FeatureMatrix a = build_item_features(items, fit, o, "");
  // Rewrite every field of the val/test-only items with values nobody else has.
  for (int i : {3, 50, 51, 200}) {
    items[i] =
        item({"Alien", "Zone", "Deep" + std::to_string(i)}, "NewBrand", "zzz yyy steel", 1e6 + i);
  }
  const FeatureMatrix b = build_item_features(items, fit, o, "");
  ASSERT_EQ(a.names, b.names);
  for (size_t i = 0; i < items.size(); ++i) {
    if (!fit[i]) continue;
    EXPECT_TRUE(bit_equal(row_of(a, i), row_of(b, i))) << "item " << i;
  }
}

TEST(ItemFeaturesCpuTest, TransformReproducesFitBitForBit) {
  GNNREC_SEED_TRACE();
  std::vector<RawItemMeta> items = random_catalogue(500);
  std::vector<uint8_t> fit(items.size());
  auto r = testing::random_ints(items.size(), 0, 4);
  for (size_t i = 0; i < items.size(); ++i) fit[i] = r[i] != 0;
  const std::string dir = testing::temp_dir("features_transform") + "/features";
  FeatureOptions o;
  o.title_dims = 7;
  o.top_categories = 4;
  o.top_brands = 3;
  o.seed = 99;
  const FeatureMatrix fitted = build_item_features(items, fit, o, dir);
  for (const char* f :
       {"features.json", "title_vocab.txt", "title_idf.npy", "title_projection.npy"})
    EXPECT_TRUE(std::filesystem::exists(dir + "/" + f)) << f;
  const FeatureMatrix again = transform_item_features(items, dir);
  ASSERT_EQ(again.names, fitted.names);
  EXPECT_TRUE(bit_equal(again.values.to_vector<float>(), fitted.values.to_vector<float>()));
  // A batch of "new" items (a reordered subset) gets the same rows.
  std::vector<RawItemMeta> subset = {items[17], items[3], items[499]};
  const FeatureMatrix sub = transform_item_features(subset, dir);
  EXPECT_TRUE(bit_equal(row_of(sub, 0), row_of(fitted, 17)));
  EXPECT_TRUE(bit_equal(row_of(sub, 1), row_of(fitted, 3)));
  EXPECT_TRUE(bit_equal(row_of(sub, 2), row_of(fitted, 499)));
  // features.json lists every column in order.
  const auto j = nlohmann::json::parse(read_file(dir + "/features.json"));
  ASSERT_EQ(j["columns"].size(), fitted.names.size());
  for (size_t c = 0; c < fitted.names.size(); ++c)
    EXPECT_EQ(j["columns"][c]["name"], fitted.names[c]);
  EXPECT_EQ(load_npy(dir + "/title_projection.npy").shape(),
            (Shape{int64_t(j["title"]["vocab_size"]), 7}));
  // Fitting twice gives the same bytes (the SVD is seeded).
  const FeatureMatrix twice = build_item_features(items, fit, o, "");
  EXPECT_TRUE(bit_equal(twice.values.to_vector<float>(), fitted.values.to_vector<float>()));
}

TEST(ItemFeaturesCpuTest, TitleSvdCapturesTitleSimilarity) {
  // Two families of titles; their SVD rows must be much closer within a family than across.
  std::vector<RawItemMeta> items;
  for (int i = 0; i < 40; ++i)
    items.push_back(
        item({}, "", i % 2 ? "steel chef knife pro set" : "garden hose glass lamp led"));
  const FeatureMatrix f = build_item_features(items, std::vector<uint8_t>(40, 1), {}, "");
  // Vocabulary of 10 terms < 64: dims clipped, and named accordingly (rank 2, so 8 are zero).
  EXPECT_GE(col(f, "title_svd_0"), 0);
  EXPECT_EQ(std::count_if(f.names.begin(), f.names.end(),
                          [](const std::string& s) { return s.rfind("title_svd_", 0) == 0; }),
            10);
  auto title_part = [&](int r) {
    std::vector<float> v;
    for (int d = 0; d < 10; ++d) v.push_back(at(f, r, "title_svd_" + std::to_string(d)));
    return v;
  };
  auto dist = [](const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
    return std::sqrt(s);
  };
  EXPECT_LT(dist(title_part(0), title_part(2)), 1e-5);
  EXPECT_GT(dist(title_part(0), title_part(1)), 1.0);  // unit-norm rows, orthogonal families
}

TEST(ItemFeaturesCpuTest, EdgeCases) {
  const std::string dir = testing::temp_dir("features_edge");
  {  // No titles at all: no SVD columns, every title_missing set; transform still works.
    std::vector<RawItemMeta> items = {item({"A", "B"}, "x"), item({"A", "C"}, "y", "", 3.0)};
    const FeatureMatrix f = build_item_features(items, {1, 1}, {}, dir + "/none");
    EXPECT_TRUE(has_col(f, "title_missing"));
    for (const auto& n : f.names) EXPECT_EQ(n.rfind("title_svd_", 0), std::string::npos) << n;
    EXPECT_EQ(at(f, 0, "title_missing"), 1.0f);
    const FeatureMatrix g = transform_item_features(items, dir + "/none");
    EXPECT_TRUE(bit_equal(g.values.to_vector<float>(), f.values.to_vector<float>()));
  }
  {  // One item: min_df 2 leaves an empty vocabulary; the title is present but projects to 0.
    std::vector<RawItemMeta> items = {item({"Only"}, "b", "lonely title", 5.0)};
    const FeatureMatrix f = build_item_features(items, {1}, {}, dir + "/one");
    EXPECT_EQ(at(f, 0, "title_missing"), 0.0f);
    EXPECT_EQ(at(f, 0, "price_z"), 0.0f);  // one price: z-score of the mean
    EXPECT_EQ(at(f, 0, "brand=b"), 1.0f);
    const FeatureMatrix g = transform_item_features(items, dir + "/one");
    EXPECT_TRUE(bit_equal(g.values.to_vector<float>(), f.values.to_vector<float>()));
    FeatureOptions o;
    o.min_df = 1;  // now a 2-term vocabulary from 1 document: one dimension
    const FeatureMatrix h = build_item_features(items, {1}, o, "");
    EXPECT_GE(col(h, "title_svd_0"), 0);
    EXPECT_FALSE(has_col(h, "title_svd_1"));
  }
  {  // No items at all, and no fit items.
    const FeatureMatrix f = build_item_features({}, {}, {}, dir + "/empty");
    EXPECT_EQ(f.values.shape(), (Shape{0, static_cast<int64_t>(f.names.size())}));
    std::vector<RawItemMeta> items = {item({"A"}, "b", "some title", 2.0)};
    const FeatureMatrix g = transform_item_features(items, dir + "/empty");
    EXPECT_EQ(at(g, 0, "cat=other"), 1.0f);
    EXPECT_EQ(at(g, 0, "brand=other"), 1.0f);
    EXPECT_EQ(at(g, 0, "title_missing"), 0.0f);
  }
  EXPECT_THROW(build_item_features({RawItemMeta{}}, {}, {}, ""), Error);
  EXPECT_THROW(transform_item_features({}, dir + "/does_not_exist"), Error);
}

// ---------------------------------------------------------------- user features

TEST(UserFeaturesCpuTest, HistoryAndCentredMeanRatingFromTrainOnly) {
  EdgeList train;
  train.user = {0, 0, 1, 1, 1, 3};
  train.item = {0, 1, 0, 2, 3, 1};
  train.rating = {5, 3, 2, NAN, 4, 1};
  const FeatureMatrix f = build_user_features(5, train);
  ASSERT_EQ(f.names, (std::vector<std::string>{"log1p_history", "mean_rating_centred"}));
  const double g = (5 + 3 + 2 + 4 + 1) / 5.0;
  const auto v = f.values.to_vector<float>();
  EXPECT_FLOAT_EQ(v[0], std::log1p(2.0));
  EXPECT_FLOAT_EQ(v[1], 4.0 - g);
  EXPECT_FLOAT_EQ(v[2], std::log1p(3.0));
  EXPECT_FLOAT_EQ(v[3], 3.0 - g);
  EXPECT_EQ(v[4], 0.0f);  // no training edges
  EXPECT_EQ(v[5], 0.0f);
  EXPECT_FLOAT_EQ(v[7], 1.0 - g);
  EXPECT_EQ(v[8], 0.0f);
  // Only train edges go in; anything else (val/test) simply is not an argument, and a user id
  // outside the range is refused.
  train.user.push_back(7);
  train.item.push_back(0);
  train.rating.push_back(5);
  EXPECT_THROW(build_user_features(5, train), Error);
  EdgeList unrated;
  unrated.user = {1, 1};
  unrated.item = {0, 1};
  const FeatureMatrix u = build_user_features(2, unrated);
  EXPECT_FLOAT_EQ(u.values.to_vector<float>()[2], std::log1p(2.0));
  EXPECT_EQ(u.values.to_vector<float>()[3], 0.0f);
}

}  // namespace
}  // namespace gnnrec
