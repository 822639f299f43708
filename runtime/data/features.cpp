// Item and user features. The item transform is one plain struct (ItemTransform) that is either
// fitted or loaded; both paths then run the same apply(), one item per loop iteration with
// double accumulation, so fit-time and transform-time values agree bit for bit and do not
// depend on the thread count or on which other items are in the batch.
#include "runtime/data/features.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runtime/log.h"
#include "runtime/npy.h"

namespace gnnrec {
namespace {

using ojson = nlohmann::ordered_json;

constexpr int kItemFeatureSchema = 1;
constexpr int kSvdOversample = 10;
constexpr int kSvdPowerIters = 4;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && is_space(s[a])) ++a;
  while (b > a && is_space(s[b - 1])) --b;
  return s.substr(a, b - a);
}

std::string lower_ascii(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return r;
}

// The cleaned category path: trimmed, empty elements dropped.
std::vector<std::string> clean_categories(const std::vector<std::string>& cats) {
  std::vector<std::string> r;
  for (const auto& c : cats) {
    std::string_view t = trim(c);
    if (!t.empty()) r.emplace_back(t);
  }
  return r;
}

// Names a value column; values that would read like the other/missing columns are quoted.
std::string value_column(const std::string& prefix, const std::string& value) {
  if (value == "other" || value == "missing") return prefix + "=\"" + value + "\"";
  return prefix + "=" + value;
}

