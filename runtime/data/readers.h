// Input readers for `gnnrec prepare`: every supported source format, normalised into one list of
// interactions (raw ids interned in order of first appearance) plus optional item metadata and
// dataset-specific feature columns. Formats (details in docs/formats.md):
//   amazon2023      <Category>.jsonl reviews + meta_<Category>.jsonl (timestamps in ms)
//   amazon2018      <Category>_5.json reviews + meta_<Category>.json
//   amazon2023-csv  5-core benchmark CSVs, optionally .train/.valid/.test.csv (predefined split)
//   lightgcn        train.txt / test.txt, `user item item ...` per line (predefined split)
//   movielens       ml-100k folder: u.data (or u{N}.base/.test), u.item, u.user
//   csv             generic CSV/TSV with a header naming the columns
// Every file may be plain or gzip (detected by magic bytes) and is streamed, never loaded whole.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/data/features.h"
#include "runtime/data/id_map.h"

namespace gnnrec {

enum class InputFormat {
  kAuto,
  kAmazon2023,
  kAmazon2018,
  kAmazon2023Csv,
  kLightGcn,
  kMovieLens,
  kCsv
};

InputFormat parse_input_format(const std::string& name);  // "auto", "amazon2023", ... or throws
const char* input_format_name(InputFormat f);

// A split named by the input files themselves (train.txt/test.txt, u1.base/u1.test, ...).
enum class SplitTag : uint8_t { kTrain = 0, kVal = 1, kTest = 2, kNone = 3 };

struct Interaction {
  int32_t user;       // RawData::users id
  int32_t item;       // RawData::items id
  float rating;       // NaN when the source has none
  SplitTag split;     // kNone unless the source defines the split
  int64_t timestamp;  // seconds since the epoch, 0 when unknown
};

// A dataset-specific feature column (MovieLens genres, age, ...), indexed by interned raw id;
// NaN = missing. kValue columns are written as they are (missing -> 0); kZScore columns are
// standardised with statistics of the training users/items, and missing_flag adds a
// "<name>_missing" column.
struct ExtraColumn {
  enum class Kind { kValue, kZScore };
  std::string name;
  Kind kind = Kind::kValue;
  bool missing_flag = false;
  std::vector<float> values;
};

struct SourceFile {
  std::string path;  // absolute
  std::string role;  // "interactions", "meta", "users"
  uint64_t bytes = 0;
  std::string sha256;  // of the bytes as stored (compressed if gzip); empty when not hashed
};

struct BadLinePolicy {
  bool skip = false;   // false: the first bad line is an error
  int64_t max = 1000;  // with skip: more bad lines than this is an error
};

struct ReadStats {
  int64_t lines = 0;                      // non-blank interaction lines
  int64_t bad_lines = 0;                  // skipped (interaction and metadata lines together)
  std::vector<std::string> bad_examples;  // the first few messages
  int64_t meta_rows = 0, meta_duplicates = 0, meta_unknown_items = 0;
  uint64_t bytes_read = 0, bytes_uncompressed = 0;
};

struct RawData {
  InputFormat format = InputFormat::kAuto;
  bool numeric_ids = false;  // ids are integers (lightgcn, movielens): dense ids keep their order
  bool predefined_split = false;  // every row carries a SplitTag
  bool has_ratings = false, has_timestamps = false;
  IdInterner users, items;
  std::vector<Interaction> rows;       // input order
  std::vector<RawItemMeta> item_meta;  // by item id; empty when the input has no metadata
  std::vector<std::string> item_display_category;  // by item id, may be empty: overrides
                                                   // the category shown in items.jsonl
  std::vector<ExtraColumn> user_extra, item_extra;
  std::vector<SourceFile> sources;
  ReadStats stats;
};

struct ReadOptions {
  std::vector<std::string> inputs;  // files or directories
  std::vector<std::string> meta;    // item metadata files (amazon formats)
  InputFormat format = InputFormat::kAuto;
  std::string ml_fold;  // movielens: "1".."5", "a" or "b" reads u{N}.base/u{N}.test
  // csv: column names (empty: the usual names are tried); amazon2023-csv uses the fixed ones.
  std::string user_col, item_col, rating_col, time_col;
  std::string time_unit = "s";  // csv timestamps: "s" or "ms"
  BadLinePolicy bad_lines;
  bool hash_sources = true;  // sha256 of every source (in a second thread while parsing)
};

RawData read_inputs(const ReadOptions& opt);

// What `--format auto` picks for these inputs; *why (optional) says what decided it.
InputFormat detect_format(const std::vector<std::string>& inputs, std::string* why = nullptr);

// "$12.99" -> 12.99, "$5.99 - $9.99" -> 7.99 (the midpoint), "1,299.00" -> 1299; anything else
// (empty, words, page markup) -> NaN.
double parse_price_text(std::string_view text);

// Latin-1 bytes to UTF-8 (MovieLens titles are Latin-1).
std::string latin1_to_utf8(std::string_view s);

}  // namespace gnnrec
