// Input readers: the streaming line reader (plain, gzip, multi-member, truncated), every input
// format on the hand-written corpus in tests/data/prepare/, format detection, and the errors
// bad input gives (each naming file, line and field) or the counts --skip-bad-lines keeps.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "runtime/data/line_reader.h"
#include "runtime/data/prepare.h"
#include "runtime/data/readers.h"
#include "runtime/npy.h"
#include "runtime/sha256.h"
#include "testing/testing.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;
using testing::corpus;
using testing::expect_error;
using testing::write_text;

// Gzips `text` into `path` (zlib's gzip writer, default level).
void write_gzip(const std::string& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  if (!text.empty()) {
    ASSERT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())), int(text.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

std::vector<std::string> all_lines(const std::string& path, size_t chunk = 4096) {
  LineReader r(path, chunk);
  std::vector<std::string> out;
  std::string_view l;
  while (r.next(&l)) out.emplace_back(l);
  return out;
}

// Runs f, expecting gnnrec::Error whose message contains every needle.
RawData read(const std::vector<std::string>& inputs, InputFormat f = InputFormat::kAuto,
             const std::vector<std::string>& meta = {}) {
  ReadOptions o;
  o.inputs = inputs;
  o.meta = meta;
  o.format = f;
  return read_inputs(o);
}

int32_t item_of(const RawData& d, const std::string& raw) { return d.items.find(raw); }

// ---- LineReader

TEST(LineReaderCpuTest, PlainAndGzipGiveTheSameLines) {
  const std::string dir = testing::temp_dir("lines");
  const std::string longline(10000, 'x');  // longer than the 4 KiB chunk: the buffer grows
  const std::string text = "first\r\nsecond\n\n" + longline + "\nlast without newline";
  const std::vector<std::string> want = {"first", "second", "", longline, "last without newline"};
  EXPECT_EQ(all_lines(write_text(dir, "a.txt", text)), want);
  write_gzip(dir + "/a.txt.gz", text);
  EXPECT_EQ(all_lines(dir + "/a.txt.gz"), want);
  EXPECT_TRUE(is_gzip_file(dir + "/a.txt.gz"));
  EXPECT_FALSE(is_gzip_file(dir + "/a.txt"));
  // A gzip file named like a plain one (and vice versa) is read by its magic bytes.
  fs::copy_file(dir + "/a.txt.gz", dir + "/renamed.txt");
  EXPECT_EQ(all_lines(dir + "/renamed.txt"), want);
  EXPECT_TRUE(all_lines(write_text(dir, "empty.txt", "")).empty());
  write_gzip(dir + "/empty.gz", "");
  EXPECT_TRUE(all_lines(dir + "/empty.gz").empty());
}

TEST(LineReaderCpuTest, ConcatenatedGzipMembersAreOneStream) {
  const std::string dir = testing::temp_dir("lines_multi");
  write_gzip(dir + "/a.gz", "one\ntw");
  write_gzip(dir + "/b.gz", "o\nthree\n");
  std::string both = read_file(dir + "/a.gz") + read_file(dir + "/b.gz");
  write_text(dir, "ab.gz", both);
  EXPECT_EQ(all_lines(dir + "/ab.gz"), (std::vector<std::string>{"one", "two", "three"}));
}

TEST(LineReaderCpuTest, TruncatedOrCorruptGzipIsAnErrorNamingTheFile) {
  const std::string dir = testing::temp_dir("lines_trunc");
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i * 7919 % 10007) + "\n";
  write_gzip(dir + "/full.gz", text);
  const std::string gz = read_file(dir + "/full.gz");
  const std::string cut = write_text(dir, "cut.gz", gz.substr(0, gz.size() / 2));
  expect_error([&] { all_lines(cut); }, {cut, "truncated gzip"});
  const std::string no_trailer = write_text(dir, "notrailer.gz", gz.substr(0, gz.size() - 4));
  expect_error([&] { all_lines(no_trailer); }, {no_trailer, "truncated gzip"});
  std::string bad = gz;
  for (size_t k = bad.size() / 3; k < bad.size() / 3 + 64; ++k) bad[k] = static_cast<char>(~bad[k]);
  const std::string corrupt = write_text(dir, "corrupt.gz", bad);
  expect_error([&] { all_lines(corrupt); }, {corrupt, "gzip"});
  expect_error([&] { LineReader r(dir + "/missing.txt"); }, {"missing.txt", "cannot open"});
}