// Top `k` keys by count (descending), ties by key (ascending).
std::vector<std::string> top_k(const std::map<std::string, int64_t>& counts, int k) {
  std::vector<std::pair<std::string, int64_t>> v(counts.begin(), counts.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> r;
  for (int i = 0; i < k && i < static_cast<int>(v.size()); ++i) r.push_back(v[i].first);
  return r;
}

// In-vocabulary term ids (ascending) and their normalised TF-IDF weights for one document.
void tfidf_row(const TfidfVocabulary& vocab, std::string_view doc, std::vector<int32_t>* ids,
               std::vector<double>* weights) {
  ids->clear();
  weights->clear();
  for (const auto& tok : tokenize_title(doc)) {
    auto it = vocab.index.find(tok);
    if (it != vocab.index.end()) ids->push_back(it->second);
  }
  std::sort(ids->begin(), ids->end());
  size_t out = 0;
  double norm2 = 0;
  for (size_t i = 0; i < ids->size();) {
    size_t j = i;
    while (j < ids->size() && (*ids)[j] == (*ids)[i]) ++j;
    const double w = (1.0 + std::log(static_cast<double>(j - i))) * vocab.idf[(*ids)[i]];
    (*ids)[out++] = (*ids)[i];
    weights->push_back(w);
    norm2 += w * w;
    i = j;
  }
  ids->resize(out);
  if (norm2 > 0) {
    const double inv = 1.0 / std::sqrt(norm2);
    for (double& w : *weights) w *= inv;
  }
}

struct ItemTransform {
  FeatureOptions opt;
  bool has_root = false;
  std::string root;
  std::vector<std::string> categories;
  std::unordered_map<std::string, int> category_index;
  TfidfVocabulary vocab;
  int title_dims = 0;                   // k
  std::vector<float> projection;        // V x k
  std::vector<double> singular_values;  // k (informational)
  double price_mean = 0, price_std = 1;
  int64_t price_fit_count = 0;
  std::vector<std::string> brands;
  std::unordered_map<std::string, int> brand_index;

  int cat_offset() const { return 0; }
  int title_offset() const { return static_cast<int>(categories.size()) + 2; }
  int price_offset() const { return title_offset() + title_dims + 1; }
  int brand_offset() const { return price_offset() + 2; }
  int num_columns() const { return brand_offset() + static_cast<int>(brands.size()) + 2; }

  void build_indexes() {
    category_index.clear();
    for (size_t i = 0; i < categories.size(); ++i)
      category_index[categories[i]] = static_cast<int>(i);
    brand_index.clear();
    for (size_t i = 0; i < brands.size(); ++i) brand_index[brands[i]] = static_cast<int>(i);
    vocab.index.clear();
    for (size_t i = 0; i < vocab.terms.size(); ++i)
      vocab.index[vocab.terms[i]] = static_cast<int32_t>(i);
  }

  // Column names and descriptions, in column order.
  std::vector<std::pair<std::string, std::string>> columns() const {
    std::vector<std::pair<std::string, std::string>> c;
    for (const auto& v : categories)
      c.emplace_back(value_column("cat", v), "1 if the category path contains this name");
    c.emplace_back("cat=other", "1 if the path contains a name outside the top categories");
    c.emplace_back("cat=missing", "1 if the item has no category path (or no metadata)");
    for (int d = 0; d < title_dims; ++d)
      c.emplace_back("title_svd_" + std::to_string(d),
                     "title TF-IDF projected on right singular vector " + std::to_string(d));
    c.emplace_back("title_missing", "1 if the item has no title (or no metadata)");
    c.emplace_back("price_z", "(log1p(price) - mean) / std over fit items; 0 when missing");
    c.emplace_back("price_missing", "1 if the price is absent or unparseable");
    for (const auto& v : brands)
      c.emplace_back(value_column("brand", v), "1 if the brand/store is this value");
    c.emplace_back("brand=other", "1 if the brand/store is outside the top brands");
    c.emplace_back("brand=missing", "1 if the brand/store is empty (or no metadata)");
    return c;
  }
};

PriceParse item_price(const RawItemMeta& m, double* value) {
  if (!m.present) return PriceParse::kMissing;
  if (!std::isnan(m.price)) {
    if (!std::isfinite(m.price) || m.price < 0) return PriceParse::kUnparseable;
    *value = m.price;
    return PriceParse::kOk;
  }
  return parse_price(m.price_text, value);
}

bool has_title(const RawItemMeta& m) { return m.present && !trim(m.title).empty(); }

FeatureMatrix apply(const ItemTransform& t, const std::vector<RawItemMeta>& items,
                    int64_t* unparseable_prices) {
  const int64_t n = static_cast<int64_t>(items.size());
  const int f = t.num_columns();
  FeatureMatrix out;
  for (auto& c : t.columns()) out.names.push_back(c.first);
  GNNREC_EXPECTS(static_cast<int>(out.names.size()) == f, "internal: {} names for {} columns",
                 out.names.size(), f);
  out.values = Tensor::zeros({n, f}, DType::kF32);
  float* values = out.values.data<float>();
  const int k = t.title_dims;
  int64_t bad_prices = 0;
#pragma omp parallel reduction(+ : bad_prices) if (n > 2048)
  {
    std::vector<int32_t> ids;
    std::vector<double> w, acc(k);
#pragma omp for schedule(dynamic, 256)
    for (int64_t i = 0; i < n; ++i) {
      const RawItemMeta& m = items[i];
      float* row = values + i * f;
      // Category path.
      const std::vector<std::string> cats =
          m.present ? clean_categories(m.categories) : std::vector<std::string>{};
      if (cats.empty()) {
        row[t.cat_offset() + t.categories.size() + 1] = 1.0f;
      } else {
        for (size_t p = 0; p < cats.size(); ++p) {
          if (p == 0 && t.has_root && cats[0] == t.root) continue;
          auto it = t.category_index.find(cats[p]);
          if (it != t.category_index.end()) {
            row[t.cat_offset() + it->second] = 1.0f;
          } else {
            row[t.cat_offset() + t.categories.size()] = 1.0f;
          }
        }
      }
      // Title.
      if (!has_title(m)) {
        row[t.title_offset() + k] = 1.0f;
      } else if (k > 0) {
        tfidf_row(t.vocab, m.title, &ids, &w);
        std::fill(acc.begin(), acc.end(), 0.0);
        for (size_t p = 0; p < ids.size(); ++p) {
          const float* pr = t.projection.data() + static_cast<int64_t>(ids[p]) * k;
          for (int d = 0; d < k; ++d) acc[d] += w[p] * pr[d];
        }
        for (int d = 0; d < k; ++d) row[t.title_offset() + d] = static_cast<float>(acc[d]);
      }
      // Price.
      double price = 0;
      const PriceParse pp = item_price(m, &price);
      if (pp == PriceParse::kOk) {
        row[t.price_offset()] =
            static_cast<float>((std::log1p(price) - t.price_mean) / t.price_std);
      } else {
        row[t.price_offset() + 1] = 1.0f;
        if (pp == PriceParse::kUnparseable) ++bad_prices;
      }
      // Brand / store.
      const std::string_view brand = m.present ? trim(m.brand) : std::string_view{};
      if (brand.empty()) {
        row[t.brand_offset() + t.brands.size() + 1] = 1.0f;
      } else {
        auto it = t.brand_index.find(std::string(brand));
        row[t.brand_offset() + (it != t.brand_index.end() ? it->second : t.brands.size())] = 1.0f;
      }
    }
  }
  if (unparseable_prices) *unparseable_prices = bad_prices;
  return out;
}

void save_transform(const ItemTransform& t, const std::string& dir, int64_t num_items,
                    int64_t num_fit, int64_t unparseable, int64_t title_fit_docs) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  std::string vocab_txt;
  for (const auto& term : t.vocab.terms) vocab_txt += term + "\n";
  write_file_atomic((fs::path(dir) / "title_vocab.txt").string(), vocab_txt);
  const int64_t v = static_cast<int64_t>(t.vocab.terms.size());
  save_npy((fs::path(dir) / "title_idf.npy").string(), Tensor::from_vector(t.vocab.idf, {v}));
  Tensor proj = Tensor::zeros({v, t.title_dims}, DType::kF32);
  std::copy(t.projection.begin(), t.projection.end(), proj.data<float>());
  save_npy((fs::path(dir) / "title_projection.npy").string(), proj);

  ojson j;
  j["schema_version"] = kItemFeatureSchema;
  j["kind"] = "gnnrec-item-features";
  j["options"] = {{"top_categories", t.opt.top_categories},
                  {"title_dims", t.opt.title_dims},
                  {"min_df", t.opt.min_df},
                  {"max_vocab", t.opt.max_vocab},
                  {"top_brands", t.opt.top_brands},
                  {"seed", t.opt.seed}};
  j["num_items"] = num_items;
  j["num_fit_items"] = num_fit;
  j["num_columns"] = t.num_columns();
  ojson cols = ojson::array();
  for (const auto& c : t.columns()) cols.push_back({{"name", c.first}, {"description", c.second}});
  j["columns"] = cols;
  j["category"] = {{"dropped_root", t.has_root ? ojson(t.root) : ojson(nullptr)},
                   {"values", t.categories}};
  j["title"] = {{"dims", t.title_dims},
                {"requested_dims", t.opt.title_dims},
                {"vocab_size", v},
                {"fit_docs", title_fit_docs},
                {"idf_num_docs", t.vocab.num_docs},
                {"tokenizer", "lowercase ASCII alphanumeric runs (non-ASCII bytes kept), len >= 2"},
                {"tf", "1 + ln(tf)"},
                {"idf", "ln((1 + n) / (1 + df)) + 1"},
                {"svd",
                 {{"method", "randomized"},
                  {"oversample", kSvdOversample},
                  {"power_iters", kSvdPowerIters},
                  {"seed", t.opt.seed}}},
                {"singular_values", t.singular_values},
                {"vocab_file", "title_vocab.txt"},
                {"idf_file", "title_idf.npy"},
                {"projection_file", "title_projection.npy"}};
  j["price"] = {{"transform", "log1p"},
                {"mean", t.price_mean},
                {"std", t.price_std},
                {"fit_count", t.price_fit_count},
                {"unparseable_at_fit", unparseable}};
  j["brand"] = {{"values", t.brands}};
  write_file_atomic((fs::path(dir) / "features.json").string(), j.dump(2) + "\n");
}

