// Input readers (see readers.h and docs/formats.md). Every reader streams lines through
// LineReader; JSON lines are parsed in place by simdjson (the line buffer carries simdjson's
// padding, so no line is copied).
#include "runtime/data/readers.h"

#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <future>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "runtime/data/line_reader.h"
#include "runtime/log.h"
#include "runtime/sha256.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;
namespace dom = simdjson::dom;

static_assert(kLinePadding >= simdjson::SIMDJSON_PADDING, "line padding below simdjson's");

constexpr float kNoRating = std::numeric_limits<float>::quiet_NaN();
constexpr size_t kMaxBadExamples = 5;

struct InputFile {
  std::string path;
  std::string role;  // "interactions", "meta", "users", "names"
  SplitTag tag = SplitTag::kNone;
};

std::string base_name(const std::string& path) { return fs::path(path).filename().string(); }

// The file name without a trailing ".gz", lower-cased.
std::string plain_name(const std::string& path) {
  std::string n = base_name(path);
  if (n.size() > 3 && n.compare(n.size() - 3, 3, ".gz") == 0) n.resize(n.size() - 3);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  return n;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

void strip_bom(std::string_view* line) {
  if (line->size() >= 3 && std::memcmp(line->data(), "\xEF\xBB\xBF", 3) == 0)
    line->remove_prefix(3);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Files of a directory whose plain name ends with one of `exts`, sorted by name.
std::vector<std::string> list_dir(const std::string& dir, const std::vector<std::string>& exts) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string n = plain_name(e.path().string());
    for (const auto& x : exts) {
      if (ends_with(n, x)) {
        out.push_back(e.path().string());
        break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool parse_int64(std::string_view s, int64_t* out) {
  s = trim(s);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_double(std::string_view s, double* out) {
  s = trim(s);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(*out);
}

// A timestamp given as an integer or an integral-valued decimal ("1529193600", "1.5e9").
bool parse_time(std::string_view s, int64_t* out) {
  if (parse_int64(s, out)) return true;
  double d;
  if (!parse_double(s, &d) || std::fabs(d) > 9e18) return false;
  *out = static_cast<int64_t>(std::floor(d));
  return true;
}

int64_t ms_to_s(int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

// Why a raw id cannot be used, or nullptr. The id files hold one id per line, so control
// characters (newline, tab, carriage return, ...) are refused; so is the empty id.
const char* id_problem(std::string_view id) {
  if (id.empty()) return "is empty";
  for (unsigned char c : id) {
    if (c < 0x20 || c == 0x7f) return "contains a control character (newline, tab, ...)";
  }
  return nullptr;
}

std::string canonical_int(int64_t v) { return std::to_string(v); }

// The decimal form of v in a caller's buffer (no allocation): numeric ids are interned as text.
struct IntText {
  char buf[24];
  std::string_view set(int64_t v) {
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string_view(buf, r.ptr - buf);
  }
};

// Accepts interactions from every reader: interns the ids, records bad lines under the policy.
class Ingest {
 public:
  Ingest(RawData& d, const BadLinePolicy& p, InputFormat f) : d_(d), policy_(p), format_(f) {}

  void begin_file() { file_good_ = file_bad_ = 0, first_problem_.clear(); }
  // A file that had bad lines and no good one was almost surely given in the wrong format.
  void end_file(const std::string& path) {
    if (file_good_ == 0 && file_bad_ > 0) {
      GNNREC_FAIL("{}: no line could be read as {} input (first problem: {}); check --format", path,
                  input_format_name(format_), first_problem_);
    }
  }
  void good() { ++file_good_; }

  // A bad line: an error naming file, line and problem, or (with --skip-bad-lines) a count.
  void bad(const LineReader& r, const std::string& problem) {
    const std::string msg = fmt::format("{}:{}: {}", r.path(), r.line_number(), problem);
    if (first_problem_.empty()) first_problem_ = msg;
    ++file_bad_;
    if (!policy_.skip) {
      GNNREC_FAIL("{} (format {}; --skip-bad-lines skips such lines)", msg,
                  input_format_name(format_));
    }
    auto& s = d_.stats;
    ++s.bad_lines;
    if (s.bad_examples.size() < kMaxBadExamples) s.bad_examples.push_back(msg);
    if (s.bad_lines > policy_.max) {
      GNNREC_FAIL("more than {} bad lines (--max-bad-lines); the last: {}", policy_.max, msg);
    }
  }

  // Adds one interaction; false (after reporting) when an id is unusable.
  bool add(const LineReader& r, std::string_view user, std::string_view item, float rating,
           int64_t ts, SplitTag tag, std::string_view user_field, std::string_view item_field) {
    if (const char* p = id_problem(user)) {
      bad(r, fmt::format("field '{}': user id {}", user_field, p));
      return false;
    }
    if (const char* p = id_problem(item)) {
      bad(r, fmt::format("field '{}': item id {}", item_field, p));
      return false;
    }
    d_.rows.push_back(Interaction{d_.users.intern(user), d_.items.intern(item), rating, tag, ts});
    ++file_good_;
    return true;
  }

 private:
  RawData& d_;
  BadLinePolicy policy_;
  InputFormat format_;
  int64_t file_good_ = 0, file_bad_ = 0;
  std::string first_problem_;
};

// ---------------------------------------------------------------------------------------------
// JSON lines. simdjson's DOM parser is used rather than On-Demand: On-Demand is compiled for the
// build's baseline target (the generic "fallback" kernel on a plain x86-64 build), while the DOM
// parser dispatches at run time to the widest kernel the CPU has (AVX2 / AVX-512), which parses
// several times faster and also validates the whole line.

const char* json_type_name(dom::element_type t) {
  switch (t) {
    case dom::element_type::ARRAY:
      return "a list";
    case dom::element_type::OBJECT:
      return "an object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE:
      return "a number";
    case dom::element_type::STRING:
      return "a string";
    case dom::element_type::BOOL:
      return "a boolean";
    case dom::element_type::NULL_VALUE:
      return "null";
  }
  return "?";
}

bool is_number(dom::element_type t) {
  return t == dom::element_type::INT64 || t == dom::element_type::UINT64 ||
         t == dom::element_type::DOUBLE;
}

std::string json_error(simdjson::error_code e) {
  return fmt::format("malformed JSON ({})", simdjson::error_message(e));
}

// Each getter returns "" or the problem, naming the field.
std::string json_string(dom::element v, std::string_view key, std::string_view* out, bool null_ok) {
  const dom::element_type t = v.type();
  if (t == dom::element_type::NULL_VALUE && null_ok) {
    *out = {};
    return "";
  }
  if (t != dom::element_type::STRING) {
    return fmt::format("field '{}' must be a string, found {}", key, json_type_name(t));
  }
  if (auto e = v.get_string().get(*out)) return json_error(e);
  return "";
}

std::string json_number(dom::element v, std::string_view key, double* out) {
  const dom::element_type t = v.type();
  if (!is_number(t)) {
    return fmt::format("field '{}' must be a number, found {}", key, json_type_name(t));
  }
  if (auto e = v.get_double().get(*out)) return json_error(e);
  return "";
}

std::string json_time(dom::element v, std::string_view key, int64_t* out) {
  const dom::element_type t = v.type();
  if (t == dom::element_type::INT64) {
    *out = int64_t(v);
    return "";
  }
  if (t == dom::element_type::DOUBLE && std::fabs(double(v)) < 9e18) {
    *out = static_cast<int64_t>(std::floor(double(v)));
    return "";
  }
  if (is_number(t)) return fmt::format("field '{}': timestamp out of range", key);
  return fmt::format("field '{}' must be an integer timestamp, found {}", key, json_type_name(t));
}

std::string json_string_list(dom::element v, std::string_view key,
                             std::vector<std::string_view>* out) {
  out->clear();
  const dom::element_type t = v.type();
  if (t == dom::element_type::NULL_VALUE) return "";
  if (t != dom::element_type::ARRAY) {
    return fmt::format("field '{}' must be a list of strings, found {}", key, json_type_name(t));
  }
  for (dom::element el : dom::array(v)) {
    std::string_view s;
    if (el.type() != dom::element_type::STRING || el.get_string().get(s)) {
      return fmt::format("field '{}' must be a list of strings, found an element that is {}", key,
                         json_type_name(el.type()));
    }
    out->push_back(s);
  }
  return "";
}

// Parses a line (which has kLinePadding readable bytes after it) as one JSON object.
std::string json_open(dom::parser& parser, std::string_view line, dom::object* obj) {
  dom::element doc;
  if (auto e = parser.parse(line.data(), line.size(), false).get(doc)) return json_error(e);
  if (doc.type() != dom::element_type::OBJECT) {
    return fmt::format("expected a JSON object, found {}", json_type_name(doc.type()));
  }
  *obj = dom::object(doc);
  return "";
}

// Keys as string_views: compared against every key of every line, so no strlen per compare.
struct ReviewKeys {
  std::string_view user, item, rating, time;
  bool time_ms;
};
constexpr ReviewKeys kReviews2023{"user_id", "parent_asin", "rating", "timestamp", true};
constexpr ReviewKeys kReviews2018{"reviewerID", "asin", "overall", "unixReviewTime", false};

struct MetaKeys {
  std::string_view item, title, categories, main_category, price, brand;
};
constexpr MetaKeys kMeta2023{"parent_asin",   "title", "categories",
                             "main_category", "price", "store"};
constexpr MetaKeys kMeta2018{"asin", "title", "category", "main_cat", "price", "brand"};

std::string parse_review(dom::parser& parser, std::string_view line, const ReviewKeys& k,
                         std::string_view* user, std::string_view* item, double* rating,
                         int64_t* ts) {
  dom::object obj;
  std::string p = json_open(parser, line, &obj);
  if (!p.empty()) return p;
  bool hu = false, hi = false, hr = false, ht = false;
  for (dom::key_value_pair kv : obj) {
    if (kv.key == k.user) {
      p = json_string(kv.value, k.user, user, false);
      hu = true;
    } else if (kv.key == k.item) {
      p = json_string(kv.value, k.item, item, false);
      hi = true;
    } else if (kv.key == k.rating) {
      p = json_number(kv.value, k.rating, rating);
      hr = true;
    } else if (kv.key == k.time) {
      p = json_time(kv.value, k.time, ts);
      ht = true;
    } else {
      continue;
    }
    if (!p.empty()) return p;
  }
  if (!hu) return fmt::format("field '{}' is missing", k.user);
  if (!hi) return fmt::format("field '{}' is missing", k.item);
  if (!hr) return fmt::format("field '{}' is missing", k.rating);
  if (!ht) return fmt::format("field '{}' is missing", k.time);
  if (k.time_ms) *ts = ms_to_s(*ts);
  return "";
}

void read_json_reviews(const InputFile& in, const ReviewKeys& keys, Ingest& ing, RawData& d) {
  LineReader r(in.path);
  dom::parser parser;
  std::string_view line, user, item;
  ing.begin_file();
  while (r.next(&line)) {
    if (r.line_number() == 1) strip_bom(&line);
    if (is_blank(line)) continue;
    ++d.stats.lines;
    double rating = 0;
    int64_t ts = 0;
    const std::string p = parse_review(parser, line, keys, &user, &item, &rating, &ts);
    if (!p.empty()) {
      ing.bad(r, p);
      continue;
    }
    ing.add(r, user, item, static_cast<float>(rating), ts, in.tag, keys.user, keys.item);
  }
  ing.end_file(in.path);
  d.stats.bytes_read += r.bytes_in();
  d.stats.bytes_uncompressed += r.bytes_out();
}

void read_json_meta(const InputFile& in, const MetaKeys& k, Ingest& ing, RawData& d) {
  LineReader r(in.path);
  dom::parser parser;
  std::string_view line;
  if (d.item_meta.empty()) d.item_meta.resize(d.items.size());
  ing.begin_file();
  std::vector<std::string_view> cats;
  while (r.next(&line)) {
    if (r.line_number() == 1) strip_bom(&line);
    if (is_blank(line)) continue;
    dom::object obj;
    std::string p = json_open(parser, line, &obj);
    std::string_view item, title, main_cat, price_text, brand;
    double price = std::numeric_limits<double>::quiet_NaN();
    bool has_item = false;
    cats.clear();
    if (p.empty()) {
      for (dom::key_value_pair kv : obj) {
        if (kv.key == k.item) {
          p = json_string(kv.value, k.item, &item, false);
          has_item = true;
        } else if (kv.key == k.title) {
          p = json_string(kv.value, k.title, &title, true);
        } else if (kv.key == k.categories) {
          p = json_string_list(kv.value, k.categories, &cats);
        } else if (kv.key == k.main_category) {
          p = json_string(kv.value, k.main_category, &main_cat, true);
        } else if (kv.key == k.brand) {
          p = json_string(kv.value, k.brand, &brand, true);
        } else if (kv.key == k.price) {
          // 2023: a number or null (sometimes a string); 2018: text such as "$12.99".
          const dom::element_type t = kv.value.type();
          if (is_number(t)) {
            p = json_number(kv.value, k.price, &price);
          } else if (t == dom::element_type::STRING) {
            p = json_string(kv.value, k.price, &price_text, false);
            if (p.empty()) price = parse_price_text(price_text);
          } else if (t != dom::element_type::NULL_VALUE) {
            p = fmt::format("field '{}' must be a number, a string or null, found {}", k.price,
                            json_type_name(t));
          }
        } else {
          continue;
        }
        if (!p.empty()) break;
      }
      if (p.empty() && !has_item) p = fmt::format("field '{}' is missing", k.item);
      if (p.empty()) {
        if (const char* why = id_problem(item))
          p = fmt::format("field '{}': item id {}", k.item, why);
      }
    }
    if (!p.empty()) {
      ing.bad(r, p);
      continue;
    }
    ing.good();
    ++d.stats.meta_rows;
    const int32_t id = d.items.find(item);
    if (id < 0) {
      ++d.stats.meta_unknown_items;
      continue;
    }
    RawItemMeta& m = d.item_meta[id];
    if (m.present) {
      ++d.stats.meta_duplicates;  // the first row wins
      continue;
    }
    m.present = true;
    m.title.assign(title);
    for (auto c : cats) m.categories.emplace_back(c);
    // Without a category path, the top-level category (unless it is page markup, as some 2018
    // main_cat values are) stands in.
    if (m.categories.empty() && !main_cat.empty() && main_cat.front() != '<') {
      m.categories.emplace_back(main_cat);
    }
    m.price_text.assign(price_text);
    m.price = price;
    m.brand.assign(brand);
  }
  ing.end_file(in.path);
  d.stats.bytes_read += r.bytes_in();
  d.stats.bytes_uncompressed += r.bytes_out();
}

// Which Amazon metadata layout a file uses, from its first line's keys.
const MetaKeys& meta_keys_of(const std::string& path) {
  const std::string line = first_line(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception&) {
    GNNREC_FAIL("{}:1: item metadata must be JSON lines (Amazon meta_<Category>.jsonl or .json)",
                path);
  }
  GNNREC_EXPECTS(j.is_object(), "{}:1: item metadata lines must be JSON objects", path);
  if (j.contains("parent_asin")) return kMeta2023;
  if (j.contains("asin")) return kMeta2018;
  GNNREC_FAIL("{}:1: item metadata needs a 'parent_asin' (Amazon 2023) or 'asin' (2018) field",
              path);
}

// ---------------------------------------------------------------------------------------------
// CSV / TSV

// Splits one line into fields. Quoted fields ("a,b", "say ""hi""") are unescaped into
// `scratch`, which is reserved to the line length first so the views stay valid. Quoted fields
// spanning lines are not supported.
bool split_fields(std::string_view line, char delim, std::vector<std::string_view>* out,
                  std::string* scratch, std::string* problem) {
  out->clear();
  scratch->clear();
  scratch->reserve(line.size());
  size_t p = 0;
  for (;;) {
    if (p < line.size() && line[p] == '"') {
      const size_t start = scratch->size();
      size_t q = p + 1;
      for (;;) {
        if (q >= line.size()) {
          *problem = fmt::format("unterminated quoted field {}", out->size() + 1);
          return false;
        }
        if (line[q] == '"') {
          if (q + 1 < line.size() && line[q + 1] == '"') {
            scratch->push_back('"');
            q += 2;
            continue;
          }
          break;
        }
        scratch->push_back(line[q++]);
      }
      out->emplace_back(scratch->data() + start, scratch->size() - start);
      p = q + 1;
      if (p == line.size()) return true;
      if (line[p] != delim) {
        *problem = fmt::format("characters after the closing quote of field {}", out->size());
        return false;
      }
      ++p;
      continue;
    }
    const void* hit = std::memchr(line.data() + p, delim, line.size() - p);
    const size_t e =
        hit ? static_cast<size_t>(static_cast<const char*>(hit) - line.data()) : line.size();
    out->push_back(line.substr(p, e - p));
    if (!hit) return true;
    p = e + 1;
  }
}

std::string lower(std::string_view s) {
  std::string o(s);
  std::transform(o.begin(), o.end(), o.begin(), [](unsigned char c) { return std::tolower(c); });
  return o;
}

// Index of the first header column matching one of `names` (case-insensitive), or -1.
int find_column(const std::vector<std::string>& header, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (lower(header[i]) == lower(n)) return static_cast<int>(i);
    }
  }
  return -1;
}

struct CsvColumns {
  std::vector<std::string> user, item, rating, time;  // candidate names, first match wins
  bool rating_required = false, time_required = false;
  bool time_ms = false;
};

void read_csv(const InputFile& in, const CsvColumns& cols, Ingest& ing, RawData& d,
              bool* has_rating, bool* has_time) {
  LineReader r(in.path);
  std::string_view line;
  ing.begin_file();
  std::vector<std::string> header;
  char delim = ',';
  while (r.next(&line)) {
    if (r.line_number() == 1) strip_bom(&line);
    if (!is_blank(line)) break;
  }
  GNNREC_EXPECTS(!line.empty() && !is_blank(line), "{}: empty file (a header line is expected)",
                 in.path);
  delim = line.find('\t') != std::string_view::npos ? '\t' : ',';
  std::vector<std::string_view> fields;
  std::string scratch, problem;
  GNNREC_EXPECTS(split_fields(line, delim, &fields, &scratch, &problem), "{}:{}: header: {}",
                 in.path, r.line_number(), problem);
  for (auto f : fields) header.emplace_back(trim(f));
  auto column = [&](const std::vector<std::string>& names, bool required, const char* what) {
    const int c = find_column(header, names);
    if (c < 0 && required) {
      std::string shown = fmt::format("{}", fmt::join(header, ", "));
      if (shown.size() > 200) shown = shown.substr(0, 200) + "...";
      GNNREC_FAIL("{}:{}: no {} column (looked for {}; the header has {})", in.path,
                  r.line_number(), what, fmt::join(names, ", "), shown);
    }
    return c;
  };
  const int cu = column(cols.user, true, "user");
  const int ci = column(cols.item, true, "item");
  const int cr = column(cols.rating, cols.rating_required, "rating");
  const int ct = column(cols.time, cols.time_required, "timestamp");
  *has_rating = cr >= 0;
  *has_time = ct >= 0;
  const std::string rname = cr >= 0 ? header[cr] : "", tname = ct >= 0 ? header[ct] : "";
  while (r.next(&line)) {
    if (is_blank(line)) continue;
    ++d.stats.lines;
    if (!split_fields(line, delim, &fields, &scratch, &problem)) {
      ing.bad(r, problem);
      continue;
    }
    if (fields.size() != header.size()) {
      ing.bad(r, fmt::format("{} fields, but the header names {}", fields.size(), header.size()));
      continue;
    }
    float rating = kNoRating;
    if (cr >= 0) {
      double v;
      if (!parse_double(fields[cr], &v)) {
        ing.bad(r, fmt::format("column '{}': '{}' is not a number", rname, fields[cr]));
        continue;
      }
      rating = static_cast<float>(v);
    }
    int64_t ts = 0;
    if (ct >= 0) {
      if (!parse_time(fields[ct], &ts)) {
        ing.bad(r, fmt::format("column '{}': '{}' is not an integer timestamp", tname, fields[ct]));
        continue;
      }
      if (cols.time_ms) ts = ms_to_s(ts);
    }
    ing.add(r, trim(fields[cu]), trim(fields[ci]), rating, ts, in.tag, header[cu].c_str(),
            header[ci].c_str());
  }
  ing.end_file(in.path);
  d.stats.bytes_read += r.bytes_in();
  d.stats.bytes_uncompressed += r.bytes_out();
}

// ---------------------------------------------------------------------------------------------
// LightGCN / NGCF txt and MovieLens

void read_lightgcn(const InputFile& in, Ingest& ing, RawData& d) {
  LineReader r(in.path);
  std::string_view line;
  ing.begin_file();
  IntText user_s, item_s;
  std::vector<int64_t> items;
  while (r.next(&line)) {
    if (is_blank(line)) continue;
    ++d.stats.lines;
    size_t p = 0;
    int64_t user = -1;
    bool ok = true;
    int tok = 0;
    items.clear();
    while (p < line.size()) {
      while (p < line.size() && (line[p] == ' ' || line[p] == '\t')) ++p;
      if (p >= line.size()) break;
      size_t e = p;
      while (e < line.size() && line[e] != ' ' && line[e] != '\t') ++e;
      int64_t v;
      const std::string_view t = line.substr(p, e - p);
      if (!parse_int64(t, &v) || v < 0) {
        ing.bad(r, fmt::format("token {} '{}' is not a non-negative integer id (lightgcn lines "
                               "are `user item item ...`)",
                               tok + 1, t));
        ok = false;
        break;
      }
      if (tok++ == 0) {
        user = v;
      } else {
        items.push_back(v);
      }
      p = e;
    }
    if (!ok) continue;
    const std::string_view us = user_s.set(user);
    for (int64_t it : items) {
      ing.add(r, us, item_s.set(it), kNoRating, 0, in.tag, "user", "item");
    }
    if (items.empty()) ing.good();  // a user without items in this file is valid
  }
  ing.end_file(in.path);
  d.stats.bytes_read += r.bytes_in();
  d.stats.bytes_uncompressed += r.bytes_out();
}

// Splits on a single character (no quoting): MovieLens files.
void split_simple(std::string_view line, char delim, std::vector<std::string_view>* out) {
  out->clear();
  size_t p = 0;
  for (;;) {
    const size_t e = line.find(delim, p);
    out->push_back(line.substr(p, e == std::string_view::npos ? std::string_view::npos : e - p));
    if (e == std::string_view::npos) return;
    p = e + 1;
  }
}

void read_ml_ratings(const InputFile& in, Ingest& ing, RawData& d) {
  LineReader r(in.path);
  std::string_view line;
  std::vector<std::string_view> f;
  ing.begin_file();
  IntText us, is;
  while (r.next(&line)) {
    if (is_blank(line)) continue;
    ++d.stats.lines;
    split_simple(line, '\t', &f);
    if (f.size() != 4) {
      ing.bad(r, fmt::format("{} tab-separated fields, expected 4 (user item rating timestamp)",
                             f.size()));
      continue;
    }
    int64_t u, i, ts;
    double rating;
    if (!parse_int64(f[0], &u) || u < 0) {
      ing.bad(r, fmt::format("field 'user_id': '{}' is not an integer", f[0]));
      continue;
    }
    if (!parse_int64(f[1], &i) || i < 0) {
      ing.bad(r, fmt::format("field 'item_id': '{}' is not an integer", f[1]));
      continue;
    }
    if (!parse_double(f[2], &rating)) {
      ing.bad(r, fmt::format("field 'rating': '{}' is not a number", f[2]));
      continue;
    }
    if (!parse_time(f[3], &ts)) {
      ing.bad(r, fmt::format("field 'timestamp': '{}' is not an integer", f[3]));
      continue;
    }
    ing.add(r, us.set(u), is.set(i), static_cast<float>(rating), ts, in.tag, "user_id", "item_id");
  }
  ing.end_file(in.path);
  d.stats.bytes_read += r.bytes_in();
  d.stats.bytes_uncompressed += r.bytes_out();
}

// Lines of a small names file (u.genre: "name|index", u.occupation: "name").
std::vector<std::string> read_names(const std::string& path) {
  std::vector<std::string> out;
  LineReader r(path);
  std::string_view line;
  while (r.next(&line)) {
    if (is_blank(line)) continue;
    out.emplace_back(trim(line.substr(0, line.find('|'))));
  }
  return out;
}

constexpr int kMlGenres = 19;

void read_ml_items(const InputFile& in, const std::vector<std::string>& genre_names, Ingest& ing,
                   RawData& d) {
  const int32_t n = d.items.size();
  d.item_meta.assign(n, RawItemMeta{});
  d.item_display_category.assign(n, "");
  std::vector<ExtraColumn> cols(kMlGenres + 1);
  for (int g = 0; g < kMlGenres; ++g) {
    cols[g].name = "ml_genre_" + genre_names[g];
    cols[g].values.assign(n, std::numeric_limits<float>::quiet_NaN());
  }
  ExtraColumn& year = cols[kMlGenres];
  year.name = "ml_release_year";
  year.kind = ExtraColumn::Kind::kZScore;
  year.missing_flag = true;
  year.values.assign(n, std::numeric_limits<float>::quiet_NaN());

  LineReader r(in.path);
  std::string_view line;
  std::vector<std::string_view> f;
  ing.begin_file();
  while (r.next(&line)) {
    if (is_blank(line)) continue;
    split_simple(line, '|', &f);
    if (f.size() != 5 + kMlGenres) {
      ing.bad(r, fmt::format("{} '|'-separated fields, expected {} (id|title|release date|video "
                             "date|url|19 genre flags)",
                             f.size(), 5 + kMlGenres));
      continue;
    }
    int64_t id;
    if (!parse_int64(f[0], &id) || id < 0) {
      ing.bad(r, fmt::format("field 'movie_id': '{}' is not an integer", f[0]));
      continue;
    }
    float flags[kMlGenres];
    bool ok = true;
    for (int g = 0; g < kMlGenres && ok; ++g) {
      const std::string_view v = trim(f[5 + g]);
      if (v != "0" && v != "1") {
        ing.bad(r, fmt::format("genre flag '{}' is '{}', expected 0 or 1", genre_names[g], v));
        ok = false;
      }
      flags[g] = v == "1" ? 1.0f : 0.0f;
    }
    if (!ok) continue;
    // Release dates look like "01-Jan-1995"; the year is the text after the last '-'.
    float yr = std::numeric_limits<float>::quiet_NaN();
    const std::string_view date = trim(f[2]);
    if (!date.empty()) {
      int64_t y;
      const size_t dash = date.rfind('-');
      if (!parse_int64(date.substr(dash == std::string_view::npos ? 0 : dash + 1), &y) ||
          y < 1800 || y > 2100) {
        ing.bad(r, fmt::format("field 'release_date': '{}' is not a DD-Mon-YYYY date", date));
        continue;
      }
      yr = static_cast<float>(y);
    }
    ing.good();
    ++d.stats.meta_rows;
    const int32_t item = d.items.find(canonical_int(id));
    if (item < 0) {
      ++d.stats.meta_unknown_items;
      continue;
    }
    RawItemMeta& m = d.item_meta[item];
    if (m.present) {
      ++d.stats.meta_duplicates;
      continue;
    }
    m.present = true;
    m.title = latin1_to_utf8(trim(f[1]));
    std::string shown;
    for (int g = 0; g < kMlGenres; ++g) {
      cols[g].values[item] = flags[g];
      if (flags[g] > 0) shown += (shown.empty() ? "" : ", ") + genre_names[g];
    }
    d.item_display_category[item] = shown;
    year.values[item] = yr;
  }
  ing.end_file(in.path);
  for (auto& c : cols) d.item_extra.push_back(std::move(c));
}

void read_ml_users(const InputFile& in, std::vector<std::string> occupations, Ingest& ing,
                   RawData& d) {
  const int32_t n = d.users.size();
  ExtraColumn age{"ml_age", ExtraColumn::Kind::kZScore, false,
                  std::vector<float>(n, std::numeric_limits<float>::quiet_NaN())};
  ExtraColumn female{"ml_gender_f", ExtraColumn::Kind::kValue, false,
                     std::vector<float>(n, std::numeric_limits<float>::quiet_NaN())};
  std::vector<int> occ_of(n, -1);
  std::map<std::string, int> occ_index;
  for (size_t i = 0; i < occupations.size(); ++i) occ_index[occupations[i]] = static_cast<int>(i);

  LineReader r(in.path);
  std::string_view line;
  std::vector<std::string_view> f;
  std::vector<uint8_t> seen(n, 0);
  ing.begin_file();
  while (r.next(&line)) {
    if (is_blank(line)) continue;
    split_simple(line, '|', &f);
    if (f.size() != 5) {
      ing.bad(r, fmt::format("{} '|'-separated fields, expected 5 (id|age|gender|occupation|zip)",
                             f.size()));
      continue;
    }
    int64_t id, a;
    if (!parse_int64(f[0], &id) || id < 0) {
      ing.bad(r, fmt::format("field 'user_id': '{}' is not an integer", f[0]));
      continue;
    }
    if (!parse_int64(f[1], &a) || a < 0 || a > 150) {
      ing.bad(r, fmt::format("field 'age': '{}' is not an age in years", f[1]));
      continue;
    }
    const std::string_view g = trim(f[2]);
    if (g != "M" && g != "F") {
      ing.bad(r, fmt::format("field 'gender': '{}', expected M or F", g));
      continue;
    }
    const std::string occ(trim(f[3]));
    if (occ.empty()) {
      ing.bad(r, "field 'occupation' is empty");
      continue;
    }
    ing.good();
    const int32_t user = d.users.find(canonical_int(id));
    if (user < 0 || seen[user]) continue;  // a user without ratings, or a repeated row
    seen[user] = 1;
    age.values[user] = static_cast<float>(a);
    female.values[user] = g == "F" ? 1.0f : 0.0f;
    auto it = occ_index.find(occ);
    if (it == occ_index.end()) {
      it = occ_index.emplace(occ, static_cast<int>(occupations.size())).first;
      occupations.push_back(occ);
    }
    occ_of[user] = it->second;
  }
  ing.end_file(in.path);
  d.user_extra.push_back(std::move(age));
  d.user_extra.push_back(std::move(female));
  for (size_t o = 0; o < occupations.size(); ++o) {
    ExtraColumn c{"ml_occupation_" + occupations[o], ExtraColumn::Kind::kValue, false,
                  std::vector<float>(n, std::numeric_limits<float>::quiet_NaN())};
    for (int32_t u = 0; u < n; ++u) {
      if (occ_of[u] >= 0) c.values[u] = occ_of[u] == static_cast<int>(o) ? 1.0f : 0.0f;
    }
    d.user_extra.push_back(std::move(c));
  }
}

// ---------------------------------------------------------------------------------------------
// Input resolution and format detection

bool is_ml_split_name(const std::string& n, SplitTag* tag) {
  // u1.base .. u5.test, ua/ub.base/.test
  if (n.size() == 7 && n[0] == 'u' &&
      (std::isdigit(static_cast<unsigned char>(n[1])) || n[1] == 'a' || n[1] == 'b')) {
    if (n.compare(2, 5, ".base") == 0) {
      *tag = SplitTag::kTrain;
      return true;
    }
    if (n.compare(2, 5, ".test") == 0) {
      *tag = SplitTag::kTest;
      return true;
    }
  }
  return false;
}

bool all_int_tokens(std::string_view line) {
  bool any = false;
  for (char c : line) {
    if (c == ' ' || c == '\t') continue;
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    any = true;
  }
  return any;
}

bool is_meta_name(const std::string& path) { return plain_name(path).rfind("meta_", 0) == 0; }

// Format of one file from its name and first line; kAuto when it cannot tell.
InputFormat detect_file(const std::string& path, std::string* why) {
  const std::string n = plain_name(path);
  SplitTag tag;
  if (n == "u.data" || is_ml_split_name(n, &tag)) {
    *why = "the MovieLens file name " + base_name(path);
    return InputFormat::kMovieLens;
  }
  const std::string line = first_line(path, 1 << 16);
  if ((n == "train.txt" || n == "test.txt" || n == "val.txt") && all_int_tokens(line)) {
    *why = "the LightGCN file name " + base_name(path);
    return InputFormat::kLightGcn;
  }
  if (!line.empty() && line[0] == '{') {
    // Only the keys matter; a first line cut at 64 KiB is not valid JSON, so look at the text.
    auto has = [&](const char* k) {
      return line.find(std::string("\"") + k + "\"") != std::string::npos;
    };
    if (has("reviewerID") || (has("asin") && !has("parent_asin"))) {
      *why = fmt::format("{} is JSON with Amazon 2018 keys", base_name(path));
      return InputFormat::kAmazon2018;
    }
    if (has("parent_asin")) {
      *why = fmt::format("{} is JSON with Amazon 2023 keys", base_name(path));
      return InputFormat::kAmazon2023;
    }
    return InputFormat::kAuto;
  }
  if (all_int_tokens(line) && line.find(' ') != std::string::npos) {
    *why = fmt::format("{} has lines of space-separated integers", base_name(path));
    return InputFormat::kLightGcn;
  }
  const char delim = line.find('\t') != std::string::npos ? '\t' : ',';
  std::vector<std::string_view> f;
  split_simple(line, delim, &f);
  std::vector<std::string> h;
  for (auto x : f) h.push_back(lower(trim(x)));
  auto has_col = [&](const char* c) { return std::find(h.begin(), h.end(), c) != h.end(); };
  if (has_col("user_id") && has_col("parent_asin") && has_col("rating") && has_col("timestamp")) {
    *why = fmt::format("{} has the Amazon 2023 benchmark CSV header", base_name(path));
    return InputFormat::kAmazon2023Csv;
  }
  if (f.size() >= 2) {
    *why = fmt::format("{} has a delimited header line", base_name(path));
    return InputFormat::kCsv;
  }
  return InputFormat::kAuto;
}

std::vector<std::string> expand_dir_for_detection(const std::string& dir) {
  return list_dir(dir, {".jsonl", ".json", ".csv", ".tsv"});
}

SplitTag tag_from_suffix(const std::string& n) {
  for (const char* ext : {".csv", ".tsv"}) {
    if (ends_with(n, std::string(".train") + ext)) return SplitTag::kTrain;
    if (ends_with(n, std::string(".valid") + ext) || ends_with(n, std::string(".val") + ext)) {
      return SplitTag::kVal;
    }
    if (ends_with(n, std::string(".test") + ext)) return SplitTag::kTest;
  }
  return SplitTag::kNone;
}

std::vector<InputFile> resolve_files(const ReadOptions& opt, InputFormat fmt) {
  std::vector<InputFile> files;
  auto add = [&](const std::string& p, const std::string& role, SplitTag tag) {
    GNNREC_EXPECTS(fs::is_regular_file(p), "{}: not found (or not a regular file)", p);
    files.push_back({p, role, tag});
  };
  for (const auto& in : opt.inputs) {
    GNNREC_EXPECTS(fs::exists(in), "--input {}: no such file or directory", in);
  }
  switch (fmt) {
    case InputFormat::kLightGcn:
      GNNREC_EXPECTS(opt.meta.empty(), "--meta is not used with the lightgcn format");
      for (const auto& in : opt.inputs) {
        if (fs::is_directory(in)) {
          add((fs::path(in) / "train.txt").string(), "interactions", SplitTag::kTrain);
          if (fs::exists(fs::path(in) / "val.txt")) {
            add((fs::path(in) / "val.txt").string(), "interactions", SplitTag::kVal);
          }
          if (fs::exists(fs::path(in) / "test.txt")) {
            add((fs::path(in) / "test.txt").string(), "interactions", SplitTag::kTest);
          }
        } else {
          const std::string n = plain_name(in);
          const SplitTag t = n.find("test") != std::string::npos  ? SplitTag::kTest
                             : n.find("val") != std::string::npos ? SplitTag::kVal
                                                                  : SplitTag::kTrain;
          add(in, "interactions", t);
        }
      }
      break;
    case InputFormat::kMovieLens: {
      GNNREC_EXPECTS(opt.meta.empty(),
                     "--meta is not used with the movielens format (u.item and "
                     "u.user are read from the input folder)");
      GNNREC_EXPECTS(opt.inputs.size() == 1,
                     "movielens takes one --input (the ml-100k folder "
                     "or its u.data), got {}",
                     opt.inputs.size());
      const std::string in = opt.inputs[0];
      const std::string dir = fs::is_directory(in) ? in : fs::path(in).parent_path().string();
      const fs::path d = dir.empty() ? fs::path(".") : fs::path(dir);
      if (!opt.ml_fold.empty()) {
        add((d / ("u" + opt.ml_fold + ".base")).string(), "interactions", SplitTag::kTrain);
        add((d / ("u" + opt.ml_fold + ".test")).string(), "interactions", SplitTag::kTest);
      } else if (fs::is_directory(in)) {
        add((d / "u.data").string(), "interactions", SplitTag::kNone);
      } else {
        SplitTag t = SplitTag::kNone;
        is_ml_split_name(plain_name(in), &t);
        add(in, "interactions", t);
      }
      if (fs::exists(d / "u.genre")) add((d / "u.genre").string(), "names", SplitTag::kNone);
      if (fs::exists(d / "u.occupation")) {
        add((d / "u.occupation").string(), "names", SplitTag::kNone);
      }
      if (fs::exists(d / "u.item")) add((d / "u.item").string(), "meta", SplitTag::kNone);
      if (fs::exists(d / "u.user")) add((d / "u.user").string(), "users", SplitTag::kNone);
      break;
    }
    case InputFormat::kAmazon2023:
    case InputFormat::kAmazon2018:
    case InputFormat::kAmazon2023Csv:
    case InputFormat::kCsv: {
      const bool csv = fmt == InputFormat::kAmazon2023Csv || fmt == InputFormat::kCsv;
      // A folder contributes the extension its format's files have (2023: .jsonl, 2018: .json),
      // so other JSON next to them (a pretty-printed synth_truth.json, say) is not read.
      const std::vector<std::string> exts = csv ? std::vector<std::string>{".csv", ".tsv"}
                                            : fmt == InputFormat::kAmazon2023
                                                ? std::vector<std::string>{".jsonl"}
                                                : std::vector<std::string>{".json"};
      for (const auto& in : opt.inputs) {
        std::vector<std::string> paths =
            fs::is_directory(in) ? list_dir(in, exts) : std::vector<std::string>{in};
        GNNREC_EXPECTS(!paths.empty(), "--input {}: the folder holds no {} files", in,
                       fmt::join(exts, " or "));
        // Split files of one folder in the order train, valid, test (input order breaks ties).
        if (csv) {
          std::stable_sort(paths.begin(), paths.end(),
                           [](const std::string& a, const std::string& b) {
                             return tag_from_suffix(plain_name(a)) < tag_from_suffix(plain_name(b));
                           });
        }
        for (const auto& p : paths) {
          if (is_meta_name(p)) {
            add(p, "meta", SplitTag::kNone);
          } else {
            add(p, "interactions", csv ? tag_from_suffix(plain_name(p)) : SplitTag::kNone);
          }
        }
        // A folder of benchmark CSVs may also hold meta_*.jsonl next to them.
        if (csv && fs::is_directory(in)) {
          for (const auto& p : list_dir(in, {".jsonl", ".json"})) {
            if (is_meta_name(p)) add(p, "meta", SplitTag::kNone);
          }
        }
      }
      for (const auto& m : opt.meta) add(m, "meta", SplitTag::kNone);
      break;
    }
    case InputFormat::kAuto:
      GNNREC_FAIL("internal: resolve_files needs a concrete format");
  }
  GNNREC_EXPECTS(std::any_of(files.begin(), files.end(),
                             [](const InputFile& f) { return f.role == "interactions"; }),
                 "no interaction file among the inputs (only item metadata?)");
  return files;
}

}  // namespace

InputFormat parse_input_format(const std::string& name) {
  for (InputFormat f : {InputFormat::kAuto, InputFormat::kAmazon2023, InputFormat::kAmazon2018,
                        InputFormat::kAmazon2023Csv, InputFormat::kLightGcn,
                        InputFormat::kMovieLens, InputFormat::kCsv}) {
    if (name == input_format_name(f)) return f;
  }
  GNNREC_FAIL(
      "--format {}: unknown (expected auto, amazon2023, amazon2018, amazon2023-csv, "
      "lightgcn, movielens or csv)",
      name);
}

const char* input_format_name(InputFormat f) {
  switch (f) {
    case InputFormat::kAuto:
      return "auto";
    case InputFormat::kAmazon2023:
      return "amazon2023";
    case InputFormat::kAmazon2018:
      return "amazon2018";
    case InputFormat::kAmazon2023Csv:
      return "amazon2023-csv";
    case InputFormat::kLightGcn:
      return "lightgcn";
    case InputFormat::kMovieLens:
      return "movielens";
    case InputFormat::kCsv:
      return "csv";
  }
  return "?";
}

InputFormat detect_format(const std::vector<std::string>& inputs, std::string* why) {
  std::string reason;
  GNNREC_EXPECTS(!inputs.empty(), "no --input given");
  for (const auto& in : inputs) {
    GNNREC_EXPECTS(fs::exists(in), "--input {}: no such file or directory", in);
    std::vector<std::string> files;
    if (fs::is_directory(in)) {
      if (fs::exists(fs::path(in) / "u.data") || fs::exists(fs::path(in) / "u1.base")) {
        if (why) *why = "the folder holds MovieLens u.data";
        return InputFormat::kMovieLens;
      }
      if (fs::exists(fs::path(in) / "train.txt")) {
        if (why) *why = "the folder holds LightGCN train.txt";
        return InputFormat::kLightGcn;
      }
      files = expand_dir_for_detection(in);
    } else {
      files = {in};
    }
    // Interaction files decide; metadata files only when nothing else does.
    std::stable_partition(files.begin(), files.end(),
                          [](const std::string& f) { return !is_meta_name(f); });
    for (const auto& f : files) {
      const InputFormat got = detect_file(f, &reason);
      if (got != InputFormat::kAuto) {
        if (why) *why = reason;
        return got;
      }
    }
  }
  GNNREC_FAIL(
      "cannot tell the input format of {} from file names or first lines; pass --format "
      "(amazon2023, amazon2018, amazon2023-csv, lightgcn, movielens or csv)",
      fmt::join(inputs, ", "));
}

double parse_price_text(std::string_view text) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::string_view s = trim(text);
  if (s.empty() || s.size() > 40) return kNaN;
  size_t p = 0;
  auto number = [&](double* out) {
    while (p < s.size() && s[p] == ' ') ++p;
    if (p < s.size() && s[p] == '$') ++p;
    std::string digits;
    const size_t start = p;
    while (p < s.size() &&
           (std::isdigit(static_cast<unsigned char>(s[p])) || s[p] == ',' || s[p] == '.')) {
      if (s[p] != ',') digits.push_back(s[p]);
      ++p;
    }
    if (p == start || digits.empty()) return false;
    return parse_double(digits, out);
  };
  double a, b;
  if (!number(&a)) return kNaN;
  while (p < s.size() && s[p] == ' ') ++p;
  if (p == s.size()) return a;
  if (s[p] != '-') return kNaN;
  ++p;
  if (!number(&b)) return kNaN;
  while (p < s.size() && s[p] == ' ') ++p;
  return p == s.size() ? 0.5 * (a + b) : kNaN;
}

std::string latin1_to_utf8(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (unsigned char c : s) {
    if (c < 0x80) {
      o.push_back(static_cast<char>(c));
    } else {
      o.push_back(static_cast<char>(0xC0 | (c >> 6)));
      o.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return o;
}

RawData read_inputs(const ReadOptions& opt) {
  RawData d;
  std::string why;
  d.format = opt.format;
  if (d.format == InputFormat::kAuto) {
    d.format = detect_format(opt.inputs, &why);
    log_info("input format: {} ({})", input_format_name(d.format), why);
  }
  const std::vector<InputFile> files = resolve_files(opt, d.format);

  // Hash every source on a second thread while the parser runs (the files are read twice, the
  // second time mostly from the page cache).
  std::atomic<bool> cancel{false};
  std::future<std::vector<std::string>> hashes;
  if (opt.hash_sources) {
    std::vector<std::string> paths;
    for (const auto& f : files) paths.push_back(f.path);
    hashes = std::async(std::launch::async, [paths, &cancel] {
      std::vector<std::string> out;
      std::vector<char> buf(size_t{1} << 20);
      for (const auto& p : paths) {
        FILE* f = std::fopen(p.c_str(), "rb");
        if (!f) return out;
        Sha256 h;
        size_t n;
        while (!cancel.load(std::memory_order_relaxed) &&
               (n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
          h.update(buf.data(), n);
        }
        const bool err = std::ferror(f) != 0;
        std::fclose(f);
        if (err || cancel.load()) return out;
        out.push_back(h.finish_hex());
      }
      return out;
    });
  }
  struct CancelOnExit {
    std::atomic<bool>& c;
    ~CancelOnExit() { c = true; }
  } cancel_guard{cancel};

  Ingest ing(d, opt.bad_lines, d.format);
  std::vector<std::string> genre_names, occupations;
  bool any_rating = false, any_time = false;
  // Interactions first: metadata rows are kept only for items that occur in them.
  for (const auto& f : files) {
    if (f.role == "interactions") {
      log_info("reading {}", f.path);
      switch (d.format) {
        case InputFormat::kAmazon2023:
          read_json_reviews(f, kReviews2023, ing, d);
          any_rating = any_time = true;
          break;
        case InputFormat::kAmazon2018:
          read_json_reviews(f, kReviews2018, ing, d);
          any_rating = any_time = true;
          break;
        case InputFormat::kAmazon2023Csv: {
          CsvColumns c{{"user_id"}, {"parent_asin"}, {"rating"}, {"timestamp"}, true, true, true};
          bool hr, ht;
          read_csv(f, c, ing, d, &hr, &ht);
          any_rating = any_time = true;
          break;
        }
        case InputFormat::kCsv: {
          auto names = [](const std::string& given, std::vector<std::string> usual) {
            return given.empty() ? usual : std::vector<std::string>{given};
          };
          GNNREC_EXPECTS(opt.time_unit == "s" || opt.time_unit == "ms",
                         "--time-unit {}: expected s or ms", opt.time_unit);
          CsvColumns c{names(opt.user_col, {"user_id", "user", "userId", "reviewerID", "uid"}),
                       names(opt.item_col, {"item_id", "item", "itemId", "parent_asin", "asin",
                                            "movieId", "iid"}),
                       names(opt.rating_col, {"rating", "overall", "score", "stars"}),
                       names(opt.time_col, {"timestamp", "time", "unixReviewTime", "ts"}),
                       !opt.rating_col.empty(),
                       !opt.time_col.empty(),
                       opt.time_unit == "ms"};
          bool hr, ht;
          read_csv(f, c, ing, d, &hr, &ht);
          any_rating |= hr;
          any_time |= ht;
          break;
        }
        case InputFormat::kLightGcn:
          read_lightgcn(f, ing, d);
          d.numeric_ids = true;
          break;
        case InputFormat::kMovieLens:
          read_ml_ratings(f, ing, d);
          d.numeric_ids = true;
          any_rating = any_time = true;
          break;
        case InputFormat::kAuto:
          break;
      }
    } else if (f.role == "names") {
      if (plain_name(f.path) == "u.genre") genre_names = read_names(f.path);
      if (plain_name(f.path) == "u.occupation") occupations = read_names(f.path);
    }
  }
  d.has_ratings = any_rating;
  d.has_timestamps = any_time;
  const int64_t tagged = std::count_if(d.rows.begin(), d.rows.end(), [](const Interaction& x) {
    return x.split != SplitTag::kNone;
  });
  GNNREC_EXPECTS(tagged == 0 || tagged == static_cast<int64_t>(d.rows.size()),
                 "some inputs name a split (train/valid/test file names) and others do not; "
                 "give either only split files or none");
  d.predefined_split = tagged > 0;

  for (const auto& f : files) {
    if (f.role == "meta") {
      log_info("reading item metadata {}", f.path);
      if (d.format == InputFormat::kMovieLens) {
        if (genre_names.size() != kMlGenres) {
          genre_names.clear();
          for (int g = 0; g < kMlGenres; ++g) genre_names.push_back("genre" + std::to_string(g));
        }
        read_ml_items(f, genre_names, ing, d);
      } else {
        read_json_meta(f, meta_keys_of(f.path), ing, d);
      }
    } else if (f.role == "users") {
      read_ml_users(f, occupations, ing, d);
    }
  }
  if (!d.item_meta.empty()) d.item_meta.resize(d.items.size());

  std::vector<std::string> sums;
  if (opt.hash_sources) sums = hashes.get();
  for (size_t k = 0; k < files.size(); ++k) {
    SourceFile s;
    s.path = fs::absolute(files[k].path).lexically_normal().string();
    s.role = files[k].role;
    s.bytes = fs::file_size(files[k].path);
    if (k < sums.size()) s.sha256 = sums[k];
    d.sources.push_back(std::move(s));
  }
  GNNREC_EXPECTS(!opt.hash_sources || sums.size() == files.size(),
                 "could not hash every source file (a read error?)");
  return d;
}

}  // namespace gnnrec