// ---- The six formats on the corpus

TEST(ReadersCpuTest, Amazon2023ReviewsAndMeta) {
  const RawData d = read({corpus("amazon2023")});
  EXPECT_EQ(d.format, InputFormat::kAmazon2023);
  ASSERT_EQ(d.rows.size(), 8u);  // the blank line is skipped; duplicates stay until prepare
  EXPECT_EQ(d.users.size(), 3);
  EXPECT_EQ(d.items.size(), 4);
  EXPECT_EQ(d.users.str(d.rows[0].user), "UA");
  EXPECT_EQ(d.items.str(d.rows[0].item), "P01");
  EXPECT_EQ(d.rows[0].timestamp, 1588687728);  // milliseconds -> seconds
  EXPECT_FLOAT_EQ(d.rows[0].rating, 5.0f);
  EXPECT_EQ(d.rows[0].split, SplitTag::kNone);
  EXPECT_FALSE(d.predefined_split);
  EXPECT_FALSE(d.numeric_ids);
  ASSERT_EQ(d.item_meta.size(), 4u);
  const RawItemMeta& p01 = d.item_meta[item_of(d, "P01")];
  EXPECT_TRUE(p01.present);
  EXPECT_EQ(p01.title, "Howard LC0008 Leather Conditioner, 8-Ounce");
  EXPECT_EQ(p01.categories, std::vector<std::string>{"All Beauty"});  // main_category stands in
  EXPECT_EQ(p01.brand, "Howard Products");
  EXPECT_TRUE(std::isnan(p01.price));
  const RawItemMeta& p02 = d.item_meta[item_of(d, "P02")];
  EXPECT_EQ(p02.categories,
            (std::vector<std::string>{"Electronics", "Headphones", "Earbud Headphones"}));
  EXPECT_DOUBLE_EQ(p02.price, 12.5);
  EXPECT_EQ(p02.brand, "");                  // store: null
  EXPECT_EQ(p02.title, "Wireless Earbuds");  // the duplicate row later in the file is ignored
  const RawItemMeta& p03 = d.item_meta[item_of(d, "P03")];
  EXPECT_EQ(p03.title, "");
  EXPECT_EQ(p03.price_text, "from 9.99");
  EXPECT_TRUE(std::isnan(p03.price));
  EXPECT_FALSE(d.item_meta[item_of(d, "P04")].present);
  EXPECT_EQ(d.stats.meta_rows, 5);
  EXPECT_EQ(d.stats.meta_duplicates, 1);
  EXPECT_EQ(d.stats.meta_unknown_items, 1);
  EXPECT_EQ(d.stats.bad_lines, 0);
  ASSERT_EQ(d.sources.size(), 2u);
  EXPECT_EQ(d.sources[1].role, "meta");
  EXPECT_EQ(d.sources[0].sha256, sha256_file(corpus("amazon2023/Tiny_Beauty.jsonl")));
}

TEST(ReadersCpuTest, FoldersReadOnlyTheirFormatsFiles) {
  // `gnnrec synth` writes a pretty-printed synth_truth.json next to its .jsonl files.
  const std::string dir = testing::temp_dir("synthdir");
  fs::copy_file(corpus("amazon2023/Tiny_Beauty.jsonl"), dir + "/Tiny_Beauty.jsonl");
  fs::copy_file(corpus("amazon2023/meta_Tiny_Beauty.jsonl"), dir + "/meta_Tiny_Beauty.jsonl");
  write_text(dir, "synth_truth.json", "{\n  \"clusters\": 3\n}\n");
  write_text(dir, "README.md", "# notes\n");
  const RawData d = read({dir});
  EXPECT_EQ(d.format, InputFormat::kAmazon2023);
  EXPECT_EQ(d.rows.size(), 8u);
  EXPECT_EQ(d.sources.size(), 2u);
}