ItemTransform load_transform(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string jpath = (fs::path(dir) / "features.json").string();
  ojson j;
  try {
    j = ojson::parse(read_file(jpath));
  } catch (const nlohmann::json::exception& e) {
    GNNREC_FAIL("{}: not valid JSON: {}", jpath, e.what());
  }
  GNNREC_EXPECTS(j.value("kind", "") == "gnnrec-item-features",
                 "{}: field 'kind' is not \"gnnrec-item-features\"", jpath);
  GNNREC_EXPECTS(j.value("schema_version", -1) == kItemFeatureSchema,
                 "{}: schema_version {} is not the supported {}", jpath,
                 j.value("schema_version", -1), kItemFeatureSchema);
  ItemTransform t;
  try {
    const auto& o = j.at("options");
    t.opt.top_categories = o.at("top_categories").get<int>();
    t.opt.title_dims = o.at("title_dims").get<int>();
    t.opt.min_df = o.at("min_df").get<int>();
    t.opt.max_vocab = o.at("max_vocab").get<int>();
    t.opt.top_brands = o.at("top_brands").get<int>();
    t.opt.seed = o.at("seed").get<uint64_t>();
    const auto& c = j.at("category");
    t.has_root = !c.at("dropped_root").is_null();
    if (t.has_root) t.root = c.at("dropped_root").get<std::string>();
    t.categories = c.at("values").get<std::vector<std::string>>();
    const auto& ti = j.at("title");
    t.title_dims = ti.at("dims").get<int>();
    t.vocab.num_docs = ti.at("idf_num_docs").get<int64_t>();
    t.singular_values = ti.at("singular_values").get<std::vector<double>>();
    const auto& p = j.at("price");
    t.price_mean = p.at("mean").get<double>();
    t.price_std = p.at("std").get<double>();
    t.price_fit_count = p.at("fit_count").get<int64_t>();
    t.brands = j.at("brand").at("values").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    GNNREC_FAIL("{}: missing or mistyped field: {}", jpath, e.what());
  }
  {
    const std::string vpath = (fs::path(dir) / "title_vocab.txt").string();
    std::istringstream ss(read_file(vpath));
    std::string line;
    while (std::getline(ss, line)) t.vocab.terms.push_back(line);
  }
  const int64_t v = static_cast<int64_t>(t.vocab.terms.size());
  const std::string ipath = (fs::path(dir) / "title_idf.npy").string();
  Tensor idf = load_npy(ipath);
  GNNREC_EXPECTS(idf.dtype() == DType::kF32 && idf.ndim() == 1 && idf.dim(0) == v,
                 "{}: expected float32 [{}] (one idf per line of title_vocab.txt), got {} {}",
                 ipath, v, dtype_name(idf.dtype()), shape_str(idf.shape()));
  t.vocab.idf = idf.to_vector<float>();
  const std::string ppath = (fs::path(dir) / "title_projection.npy").string();
  Tensor proj = load_npy(ppath);
  GNNREC_EXPECTS(proj.dtype() == DType::kF32 && proj.ndim() == 2 && proj.dim(0) == v &&
                     proj.dim(1) == t.title_dims,
                 "{}: expected float32 [{}, {}], got {} {}", ppath, v, t.title_dims,
                 dtype_name(proj.dtype()), shape_str(proj.shape()));
  t.projection = proj.to_vector<float>();
  t.build_indexes();
  const int64_t cols = j.value("num_columns", -1);
  GNNREC_EXPECTS(cols == t.num_columns(),
                 "{}: num_columns {} does not match the {} columns "
                 "its category/title/brand sections describe",
                 jpath, cols, t.num_columns());
  return t;
}