TEST(ReadersCpuTest, GzipInputsReadLikePlainOnes) {
  const std::string dir = testing::temp_dir("gz2023");
  write_gzip(dir + "/Tiny_Beauty.jsonl.gz", read_file(corpus("amazon2023/Tiny_Beauty.jsonl")));
  write_gzip(dir + "/meta_Tiny_Beauty.jsonl.gz",
             read_file(corpus("amazon2023/meta_Tiny_Beauty.jsonl")));
  const RawData plain = read({corpus("amazon2023")});
  const RawData gz = read({dir + "/Tiny_Beauty.jsonl.gz"}, InputFormat::kAuto,
                          {dir + "/meta_Tiny_Beauty.jsonl.gz"});
  ASSERT_EQ(gz.rows.size(), plain.rows.size());
  for (size_t k = 0; k < gz.rows.size(); ++k) {
    EXPECT_EQ(gz.users.str(gz.rows[k].user), plain.users.str(plain.rows[k].user));
    EXPECT_EQ(gz.items.str(gz.rows[k].item), plain.items.str(plain.rows[k].item));
    EXPECT_EQ(gz.rows[k].timestamp, plain.rows[k].timestamp);
  }
  EXPECT_EQ(gz.item_meta[item_of(gz, "P02")].title, "Wireless Earbuds");
  EXPECT_GT(gz.stats.bytes_uncompressed, gz.stats.bytes_read);
}

TEST(ReadersCpuTest, Amazon2018ReviewsAndMeta) {
  const RawData d = read({corpus("amazon2018")});
  EXPECT_EQ(d.format, InputFormat::kAmazon2018);
  ASSERT_EQ(d.rows.size(), 7u);
  EXPECT_EQ(d.rows[0].timestamp, 1529193600);  // seconds as given
  EXPECT_FLOAT_EQ(d.rows[2].rating, 3.0f);
  const RawItemMeta& a1 = d.item_meta[item_of(d, "A1")];
  EXPECT_EQ(a1.title, "Serendipity 3 $100.00 Gift Card");
  EXPECT_EQ(a1.brand, "Serendipity 3");
  EXPECT_EQ(a1.categories, (std::vector<std::string>{"Gift Cards", "Gift Cards"}));
  EXPECT_DOUBLE_EQ(a1.price, 12.99);
  EXPECT_EQ(a1.price_text, "$12.99");
  EXPECT_DOUBLE_EQ(d.item_meta[item_of(d, "A2")].price, 7.99);  // "$5.99 - $9.99"
  const RawItemMeta& a3 = d.item_meta[item_of(d, "A3")];
  EXPECT_TRUE(std::isnan(a3.price));   // page markup in the price field
  EXPECT_TRUE(a3.categories.empty());  // and in main_cat: not used as a category
  const RawItemMeta& a4 = d.item_meta[item_of(d, "A4")];
  EXPECT_EQ(a4.title, "First copy wins");
  EXPECT_EQ(a4.categories, std::vector<std::string>{"Gift Cards"});
  EXPECT_EQ(d.stats.meta_duplicates, 1);
  EXPECT_EQ(d.stats.meta_unknown_items, 1);
}