// One amount: optional currency ("$", "US$", "USD"), digits with optional thousands commas,
// optional decimals. Advances *pos past it and trailing spaces.
bool parse_amount(std::string_view s, size_t* pos, double* value) {
  size_t p = *pos;
  auto skip_ws = [&] {
    while (p < s.size() && is_space(s[p])) ++p;
  };
  auto starts = [&](std::string_view w) {
    if (s.size() - p < w.size()) return false;
    for (size_t i = 0; i < w.size(); ++i) {
      char c = s[p + i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != w[i]) return false;
    }
    return true;
  };
  skip_ws();
  if (starts("us$")) {
    p += 3;
  } else if (starts("usd")) {
    p += 3;
  } else if (starts("$")) {
    p += 1;
  }
  skip_ws();
  std::string digits;
  size_t run = 0;
  bool any = false, commas = false;
  while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
    digits += s[p++];
    ++run;
    any = true;
  }
  // Thousands separators: the first group has 1-3 digits, every later group exactly 3.
  while (p < s.size() && s[p] == ',') {
    if (!any || (!commas && run > 3)) return false;
    size_t q = p + 1, g = 0;
    while (q < s.size() && std::isdigit(static_cast<unsigned char>(s[q]))) ++q, ++g;
    if (g != 3) return false;
    digits.append(s.substr(p + 1, 3));
    p = q;
    commas = true;
  }
  if (p < s.size() && s[p] == '.') {
    digits += '.';
    ++p;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
      digits += s[p++];
      any = true;
    }
  }
  if (!any) return false;
  const double v = std::strtod(digits.c_str(), nullptr);
  if (!std::isfinite(v)) return false;
  skip_ws();
  *pos = p;
  *value = v;
  return true;
}

}  // namespace

std::vector<std::string> tokenize_title(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (cur.size() >= 2) out.push_back(cur);
    cur.clear();
  };
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 'A' && c <= 'Z') {
      cur += static_cast<char>(c - 'A' + 'a');
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) {
      cur += ch;
    } else {
      flush();
    }
  }
  flush();
  return out;
}

TfidfVocabulary fit_tfidf(const std::vector<std::string>& docs, const std::vector<uint8_t>& mask,
                          int min_df, int max_vocab) {
  GNNREC_EXPECTS(mask.size() == docs.size(), "fit_tfidf: mask has {} entries for {} docs",
                 mask.size(), docs.size());
  GNNREC_EXPECTS(min_df >= 1, "min_df = {} must be >= 1", min_df);
  GNNREC_EXPECTS(max_vocab >= 0, "max_vocab = {} must be >= 0", max_vocab);
  TfidfVocabulary v;
  std::unordered_map<std::string, int64_t> df;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (!mask[i]) continue;
    ++v.num_docs;
    auto toks = tokenize_title(docs[i]);
    std::sort(toks.begin(), toks.end());
    toks.erase(std::unique(toks.begin(), toks.end()), toks.end());
    for (auto& t : toks) df[t]++;
  }
  std::vector<std::pair<std::string, int64_t>> terms;
  for (auto& [t, d] : df)
    if (d >= min_df) terms.emplace_back(t, d);
  std::sort(terms.begin(), terms.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (static_cast<int64_t>(terms.size()) > max_vocab) terms.resize(max_vocab);
  for (auto& [t, d] : terms) {
    v.index[t] = static_cast<int32_t>(v.terms.size());
    v.terms.push_back(t);
    v.idf.push_back(
        static_cast<float>(std::log((1.0 + v.num_docs) / (1.0 + static_cast<double>(d))) + 1.0));
  }
  return v;
}

SparseMatrix tfidf_transform(const TfidfVocabulary& vocab, const std::vector<std::string>& docs) {
  SparseMatrix m;
  m.rows = static_cast<int64_t>(docs.size());
  m.cols = static_cast<int64_t>(vocab.terms.size());
  std::vector<int32_t> ids;
  std::vector<double> w;
  for (const auto& d : docs) {
    tfidf_row(vocab, d, &ids, &w);
    m.indices.insert(m.indices.end(), ids.begin(), ids.end());
    for (double x : w) m.values.push_back(static_cast<float>(x));
    m.indptr.push_back(static_cast<int64_t>(m.indices.size()));
  }
  return m;
}

PriceParse parse_price(std::string_view text, double* value) {
  const std::string_view s = trim(text);
  const std::string low = lower_ascii(s);
  if (low.empty() || low == "null" || low == "none" || low == "nan" || low == "n/a" ||
      low == "na" || low == "-") {
    return PriceParse::kMissing;
  }
  size_t pos = 0;
  double lo = 0;
  if (!parse_amount(s, &pos, &lo)) return PriceParse::kUnparseable;
  if (pos == s.size()) {
    *value = lo;
    return PriceParse::kOk;
  }
  // A range: "a - b", "a – b" (en dash, UTF-8), "a to b".
  if (s[pos] == '-') {
    pos += 1;
  } else if (s.substr(pos, 3) == "\xE2\x80\x93") {
    pos += 3;
  } else if (low.compare(pos, 2, "to") == 0) {
    pos += 2;
  } else {
    return PriceParse::kUnparseable;
  }
  double hi = 0;
  if (!parse_amount(s, &pos, &hi) || pos != s.size()) return PriceParse::kUnparseable;
  *value = 0.5 * (lo + hi);
  return PriceParse::kOk;
}