TEST(ReadersCpuTest, Amazon2023CsvKeepsItsPredefinedSplit) {
  const RawData d = read({corpus("amazon2023csv")});
  EXPECT_EQ(d.format, InputFormat::kAmazon2023Csv);
  ASSERT_EQ(d.rows.size(), 8u);
  EXPECT_TRUE(d.predefined_split);
  int count[4] = {0, 0, 0, 0};
  for (const auto& r : d.rows) count[static_cast<int>(r.split)]++;
  EXPECT_EQ(count[0], 4);  // Tiny.train.csv
  EXPECT_EQ(count[1], 2);  // Tiny.valid.csv
  EXPECT_EQ(count[2], 2);  // Tiny.test.csv
  EXPECT_EQ(d.rows[0].timestamp, 1600000000);
}

TEST(ReadersCpuTest, LightGcnKeepsNumericIdsAndItsSplit) {
  const RawData d = read({corpus("lightgcn")});
  EXPECT_EQ(d.format, InputFormat::kLightGcn);
  EXPECT_TRUE(d.numeric_ids);
  EXPECT_TRUE(d.predefined_split);
  ASSERT_EQ(d.rows.size(), 9u + 5u);
  EXPECT_EQ(d.rows[0].split, SplitTag::kTrain);
  EXPECT_EQ(d.rows.back().split, SplitTag::kTest);
  EXPECT_TRUE(std::isnan(d.rows[0].rating));
  EXPECT_EQ(d.rows[0].timestamp, 0);
  EXPECT_FALSE(d.has_ratings);
  EXPECT_FALSE(d.has_timestamps);
  // Single files are tagged by name.
  const RawData t = read({corpus("lightgcn/test.txt")}, InputFormat::kLightGcn);
  EXPECT_EQ(t.rows.size(), 5u);
  EXPECT_EQ(t.rows[0].split, SplitTag::kTest);
}

TEST(ReadersCpuTest, MovieLensRatingsItemsAndUsers) {
  const RawData d = read({corpus("movielens")});
  EXPECT_EQ(d.format, InputFormat::kMovieLens);
  EXPECT_TRUE(d.numeric_ids);
  EXPECT_FALSE(d.predefined_split);
  ASSERT_EQ(d.rows.size(), 12u);
  EXPECT_EQ(d.users.str(d.rows[0].user), "10");
  EXPECT_EQ(d.rows[0].timestamp, 881250006);
  const RawItemMeta& m3 = d.item_meta[item_of(d, "3")];
  EXPECT_EQ(m3.title, "Caf\xc3\xa9 au lait (1993)");  // Latin-1 -> UTF-8
  EXPECT_EQ(d.item_display_category[item_of(d, "1")], "Animation, Children's, Comedy");
  EXPECT_EQ(d.stats.meta_unknown_items, 1);  // movie 6 has no rating
  ASSERT_EQ(d.item_extra.size(), 20u);       // 19 genres + release year
  EXPECT_EQ(d.item_extra[1].name, "ml_genre_Action");
  EXPECT_EQ(d.item_extra[1].values[item_of(d, "2")], 1.0f);
  const ExtraColumn& year = d.item_extra[19];
  EXPECT_EQ(year.kind, ExtraColumn::Kind::kZScore);
  EXPECT_TRUE(year.missing_flag);
  EXPECT_EQ(year.values[item_of(d, "5")], 1995.0f);
  EXPECT_TRUE(std::isnan(year.values[item_of(d, "4")]));  // no release date
  // Users: age (z-scored later), gender, one-hot occupations (u.occupation + "writer").
  ASSERT_GE(d.user_extra.size(), 2u + 5u);
  EXPECT_EQ(d.user_extra[0].name, "ml_age");
  EXPECT_EQ(d.user_extra[0].values[d.users.find("2")], 53.0f);
  EXPECT_EQ(d.user_extra[1].name, "ml_gender_f");
  EXPECT_EQ(d.user_extra[1].values[d.users.find("10")], 1.0f);
  EXPECT_EQ(d.user_extra.back().name, "ml_occupation_writer");
  EXPECT_EQ(d.user_extra.back().values[d.users.find("3")], 1.0f);

  ReadOptions fold;
  fold.inputs = {corpus("movielens")};
  fold.ml_fold = "1";
  const RawData f = read_inputs(fold);
  EXPECT_TRUE(f.predefined_split);
  ASSERT_EQ(f.rows.size(), 12u);
  EXPECT_EQ(f.rows[0].split, SplitTag::kTrain);
  EXPECT_EQ(f.rows[11].split, SplitTag::kTest);
}