FeatureMatrix build_item_features(const std::vector<RawItemMeta>& items,
                                  const std::vector<uint8_t>& fit_mask, const FeatureOptions& opt,
                                  const std::string& save_dir) {
  GNNREC_EXPECTS(fit_mask.size() == items.size(), "fit_mask has {} entries for {} items",
                 fit_mask.size(), items.size());
  GNNREC_EXPECTS(opt.top_categories >= 0 && opt.title_dims >= 0 && opt.top_brands >= 0 &&
                     opt.min_df >= 1 && opt.max_vocab >= 0,
                 "feature options out of range: top_categories {}, title_dims {}, top_brands {} "
                 "(all >= 0), min_df {} (>= 1), max_vocab {} (>= 0)",
                 opt.top_categories, opt.title_dims, opt.top_brands, opt.min_df, opt.max_vocab);
  const size_t n = items.size();
  const auto t_start = std::chrono::steady_clock::now();
  auto since = [](std::chrono::steady_clock::time_point a) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
  };
  double t_tfidf = 0, t_svd = 0;
  ItemTransform t;
  t.opt = opt;
  int64_t num_fit = 0;
  for (size_t i = 0; i < n; ++i) num_fit += fit_mask[i] != 0;

  // Categories: a root shared by every fit item with a path carries no information.
  {
    std::string root;
    bool first = true, same = true;
    for (size_t i = 0; i < n && same; ++i) {
      if (!fit_mask[i] || !items[i].present) continue;
      const auto cats = clean_categories(items[i].categories);
      if (cats.empty()) continue;
      if (first) {
        root = cats[0];
        first = false;
      } else if (cats[0] != root) {
        same = false;
      }
    }
    t.has_root = !first && same;
    if (t.has_root) t.root = root;
    std::map<std::string, int64_t> counts;
    for (size_t i = 0; i < n; ++i) {
      if (!fit_mask[i] || !items[i].present) continue;
      auto cats = clean_categories(items[i].categories);
      if (t.has_root && !cats.empty()) cats.erase(cats.begin());
      std::sort(cats.begin(), cats.end());
      cats.erase(std::unique(cats.begin(), cats.end()), cats.end());
      for (auto& c : cats) counts[c]++;
    }
    t.categories = top_k(counts, opt.top_categories);
  }

  // Title TF-IDF + randomised SVD on the fit items that have a title.
  int64_t title_fit_docs = 0;
  {
    std::vector<std::string> docs(n);
    std::vector<uint8_t> mask(n, 0);
    std::vector<std::string> fit_docs;
    for (size_t i = 0; i < n; ++i) {
      if (!has_title(items[i])) continue;
      docs[i] = items[i].title;
      if (fit_mask[i]) {
        mask[i] = 1;
        fit_docs.push_back(items[i].title);
      }
    }
    title_fit_docs = static_cast<int64_t>(fit_docs.size());
    auto t0 = std::chrono::steady_clock::now();
    t.vocab = fit_tfidf(docs, mask, opt.min_df, opt.max_vocab);
    const int64_t v = static_cast<int64_t>(t.vocab.terms.size());
    t.title_dims = static_cast<int>(std::min<int64_t>({opt.title_dims, v, title_fit_docs}));
    if (t.title_dims < opt.title_dims) {
      log_info(
          "features: title uses {} SVD dims instead of {} (vocabulary {} terms, {} fit "
          "titles)",
          t.title_dims, opt.title_dims, v, title_fit_docs);
    }
    if (t.title_dims > 0) {
      const SparseMatrix a = tfidf_transform(t.vocab, fit_docs);
      t_tfidf = since(t0);
      t0 = std::chrono::steady_clock::now();
      RandomizedSvdOptions so;
      so.oversample = kSvdOversample;
      so.power_iters = kSvdPowerIters;
      so.seed = opt.seed;
      const TruncatedSvd svd = randomized_svd(a, t.title_dims, so);
      t.singular_values = svd.singular_values;
      t.projection.assign(svd.components.begin(), svd.components.end());  // double -> float
      t_svd = since(t0);
    }
  }

  // Price: log1p then z-score over fit items with a parseable price.
  {
    double sum = 0, sum2 = 0;
    int64_t cnt = 0;
    for (size_t i = 0; i < n; ++i) {
      double p = 0;
      if (!fit_mask[i] || item_price(items[i], &p) != PriceParse::kOk) continue;
      const double l = std::log1p(p);
      sum += l;
      sum2 += l * l;
      ++cnt;
    }
    t.price_fit_count = cnt;
    if (cnt > 0) {
      t.price_mean = sum / cnt;
      const double var = std::max(0.0, sum2 / cnt - t.price_mean * t.price_mean);
      // A constant price column would divide by ~0; keep it unscaled instead.
      t.price_std = var > 1e-24 ? std::sqrt(var) : 1.0;
    }
  }

  // Brands.
  {
    std::map<std::string, int64_t> counts;
    for (size_t i = 0; i < n; ++i) {
      if (!fit_mask[i] || !items[i].present) continue;
      const std::string_view b = trim(items[i].brand);
      if (!b.empty()) counts[std::string(b)]++;
    }
    t.brands = top_k(counts, opt.top_brands);
  }
  t.build_indexes();

  int64_t unparseable = 0;
  const auto t_apply = std::chrono::steady_clock::now();
  FeatureMatrix out = apply(t, items, &unparseable);
  log_info(
      "features: {} items ({} fit) -> {} columns; vocabulary {} terms, {} title dims; "
      "{:.2f}s (tf-idf {:.2f}s, svd {:.2f}s, apply {:.2f}s)",
      n, num_fit, out.names.size(), t.vocab.terms.size(), t.title_dims, since(t_start), t_tfidf,
      t_svd, since(t_apply));
  if (unparseable > 0)
    log_info("features: {} of {} item prices were unparseable (set missing)", unparseable, n);
  if (!save_dir.empty())
    save_transform(t, save_dir, static_cast<int64_t>(n), num_fit, unparseable, title_fit_docs);
  return out;
}