TEST(ReadersCpuTest, GenericCsvAndTsv) {
  const RawData d = read({corpus("csv/ratings.csv")});
  EXPECT_EQ(d.format, InputFormat::kCsv);
  ASSERT_EQ(d.rows.size(), 5u);
  EXPECT_EQ(d.items.str(d.rows[0].item), "Toy Story, The");  // quoted field with a comma
  EXPECT_FLOAT_EQ(d.rows[0].rating, 4.5f);
  EXPECT_EQ(d.rows[0].timestamp, 964982703);
  EXPECT_TRUE(d.has_ratings);

  ReadOptions o;
  o.inputs = {corpus("csv/events.tsv")};
  o.format = InputFormat::kCsv;
  o.user_col = "customer";
  o.item_col = "product";
  o.time_col = "ts";
  const RawData t = read_inputs(o);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.users.str(t.rows[2].user), "c2");
  EXPECT_EQ(t.rows[1].timestamp, 200);
  EXPECT_TRUE(std::isnan(t.rows[0].rating));
  EXPECT_FALSE(t.has_ratings);
  o.time_unit = "ms";
  EXPECT_EQ(read_inputs(o).rows[1].timestamp, 0);  // 200 ms
  o.rating_col = "stars";                          // named explicitly but absent
  expect_error([&] { read_inputs(o); }, {"events.tsv", "no rating column", "customer"});
}

TEST(ReadersCpuTest, DetectsEachFormat) {
  std::string why;
  EXPECT_EQ(detect_format({corpus("amazon2023")}, &why), InputFormat::kAmazon2023);
  EXPECT_EQ(detect_format({corpus("amazon2023/meta_Tiny_Beauty.jsonl")}), InputFormat::kAmazon2023);
  EXPECT_EQ(detect_format({corpus("amazon2018/Tiny_Cards_5.json")}), InputFormat::kAmazon2018);
  EXPECT_EQ(detect_format({corpus("amazon2023csv/Tiny.valid.csv")}), InputFormat::kAmazon2023Csv);
  EXPECT_EQ(detect_format({corpus("lightgcn")}), InputFormat::kLightGcn);
  EXPECT_EQ(detect_format({corpus("lightgcn/train.txt")}), InputFormat::kLightGcn);
  EXPECT_EQ(detect_format({corpus("movielens")}), InputFormat::kMovieLens);
  EXPECT_EQ(detect_format({corpus("movielens/u1.test")}), InputFormat::kMovieLens);
  EXPECT_EQ(detect_format({corpus("csv/events.tsv")}), InputFormat::kCsv);
  EXPECT_FALSE(why.empty());
  const std::string dir = testing::temp_dir("detect");
  expect_error([&] { detect_format({write_text(dir, "x.dat", "justoneword\n")}); },
               {"cannot tell the input format", "--format"});
  expect_error([&] { parse_input_format("parquet"); }, {"--format parquet", "amazon2023"});
}

TEST(ReadersCpuTest, PriceTextAndLatin1) {
  EXPECT_DOUBLE_EQ(parse_price_text("$12.99"), 12.99);
  EXPECT_DOUBLE_EQ(parse_price_text(" $1,299.00 "), 1299.0);
  EXPECT_DOUBLE_EQ(parse_price_text("$5.99 - $9.99"), 7.99);
  EXPECT_DOUBLE_EQ(parse_price_text("7"), 7.0);
  for (const char* bad : {"", "$", "free", "from 9.99", ".a-box-inner{background-color:#fff}",
                          "$1 - ", "$1 - $2 extra"}) {
    EXPECT_TRUE(std::isnan(parse_price_text(bad))) << bad;
  }
  EXPECT_EQ(latin1_to_utf8("a\xe9z\xff"), "a\xc3\xa9z\xc3\xbf");
}