FeatureMatrix transform_item_features(const std::vector<RawItemMeta>& items,
                                      const std::string& save_dir) {
  const ItemTransform t = load_transform(save_dir);
  return apply(t, items, nullptr);
}

FeatureMatrix build_user_features(int32_t num_users, const EdgeList& train) {
  GNNREC_EXPECTS(num_users >= 0, "num_users = {} must be >= 0", num_users);
  const bool has_ratings = train.rating.size() == train.size();
  GNNREC_EXPECTS(train.rating.empty() || has_ratings, "train edges: {} ratings for {} edges",
                 train.rating.size(), train.size());
  std::vector<int64_t> count(num_users, 0), rated(num_users, 0);
  std::vector<double> sum(num_users, 0.0);
  double gsum = 0;
  int64_t gcnt = 0;
  for (size_t e = 0; e < train.size(); ++e) {
    const int32_t u = train.user[e];
    GNNREC_EXPECTS(u >= 0 && u < num_users, "train edge {}: user id {} outside [0, {})", e, u,
                   num_users);
    count[u]++;
    if (has_ratings && !std::isnan(train.rating[e])) {
      sum[u] += train.rating[e];
      rated[u]++;
      gsum += train.rating[e];
      gcnt++;
    }
  }
  const double gmean = gcnt > 0 ? gsum / gcnt : 0.0;
  FeatureMatrix out;
  out.names = {"log1p_history", "mean_rating_centred"};
  out.values = Tensor::zeros({num_users, 2}, DType::kF32);
  float* v = out.values.data<float>();
  for (int32_t u = 0; u < num_users; ++u) {
    v[2 * u] = static_cast<float>(std::log1p(static_cast<double>(count[u])));
    v[2 * u + 1] = rated[u] > 0 ? static_cast<float>(sum[u] / rated[u] - gmean) : 0.0f;
  }
  return out;
}

}  // namespace gnnrec