// ---- Bad input

struct BadCase {
  std::string name, file, text;
  InputFormat format;
  std::vector<std::string> needles;  // besides the file name
};

TEST(BadInputCpuTest, EachProblemIsAnErrorNamingFileLineAndField) {
  const std::string dir = testing::temp_dir("bad");
  const std::string ok23 =
      R"({"user_id": "u1", "parent_asin": "p1", "rating": 5.0, "timestamp": 1600000000000})";
  const std::vector<BadCase> cases = {
      {"truncated json",
       "a.jsonl",
       ok23 + "\n{\"user_id\": \"u2\", \"parent_as\n",
       InputFormat::kAmazon2023,
       {":2:", "malformed JSON"}},
      {"not an object",
       "b.jsonl",
       ok23 + "\n[1, 2]\n",
       InputFormat::kAmazon2023,
       {":2:", "expected a JSON object"}},
      {"missing field",
       "c.jsonl",
       ok23 + "\n{\"parent_asin\": \"p\", \"rating\": 1, \"timestamp\": 1}\n",
       InputFormat::kAmazon2023,
       {":2:", "'user_id' is missing"}},
      {"rating as text",
       "d.jsonl",
       ok23 + "\n{\"user_id\": \"u\", \"parent_asin\": \"p\", \"rating\": \"five\", \"timestamp\": "
              "1}\n",
       InputFormat::kAmazon2023,
       {":2:", "'rating' must be a number"}},
      {"id as number",
       "e.jsonl",
       ok23 + "\n{\"user_id\": 7, \"parent_asin\": \"p\", \"rating\": 1, \"timestamp\": 1}\n",
       InputFormat::kAmazon2023,
       {":2:", "'user_id' must be a string"}},
      {"tab in id",
       "f.jsonl",
       ok23 +
           "\n{\"user_id\": \"a\\tb\", \"parent_asin\": \"p\", \"rating\": 1, \"timestamp\": 1}\n",
       InputFormat::kAmazon2023,
       {":2:", "user_id", "control character"}},
      {"newline in id",
       "g.jsonl",
       ok23 +
           "\n{\"user_id\": \"u\", \"parent_asin\": \"p\\nq\", \"rating\": 1, \"timestamp\": 1}\n",
       InputFormat::kAmazon2023,
       {":2:", "parent_asin", "control character"}},
      {"empty id",
       "h.jsonl",
       ok23 + "\n{\"user_id\": \"\", \"parent_asin\": \"p\", \"rating\": 1, \"timestamp\": 1}\n",
       InputFormat::kAmazon2023,
       {":2:", "user_id", "empty"}},
      {"timestamp as text",
       "i.json",
       "{\"reviewerID\": \"r\", \"asin\": \"a\", \"overall\": 5.0, \"unixReviewTime\": \"May\"}\n",
       InputFormat::kAmazon2018,
       {":1:", "'unixReviewTime' must be an integer timestamp"}},
      {"trailing garbage",
       "j.jsonl",
       ok23 + " x\n",
       InputFormat::kAmazon2023,
       {":1:", "malformed JSON"}},
      {"text in csv rating",
       "k.csv",
       "user_id,item_id,rating\nu,i,4\nu,j,great\n",
       InputFormat::kCsv,
       {":3:", "column 'rating'", "'great' is not a number"}},
      {"csv field count",
       "l.csv",
       "user_id,item_id,rating\nu,i,4,extra\n",
       InputFormat::kCsv,
       {":2:", "4 fields, but the header names 3"}},
      {"csv unterminated quote",
       "m.csv",
       "user_id,item_id\n\"u,i\n",
       InputFormat::kCsv,
       {":2:", "unterminated quoted field"}},
      {"csv missing column",
       "n.csv",
       "uid_x,item_id\nu,i\n",
       InputFormat::kCsv,
       {":1:", "no user column", "uid_x"}},
      {"csv bad timestamp",
       "o.csv",
       "user_id,item_id,timestamp\nu,i,yesterday\n",
       InputFormat::kCsv,
       {":2:", "column 'timestamp'", "yesterday"}},
      {"benchmark csv without rating",
       "p.csv",
       "user_id,parent_asin,timestamp\nu,i,1\n",
       InputFormat::kAmazon2023Csv,
       {":1:", "no rating column"}},
      {"lightgcn token",
       "train.txt",
       "0 1 2\n1 x 3\n",
       InputFormat::kLightGcn,
       {":2:", "token 2 'x'"}},
      {"lightgcn negative",
       "test.txt",
       "0 1 2\n1 -3\n",
       InputFormat::kLightGcn,
       {":2:", "token 2 '-3'"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string sub = dir + "/" + std::to_string(&c - cases.data());
    fs::create_directories(sub);
    const std::string p = write_text(sub, c.file, c.text);
    std::vector<std::string> needles = c.needles;
    needles.insert(needles.begin(), p);
    expect_error([&] { read({p}, c.format); }, needles);
  }
}

TEST(BadInputCpuTest, MovieLensFilesAreChecked) {
  const std::string dir = testing::temp_dir("bad_ml");
  write_text(dir, "u.data", "1\t1\t5\t881250949\n1\t2\tfive\t881250950\n");
  expect_error([&] { read({dir}); }, {"u.data:2:", "'rating'", "five"});
  write_text(dir, "u.data", "1\t1\t5\t881250949\n1\t2\t3\n");
  expect_error([&] { read({dir}); }, {"u.data:2:", "3 tab-separated fields"});
  write_text(dir, "u.data", "1\t1\t5\t881250949\n");
  write_text(dir, "u.item", "1|Toy Story (1995)|01-Jan-1995||url|0|0\n");
  expect_error([&] { read({dir}); }, {"u.item:1:", "7 '|'-separated fields"});
  fs::remove(dir + "/u.item");
  write_text(dir, "u.user", "1|old|M|artist|123\n");
  expect_error([&] { read({dir}); }, {"u.user:1:", "'age'"});
  ReadOptions o;
  o.inputs = {dir};
  o.ml_fold = "3";
  expect_error([&] { read_inputs(o); }, {"u3.base", "not found"});
}

TEST(BadInputCpuTest, ForcedWrongFormatIsAClearError) {
  // amazon2018 keys on a 2023 file: every line lacks 'reviewerID'.
  expect_error([&] { read({corpus("amazon2023/Tiny_Beauty.jsonl")}, InputFormat::kAmazon2018); },
               {"Tiny_Beauty.jsonl:1:", "'reviewerID' is missing", "amazon2018"});
  expect_error([&] { read({corpus("csv/ratings.csv")}, InputFormat::kLightGcn); },
               {"ratings.csv:1:", "not a non-negative integer", "lightgcn"});
  expect_error([&] { read({corpus("amazon2018/Tiny_Cards_5.json")}, InputFormat::kCsv); },
               {"Tiny_Cards_5.json:1:", "no user column"});
  expect_error([&] { read({corpus("amazon2023")}, InputFormat::kMovieLens); },
               {"u.data", "not found"});
  // With --skip-bad-lines a file with no good line at all is still an error.
  ReadOptions o;
  o.inputs = {corpus("amazon2023/Tiny_Beauty.jsonl")};
  o.format = InputFormat::kAmazon2018;
  o.bad_lines.skip = true;
  o.bad_lines.max = 100;
  expect_error([&] { read_inputs(o); }, {"no line could be read as amazon2018", "--format"});
}

TEST(BadInputCpuTest, SkipBadLinesCountsUpToTheLimit) {
  const std::string dir = testing::temp_dir("skip");
  const std::string p =
      write_text(dir, "r.csv",
                 "user_id,item_id,rating\nu1,i1,5\nu1,i2,oops\nu2,i1,3\nu2\nu3,i3,1\n\"u4,i4,2\n");
  ReadOptions o;
  o.inputs = {p};
  o.bad_lines.skip = true;
  o.bad_lines.max = 3;
  const RawData d = read_inputs(o);
  EXPECT_EQ(d.rows.size(), 3u);
  EXPECT_EQ(d.stats.bad_lines, 3);
  ASSERT_EQ(d.stats.bad_examples.size(), 3u);
  EXPECT_NE(d.stats.bad_examples[0].find("r.csv:3:"), std::string::npos);
  o.bad_lines.max = 2;
  expect_error([&] { read_inputs(o); }, {"more than 2 bad lines", "r.csv:7:"});
  o.bad_lines.skip = false;
  expect_error([&] { read_inputs(o); }, {"r.csv:3:", "--skip-bad-lines"});
}

TEST(BadInputCpuTest, BadMetadataLinesAndMissingInputs) {
  const std::string dir = testing::temp_dir("badmeta");
  const std::string meta = write_text(dir, "meta_X.jsonl",
                                      "{\"parent_asin\": \"P01\", \"title\": \"ok\"}\n"
                                      "{\"parent_asin\": \"P02\", \"categories\": \"notalist\"}\n");
  expect_error([&] { read({corpus("amazon2023/Tiny_Beauty.jsonl")}, InputFormat::kAuto, {meta}); },
               {"meta_X.jsonl:2:", "'categories' must be a list of strings"});
  const std::string meta2 = write_text(dir, "meta_Y.jsonl", "{\"title\": \"no id\"}\n");
  expect_error([&] { read({corpus("amazon2023/Tiny_Beauty.jsonl")}, InputFormat::kAuto, {meta2}); },
               {"meta_Y.jsonl:1:", "'parent_asin' (Amazon 2023) or 'asin'"});
  expect_error([&] { read({dir + "/nothing.jsonl"}); }, {"nothing.jsonl", "no such file"});
  expect_error([&] { read({corpus("amazon2023/meta_Tiny_Beauty.jsonl")}); },
               {"no interaction file"});
  const std::string empty = write_text(dir, "empty.csv", "");
  expect_error([&] { read({empty}, InputFormat::kCsv); }, {"empty.csv", "empty file"});
  const std::string header_only = write_text(dir, "header.csv", "user_id,item_id\n");
  EXPECT_TRUE(read({header_only}, InputFormat::kCsv).rows.empty());
  // Mixed split files and plain files.
  fs::copy_file(corpus("amazon2023csv/Tiny.train.csv"), dir + "/A.train.csv");
  fs::copy_file(corpus("amazon2023csv/Tiny.train.csv"), dir + "/B.csv");
  expect_error(
      [&] {
        read({dir + "/A.train.csv", dir + "/B.csv"}, InputFormat::kAmazon2023Csv);
      },
      {"some inputs name a split"});
}

TEST(BadInputCpuTest, TruncatedGzipInputFailsTheRead) {
  const std::string dir = testing::temp_dir("truncgz");
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text += fmt::format(
        "{{\"user_id\": \"u{}\", \"parent_asin\": \"p{}\", \"rating\": 5.0, \"timestamp\": {}}}\n",
        i % 97, i % 89, 1600000000000LL + i);
  }
  write_gzip(dir + "/full.jsonl.gz", text);
  const std::string gz = read_file(dir + "/full.jsonl.gz");
  const std::string cut = write_text(dir, "Cut.jsonl.gz", gz.substr(0, gz.size() * 2 / 3));
  expect_error([&] { read({cut}, InputFormat::kAmazon2023); }, {"Cut.jsonl.gz", "truncated gzip"});
}

}  // namespace
}  // namespace gnnrec
