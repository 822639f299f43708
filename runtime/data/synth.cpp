// The synthetic data generator. Layout:
//  - Catalogue: built once, in memory (items are at most a few hundred thousand): cluster,
//    popularity, brand, price, title of every item, and per-cluster popularity CDFs.
//  - Users: planned once (interaction count of every user, calibrated so the total hits the
//    target), then generated block by block; a user's interactions depend only on
//    (seed, user id), so blocks are generated in parallel (OpenMP over fixed chunks of users)
//    and written in user order: the bytes do not depend on the thread count.
#include "runtime/data/synth.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "kernels/philox.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/npy.h"

namespace gnnrec {
namespace {

constexpr int64_t kTimeBegin = 1546300800;         // 2019-01-01T00:00:00Z
constexpr int64_t kTimeEnd = 1696118400;           // 2023-10-01T00:00:00Z
constexpr int64_t kMinSpan = 30 * 86400;           // shortest activity window of a user
constexpr int64_t kChunkUsers = 512;               // users per task (and per gzip member)
constexpr int64_t kBlockUsers = 64 * kChunkUsers;  // users generated before a write
constexpr int64_t kChunkItems = 2048;
constexpr int kBrandsPerCluster = 12;
constexpr int kGlobalBrands = 8;
constexpr int kWordsPerCluster = 30;
constexpr int kSubcategories = 4;
constexpr int kDuplicateRetries = 10;
constexpr double kGlobalBrandShare = 0.1;
constexpr int kSynthTruthVersion = 1;

enum StreamKind : uint32_t {
  kUserStream = 1,
  kItemStream = 2,
  kClusterStream = 3,
  kGlobalStream = 4,
  kIdStream = 5
};

// Sequential words from one Philox stream.
struct Rng {
  RngKey key;
  uint64_t next = 0;
  U32x4 buf{};
  int used = 4;
  Rng(uint64_t seed, uint32_t kind, uint64_t id, uint64_t first = 0)
      : key{seed, static_cast<uint32_t>(RngPurpose::kSynth), kind, static_cast<uint32_t>(id)},
        next(first) {}
  uint32_t u32() {
    if (used == 4) {
      buf = rng_draw(key, next++);
      used = 0;
    }
    return buf.v[used++];
  }
  double uniform() { return u32() * (1.0 / 4294967296.0); }               // [0, 1)
  double open_uniform() { return (u32() + 1.0) * (1.0 / 4294967296.0); }  // (0, 1]
  uint32_t below(uint32_t n) { return rng_below(u32(), n); }
  double normal() {
    return std::sqrt(-2 * std::log(open_uniform())) * std::cos(6.283185307179586 * uniform());
  }
};

// Index of the first cdf entry > u * total (cdf is an inclusive prefix sum).
int64_t sample_cdf(const std::vector<double>& cdf, double u) {
  const double x = u * cdf.back();
  const auto it = std::upper_bound(cdf.begin(), cdf.end(), x);
  return std::min<int64_t>(it - cdf.begin(), static_cast<int64_t>(cdf.size()) - 1);
}

const char* const kSyllables[] = {"ka",  "ro",  "ven", "tri", "lo",  "mi",  "zar", "pel",
                                  "qua", "dro", "sen", "ti",  "bra", "nox", "vi",  "lum",
                                  "cor", "fen", "ga",  "hex", "jo",  "kel", "mar", "nu",
                                  "oph", "ple", "rys", "sto", "tan", "ul",  "wex", "yor"};
const char* const kClusterNames[] = {
    "Headphones",       "Camera & Photo",      "Computers & Accessories",
    "Car Electronics",  "Cell Phones",         "Television & Video",
    "Home Audio",       "Wearable Technology", "Video Games",
    "Smart Home",       "Office Electronics",  "Portable Audio",
    "GPS & Navigation", "Power Accessories",   "Networking",
    "Drones",           "Musical Instruments", "Security Cameras",
    "Printers & Ink",   "Computer Components", "Tablets",
    "E-Readers",        "Projectors",          "Batteries & Chargers"};
const char* const kClusterNouns[] = {
    "Headphones",    "Camera",       "Laptop Stand",    "Car Charger",   "Phone Case",
    "TV Mount",      "Speaker",      "Smartwatch",      "Controller",    "Smart Plug",
    "Label Printer", "Earbuds",      "GPS Mount",       "Power Bank",    "Router",
    "Drone",         "Guitar Tuner", "Security Camera", "Ink Cartridge", "SSD",
    "Tablet Case",   "Reader Cover", "Projector",       "Battery Pack"};
const char* const kSubSuffixes[kSubcategories] = {"Accessories", "Cables & Adapters",
                                                  "Cases & Covers", "Replacement Parts"};
const char* const kShared[] = {"Wireless", "Portable", "Pro",     "Mini",     "Max",
                               "Plus",     "Ultra",    "Black",   "White",    "Premium",
                               "Compact",  "Smart",    "Fast",    "Slim",     "Heavy Duty",
                               "2 Pack",   "Kit",      "Edition", "Original", "New"};
constexpr int kNumClusterNames = static_cast<int>(std::size(kClusterNames));
constexpr int kNumShared = static_cast<int>(std::size(kShared));

const char* const kReviewTitles[5][4] = {
    {"Terrible", "Broke after a week", "Do not buy", "Very disappointed"},
    {"Not great", "Disappointing", "Could be better", "Meh"},
    {"It's okay", "Average", "Does the job", "Decent for the price"},
    {"Very good", "Solid", "Happy with it", "Works well"},
    {"Love it!", "Excellent", "Five stars", "Highly recommend"}};
const char* const kSentences[3][6] = {
    {"Stopped working after a few days.", "Cheap materials and poor fit.", "I returned it.",
     "Nothing like the description.", "The battery barely lasts.", "Support never answered."},
    {"It does what it says, nothing more.", "Build quality is fine.", "Took a while to set up.",
     "Shipping was slow.", "Good enough for the price.", "A bit smaller than expected."},
    {"Works exactly as described.", "Great quality for the price.", "Setup took two minutes.",
     "Would buy again.", "My second one, still great.", "Feels solid and well made."}};

std::string capitalised(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

// A pronounceable pseudo-word of 2-3 syllables.
std::string pseudo_word(Rng& r) {
  std::string w;
  const int n = 2 + static_cast<int>(r.below(2));
  for (int i = 0; i < n; ++i) w += kSyllables[r.below(std::size(kSyllables))];
  return w;
}

void append_int(std::string& s, int64_t v) {
  char b[24];
  auto res = std::to_chars(b, b + sizeof b, v);
  s.append(b, res.ptr);
}

void append_fixed(std::string& s, int64_t scaled, int decimals) {  // scaled / 10^decimals
  int64_t p = 1;
  for (int i = 0; i < decimals; ++i) p *= 10;
  append_int(s, scaled / p);
  s += '.';
  std::string frac = std::to_string(scaled % p);
  s.append(decimals - frac.size(), '0');
  s += frac;
}

struct Interaction {
  int32_t item;
  int8_t rating;
  int64_t ts_ms;
  int32_t helpful;
  bool verified;
  uint32_t text_bits;
};

struct UserPlan {
  int32_t n = 0;
  int32_t cluster[2] = {0, -1};
  double first_weight = 1.0;
  int64_t start = 0, span = 0;
};

class Model {
 public:
  explicit Model(const SynthConfig& cfg);
  const SynthConfig& cfg() const { return cfg_; }
  UserPlan plan(int64_t u) const;
  // The user's interactions in time order; returns the number of duplicate draws dropped.
  int generate(int64_t u, std::vector<Interaction>* out) const;
  void review_line(const std::string& user_id, const Interaction& x, std::string* s) const;
  void meta_line(int64_t i, int64_t rating_sum, int64_t rating_count, std::string* s) const;

  std::vector<int32_t> item_cluster;
  std::vector<double> item_pop;

 private:
  SynthConfig cfg_;
  std::vector<double> cluster_cdf_;  // cluster weights (item and user assignment)
  std::vector<std::vector<int32_t>> cluster_items_;
  std::vector<std::vector<double>> cluster_item_cdf_;
  std::vector<double> global_cdf_;
  std::vector<std::vector<std::string>> cluster_words_;
  std::vector<std::string> cluster_names_, brand_names_;  // brands: cluster-major, then global
  std::vector<double> cluster_price_median_;
  std::vector<int32_t> item_brand_;  // -1: missing
  std::vector<int8_t> item_sub_;
  std::vector<int32_t> item_price_cents_;  // -1: missing
  std::vector<std::string> item_title_, item_name_, item_id_;
  std::vector<int32_t> user_n_;
};

Model::Model(const SynthConfig& cfg) : cfg_(cfg) {
  GNNREC_EXPECTS(cfg.users >= 1 && cfg.users <= INT32_MAX, "--users {} must be in [1, 2^31)",
                 cfg.users);
  GNNREC_EXPECTS(cfg.items >= 1 && cfg.items <= INT32_MAX, "--items {} must be in [1, 2^31)",
                 cfg.items);
  GNNREC_EXPECTS(cfg.clusters >= 1 && cfg.clusters <= cfg.items,
                 "clusters {} must be in [1, items = {}]", cfg.clusters, cfg.items);
  GNNREC_EXPECTS(cfg.interactions >= cfg.users,
                 "--interactions {} must be >= --users {} (every user has at least one)",
                 cfg.interactions, cfg.users);
  GNNREC_EXPECTS(cfg.noise >= 0 && cfg.noise <= 1 && cfg.two_cluster_users >= 0 &&
                     cfg.two_cluster_users <= 1 && cfg.missing_price >= 0 &&
                     cfg.missing_price <= 1 && cfg.missing_store >= 0 && cfg.missing_store <= 1,
                 "synth probabilities must be in [0, 1]");
  GNNREC_EXPECTS(cfg.popularity_exponent >= 0 && cfg.activity_shape > 0,
                 "popularity_exponent must be >= 0 and activity_shape > 0");
  GNNREC_EXPECTS(
      !cfg.category.empty() && cfg.category.find_first_of("/\\\"\n") == std::string::npos,
      "--category '{}' must be non-empty without '/', '\\', '\"' or newlines", cfg.category);
  const int k = cfg.clusters;
  const int64_t n_items = cfg.items;

  // Clusters: sizes ~ (c + 1)^-0.5 so some tastes are more common than others.
  cluster_cdf_.resize(k);
  for (int c = 0; c < k; ++c)
    cluster_cdf_[c] = (c ? cluster_cdf_[c - 1] : 0.0) + 1.0 / std::sqrt(c + 1.0);
  cluster_words_.resize(k);
  cluster_names_.resize(k);
  cluster_price_median_.resize(k);
  for (int c = 0; c < k; ++c) {
    Rng r(cfg.seed, kClusterStream, c);
    for (int w = 0; w < kWordsPerCluster; ++w) cluster_words_[c].push_back(pseudo_word(r));
    cluster_names_[c] = kClusterNames[c % kNumClusterNames];
    if (c >= kNumClusterNames) cluster_names_[c] += " " + std::to_string(c / kNumClusterNames + 1);
    cluster_price_median_[c] = std::exp(std::log(8.0) + r.uniform() * std::log(50.0));  // $8-$400
    for (int b = 0; b < kBrandsPerCluster; ++b) brand_names_.push_back(capitalised(pseudo_word(r)));
  }
  {
    Rng r(cfg.seed, kGlobalStream, 0);
    for (int b = 0; b < kGlobalBrands; ++b)
      brand_names_.push_back(capitalised(pseudo_word(r)) + "Basics");
  }

  // Items: cluster, popularity rank (a random permutation), attributes and title.
  item_cluster.resize(n_items);
  item_pop.resize(n_items);
  item_brand_.resize(n_items);
  item_sub_.resize(n_items);
  item_price_cents_.resize(n_items);
  item_title_.resize(n_items);
  item_name_.resize(n_items);
  item_id_.resize(n_items);
  std::vector<std::pair<uint64_t, int32_t>> rank_key(n_items);
#pragma omp parallel for schedule(static, 4096) if (n_items > 8192)
  for (int64_t i = 0; i < n_items; ++i) {
    Rng r(cfg.seed, kItemStream, i);
    const int c = static_cast<int>(sample_cdf(cluster_cdf_, r.uniform()));
    item_cluster[i] = c;
    rank_key[i] = {(static_cast<uint64_t>(r.u32()) << 32) | r.u32(), static_cast<int32_t>(i)};
    const auto& words = cluster_words_[c];
    // Words early in the cluster list are more frequent (u^2 skews the index down).
    auto word = [&] {
      const double u = r.uniform();
      return capitalised(words[static_cast<size_t>(u * u * kWordsPerCluster)]);
    };
    if (r.uniform() < cfg.missing_store) {
      item_brand_[i] = -1;
    } else if (r.uniform() < kGlobalBrandShare) {
      item_brand_[i] = k * kBrandsPerCluster + static_cast<int32_t>(r.below(kGlobalBrands));
    } else {
      // Zipf-like within the cluster's brands: brand j with probability ~ 1 / (j + 1).
      const double u = r.uniform();
      item_brand_[i] =
          c * kBrandsPerCluster + static_cast<int32_t>(std::pow(kBrandsPerCluster + 1.0, u) - 1.0);
    }
    item_sub_[i] = static_cast<int8_t>(r.below(kSubcategories));
    const double price = cluster_price_median_[c] * std::exp(0.45 * r.normal());
    const bool no_price = r.uniform() < cfg.missing_price;
    item_price_cents_[i] = no_price ? -1 : static_cast<int32_t>(std::floor(price)) * 100 + 99;
    item_name_[i] = word();
    std::string t;
    if (item_brand_[i] >= 0) t += brand_names_[item_brand_[i]] + " ";
    if (r.uniform() < 0.5) t += std::string(kShared[r.below(kNumShared)]) + " ";
    t += item_name_[i] + " " + word() + " ";
    if (r.uniform() < 0.5) t += word() + " ";
    t += kClusterNouns[c % kNumClusterNames];
    if (r.uniform() < 0.5) t += std::string(", ") + kShared[r.below(kNumShared)];
    t += " " + std::string(1, static_cast<char>('A' + r.below(26))) +
         std::to_string(10 + r.below(990));
    item_title_[i] = std::move(t);
    item_id_[i] = synth_item_id(i);
  }
  std::sort(rank_key.begin(), rank_key.end());
  for (int64_t r = 0; r < n_items; ++r)
    item_pop[rank_key[r].second] = std::pow(static_cast<double>(r + 1), -cfg.popularity_exponent);
  cluster_items_.resize(k);
  for (int64_t r = 0; r < n_items; ++r)
    cluster_items_[item_cluster[rank_key[r].second]].push_back(rank_key[r].second);
  cluster_item_cdf_.resize(k);
  for (int c = 0; c < k; ++c) {
    double s = 0;
    for (int32_t i : cluster_items_[c]) cluster_item_cdf_[c].push_back(s += item_pop[i]);
    if (cluster_items_[c].empty())
      cluster_item_cdf_[c].push_back(0.0);  // never sampled, see plan()
  }
  global_cdf_.resize(n_items);
  {
    double s = 0;
    for (int64_t i = 0; i < n_items; ++i) global_cdf_[i] = s += item_pop[i];
  }

  // Activity: n_u = clamp(round(c * q_u^(-1/shape)), 1, cap) with q_u uniform in (0, 1]: a
  // Pareto law. c is found by bisection so that the total hits the target, and the few extra
  // interactions the rounding leaves are taken from the first users.
  const int64_t cap = std::min<int64_t>(n_items, std::clamp<int64_t>(n_items / 20, 20, 1000));
  GNNREC_EXPECTS(cfg.interactions <= cfg.users * cap,
                 "--interactions {} is more than {} users x {} (the per-user cap for {} items)",
                 cfg.interactions, cfg.users, cap, n_items);
  std::vector<double> x(cfg.users);
#pragma omp parallel for schedule(static, 4096) if (cfg.users > 8192)
  for (int64_t u = 0; u < cfg.users; ++u) {
    const U32x4 w = rng_draw(Rng(cfg.seed, kUserStream, u).key, 0);
    x[u] = std::pow((w.v[0] + 1.0) * (1.0 / 4294967296.0), -1.0 / cfg.activity_shape);
  }
  auto total_for = [&](double c) {
    int64_t t = 0;
#pragma omp parallel for reduction(+ : t) schedule(static) if (cfg.users > 200000)
    for (int64_t u = 0; u < cfg.users; ++u)
      t += std::clamp<int64_t>(std::llround(c * x[u]), 1, cap);
    return t;
  };
  double lo = 0, hi = static_cast<double>(cfg.interactions);
  for (int it = 0; it < 100 && hi - lo > 1e-9 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (total_for(mid) >= cfg.interactions ? hi : lo) = mid;
  }
  user_n_.resize(cfg.users);
  int64_t total = 0;
  for (int64_t u = 0; u < cfg.users; ++u) {
    user_n_[u] = static_cast<int32_t>(std::clamp<int64_t>(std::llround(hi * x[u]), 1, cap));
    total += user_n_[u];
  }
  for (int64_t u = 0; u < cfg.users && total > cfg.interactions; ++u) {
    if (user_n_[u] > 1) {
      --user_n_[u];
      --total;
    }
  }
}

UserPlan Model::plan(int64_t u) const {
  UserPlan p;
  p.n = user_n_[u];
  const U32x4 w = rng_draw(Rng(cfg_.seed, kUserStream, u).key, 0);  // word 0 drove n above
  auto unif = [](uint32_t v) { return v * (1.0 / 4294967296.0); };
  // Draw the clusters among those that have items (a tiny catalogue can leave one empty).
  auto pick = [&](double uu) {
    int c = static_cast<int>(sample_cdf(cluster_cdf_, uu));
    while (cluster_items_[c].empty()) c = (c + 1) % cfg_.clusters;
    return c;
  };
  p.cluster[0] = pick(unif(w.v[1]));
  const double u2 = unif(w.v[2]);
  if (cfg_.clusters > 1 && u2 < cfg_.two_cluster_users) {
    int c = pick(u2 / cfg_.two_cluster_users);
    if (c == p.cluster[0]) c = pick(std::fmod(u2 / cfg_.two_cluster_users + 0.5, 1.0));
    if (c != p.cluster[0]) {
      p.cluster[1] = c;
      p.first_weight = 0.5 + 0.35 * unif(w.v[3]);
    }
  }
  const U32x4 t = rng_draw(Rng(cfg_.seed, kUserStream, u).key, 1);
  const int64_t range = kTimeEnd - kTimeBegin;
  const double s = unif(t.v[0]);
  p.span = kMinSpan + static_cast<int64_t>((range - kMinSpan) * s * s);
  p.start = kTimeBegin + static_cast<int64_t>((range - p.span) * unif(t.v[1]));
  return p;
}

int Model::generate(int64_t u, std::vector<Interaction>* out) const {
  const UserPlan p = plan(u);
  Rng r(cfg_.seed, kUserStream, u, 2);  // blocks 0 and 1 belong to plan()
  out->clear();
  std::vector<int32_t> seen;
  seen.reserve(p.n);
  int dropped = 0;
  for (int j = 0; j < p.n; ++j) {
    int32_t item = -1;
    for (int attempt = 0; attempt <= kDuplicateRetries; ++attempt) {
      int32_t cand;
      // A user who has exhausted their clusters' likely items explores the whole catalogue.
      if (attempt >= kDuplicateRetries / 2 || r.uniform() < cfg_.noise) {
        cand = static_cast<int32_t>(sample_cdf(global_cdf_, r.uniform()));
      } else {
        const int c =
            (p.cluster[1] < 0 || r.uniform() < p.first_weight) ? p.cluster[0] : p.cluster[1];
        cand = cluster_items_[c][sample_cdf(cluster_item_cdf_[c], r.uniform())];
      }
      auto it = std::lower_bound(seen.begin(), seen.end(), cand);
      if (it == seen.end() || *it != cand) {
        seen.insert(it, cand);
        item = cand;
        break;
      }
    }
    if (item < 0) {
      ++dropped;
      continue;
    }
    Interaction x;
    x.item = item;
    const bool in_taste = item_cluster[item] == p.cluster[0] || item_cluster[item] == p.cluster[1];
    // Rating distributions (1..5): liked clusters skew high, others are middling.
    static const double kLiked[5] = {0.04, 0.05, 0.10, 0.26, 0.55};
    static const double kOther[5] = {0.15, 0.20, 0.30, 0.20, 0.15};
    const double* dist = in_taste ? kLiked : kOther;
    double ur = r.uniform(), acc = 0;
    x.rating = 5;
    for (int s = 0; s < 5; ++s) {
      acc += dist[s];
      if (ur < acc) {
        x.rating = static_cast<int8_t>(s + 1);
        break;
      }
    }
    x.helpful = 0;
    while (x.helpful < 50 && r.uniform() < 0.3) ++x.helpful;
    x.verified = r.uniform() < 0.9;
    x.text_bits = r.u32();
    out->push_back(x);
  }
  // Increasing timestamps: sorted uniform points in the window from normalised exponential gaps.
  const size_t n = out->size();
  std::vector<double> gaps(n + 1);
  double sum = 0;
  for (auto& g : gaps) sum += g = -std::log(r.open_uniform());
  double cum = 0;
  int64_t prev = 0;
  for (size_t j = 0; j < n; ++j) {
    cum += gaps[j];
    int64_t ms = (p.start + static_cast<int64_t>(p.span * (cum / sum))) * 1000 + r.below(1000);
    if (j > 0 && ms <= prev) ms = prev + 1 + r.below(1000);
    (*out)[j].ts_ms = prev = ms;
  }
  return dropped;
}

void Model::review_line(const std::string& user_id, const Interaction& x, std::string* s) const {
  const int rt = x.rating - 1;
  const int tone = x.rating <= 2 ? 0 : (x.rating == 3 ? 1 : 2);
  const uint32_t b = x.text_bits;
  const std::string& id = item_id_[x.item];
  *s += "{\"rating\": ";
  append_int(*s, x.rating);
  *s += ".0, \"title\": \"";
  *s += kReviewTitles[rt][b & 3];
  *s += "\", \"text\": \"The ";
  *s += item_name_[x.item];
  *s += ' ';
  *s += kClusterNouns[item_cluster[x.item] % kNumClusterNames];
  *s += (tone == 2 ? " is great. " : tone == 1 ? " is fine. " : " is a letdown. ");
  *s += kSentences[tone][(b >> 2) % 6];
  if ((b >> 5) & 1) {
    *s += ' ';
    *s += kSentences[tone][(b >> 6) % 6];
  }
  *s += "\", \"images\": [], \"asin\": \"";
  *s += id;
  *s += "\", \"parent_asin\": \"";
  *s += id;
  *s += "\", \"user_id\": \"";
  *s += user_id;
  *s += "\", \"timestamp\": ";
  append_int(*s, x.ts_ms);
  *s += ", \"helpful_vote\": ";
  append_int(*s, x.helpful);
  *s += x.verified ? ", \"verified_purchase\": true}\n" : ", \"verified_purchase\": false}\n";
}

void Model::meta_line(int64_t i, int64_t rating_sum, int64_t rating_count, std::string* s) const {
  const int c = item_cluster[i];
  *s += "{\"main_category\": \"";
  *s += cfg_.category;
  *s += "\", \"title\": \"";
  *s += item_title_[i];
  *s += "\", \"average_rating\": ";
  // Mean rating to one decimal, rounded half up in integers (exact and portable).
  append_fixed(*s, rating_count ? (rating_sum * 20 + rating_count) / (2 * rating_count) : 0, 1);
  *s += ", \"rating_number\": ";
  append_int(*s, rating_count);
  *s += ", \"features\": [\"";
  *s += item_name_[i];
  *s += " design\", \"Made for ";
  *s += cluster_names_[c];
  *s += "\"], \"description\": [\"";
  *s += item_title_[i];
  *s += ".\"], \"price\": ";
  if (item_price_cents_[i] < 0) {
    *s += "null";
  } else {
    append_fixed(*s, item_price_cents_[i], 2);
  }
  *s += ", \"images\": [], \"videos\": [], \"store\": ";
  if (item_brand_[i] < 0) {
    *s += "null";
  } else {
    *s += '"';
    *s += brand_names_[item_brand_[i]];
    *s += '"';
  }
  *s += ", \"categories\": [\"";
  *s += cfg_.category;
  *s += "\", \"";
  *s += cluster_names_[c];
  *s += "\", \"";
  *s += kClusterNouns[c % kNumClusterNames];
  *s += ' ';
  *s += kSubSuffixes[item_sub_[i]];
  *s += "\"], \"details\": {}, \"parent_asin\": \"";
  *s += item_id_[i];
  *s += "\"}\n";
}

// One gzip member holding `in` (deflate with a gzip wrapper; mtime 0, so bytes are stable).
std::string gzip_member(const std::string& in) {
  z_stream z{};
  GNNREC_EXPECTS(
      deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK,
      "zlib deflateInit2 failed");
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  deflateEnd(&z);
  GNNREC_EXPECTS(rc == Z_STREAM_END, "zlib deflate failed ({})", rc);
  out.resize(z.total_out);
  return out;
}

// A file written under a temporary name and renamed into place by commit().
class OutFile {
 public:
  explicit OutFile(std::string path)
      : path_(std::move(path)), tmp_(path_ + ".tmp." + std::to_string(::getpid())) {
    f_ = std::fopen(tmp_.c_str(), "wb");
    GNNREC_EXPECTS(f_ != nullptr, "{}: cannot open for writing ({})", tmp_, std::strerror(errno));
  }
  ~OutFile() {
    if (f_) {
      std::fclose(f_);
      std::remove(tmp_.c_str());
    }
  }
  void write(const std::string& s) {
    if (!s.empty() && std::fwrite(s.data(), 1, s.size(), f_) != s.size())
      GNNREC_FAIL("{}: write failed ({})", tmp_, std::strerror(errno));
  }
  void commit() {
    const bool ok = std::fflush(f_) == 0;
    std::fclose(f_);
    f_ = nullptr;
    if (!ok || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
      std::remove(tmp_.c_str());
      GNNREC_FAIL("{}: cannot finish writing ({})", path_, std::strerror(errno));
    }
  }

 private:
  std::string path_, tmp_;
  FILE* f_ = nullptr;
};

std::string file_stem(const std::string& category) {
  std::string s = category;
  std::replace(s.begin(), s.end(), ' ', '_');
  return s;
}

}  // namespace

SynthConfig synth_preset(const std::string& name) {
  SynthConfig c;
  c.preset = name;
  if (name == "tiny") {
    c.users = 2000, c.items = 1000, c.interactions = 20000, c.clusters = 20;
  } else if (name == "small") {
    c.users = 100000, c.items = 20000, c.interactions = 1000000, c.clusters = 30;
  } else if (name == "electronics") {
    c.users = 1600000, c.items = 400000, c.interactions = 15000000, c.clusters = 60;
  } else {
    GNNREC_FAIL("unknown synth preset '{}' (expected tiny, small or electronics)", name);
  }
  return c;
}

std::vector<std::string> synth_preset_names() { return {"tiny", "small", "electronics"}; }

std::string synth_item_id(int64_t item) {
  // 36^8 = 2^16 3^16 and the multiplier is coprime to 6, so this is a bijection mod 36^8.
  constexpr uint64_t kMod = 2821109907456ull;  // 36^8
  uint64_t v = (static_cast<uint64_t>(item) % kMod * 2654435761ull + 1234567ull) % kMod;
  std::string s = "B0########";
  static const char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (int p = 9; p >= 2; --p, v /= 36) s[p] = kDigits[v % 36];
  return s;
}

std::string synth_user_id(int64_t user) {
  static const char kB32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  // A bijective 32-bit mix of the id (odd multiplies and xor-shifts are invertible), then
  // 20 decorative characters from a hash of the id.
  uint32_t x = static_cast<uint32_t>(user) + 0x9E3779B9u;
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  std::string s = "A";
  for (int p = 6; p >= 0; --p) s += kB32[(static_cast<uint64_t>(x) >> (5 * p)) & 31];
  const U32x4 h = rng_draw(
      RngKey{0, static_cast<uint32_t>(RngPurpose::kSynth), kIdStream, static_cast<uint32_t>(user)},
      0);
  for (int p = 0; p < 20; ++p) s += kB32[(h.v[p / 5] >> ((p % 5) * 6)) & 31];
  return s;
}

SynthData synth_generate(const SynthConfig& cfg) {
  const Model m(cfg);
  SynthData d;
  d.item_cluster = m.item_cluster;
  d.item_popularity = m.item_pop;
  d.user_cluster[0].resize(cfg.users);
  d.user_cluster[1].resize(cfg.users);
  d.user_first_weight.resize(cfg.users);
  std::vector<Interaction> xs;
  for (int64_t u = 0; u < cfg.users; ++u) {
    const UserPlan p = m.plan(u);
    d.user_cluster[0][u] = p.cluster[0];
    d.user_cluster[1][u] = p.cluster[1];
    d.user_first_weight[u] = static_cast<float>(p.first_weight);
    m.generate(u, &xs);
    for (const auto& x : xs) {
      d.interactions.user.push_back(static_cast<int32_t>(u));
      d.interactions.item.push_back(x.item);
      d.interactions.rating.push_back(x.rating);
      d.interactions.timestamp.push_back(x.ts_ms / 1000);
    }
  }
  return d;
}

SynthSummary write_synth(const SynthConfig& cfg, const std::string& out_dir) {
  namespace fs = std::filesystem;
  const auto t0 = std::chrono::steady_clock::now();
  const Model m(cfg);
  fs::create_directories(out_dir);
  const std::string ext = cfg.gzip ? ".jsonl.gz" : ".jsonl";
  SynthSummary sum;
  sum.users = cfg.users;
  sum.items = cfg.items;
  sum.reviews_path = (fs::path(out_dir) / (file_stem(cfg.category) + ext)).string();
  sum.meta_path = (fs::path(out_dir) / ("meta_" + file_stem(cfg.category) + ext)).string();
  sum.truth_path = (fs::path(out_dir) / "synth_truth.json").string();
  log_info("synth: catalogue of {} items in {} clusters ready ({:.2f}s)", cfg.items, cfg.clusters,
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  std::vector<std::atomic<int64_t>> rating_sum(cfg.items), rating_count(cfg.items);
  {
    OutFile reviews(sum.reviews_path);
    // Text buffers live across blocks so their pages are reused, not faulted in again.
    std::vector<std::string> bufs(kBlockUsers / kChunkUsers);
    for (int64_t b0 = 0; b0 < cfg.users; b0 += kBlockUsers) {
      const int64_t b1 = std::min(cfg.users, b0 + kBlockUsers);
      const int64_t chunks = (b1 - b0 + kChunkUsers - 1) / kChunkUsers;
      std::vector<int64_t> written(chunks, 0), dropped(chunks, 0);
#pragma omp parallel if (chunks > 1)
      {
        std::vector<Interaction> xs;
        std::string text;
#pragma omp for schedule(dynamic, 1)
        for (int64_t ch = 0; ch < chunks; ++ch) {
          std::string& s = cfg.gzip ? text : bufs[ch];
          s.clear();
          const int64_t u0 = b0 + ch * kChunkUsers, u1 = std::min(b1, u0 + kChunkUsers);
          for (int64_t u = u0; u < u1; ++u) {
            dropped[ch] += m.generate(u, &xs);
            const std::string uid = synth_user_id(u);
            for (const auto& x : xs) {
              m.review_line(uid, x, &s);
              rating_sum[x.item].fetch_add(x.rating, std::memory_order_relaxed);
              rating_count[x.item].fetch_add(1, std::memory_order_relaxed);
            }
            written[ch] += static_cast<int64_t>(xs.size());
          }
          if (cfg.gzip) bufs[ch] = gzip_member(s);
        }
      }
      for (int64_t ch = 0; ch < chunks; ++ch) {
        reviews.write(bufs[ch]);
        sum.interactions += written[ch];
        sum.dropped_duplicates += dropped[ch];
      }
      if (b1 < cfg.users && (b0 / kBlockUsers) % 16 == 15) {
        log_info("synth: {} / {} users, {} interactions", b1, cfg.users, sum.interactions);
      }
    }
    reviews.commit();
  }
  {
    OutFile meta(sum.meta_path);
    const int64_t chunks = (cfg.items + kChunkItems - 1) / kChunkItems;
    const int64_t per_block = 64;
    for (int64_t c0 = 0; c0 < chunks; c0 += per_block) {
      const int64_t c1 = std::min(chunks, c0 + per_block);
      std::vector<std::string> bufs(c1 - c0);
#pragma omp parallel for schedule(dynamic, 1) if (c1 - c0 > 1)
      for (int64_t ch = c0; ch < c1; ++ch) {
        std::string& s = bufs[ch - c0];
        for (int64_t i = ch * kChunkItems; i < std::min(cfg.items, (ch + 1) * kChunkItems); ++i)
          m.meta_line(i, rating_sum[i].load(), rating_count[i].load(), &s);
        if (cfg.gzip) s = gzip_member(s);
      }
      for (auto& s : bufs) meta.write(s);
    }
    meta.commit();
  }
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::ordered_json j;
  j["kind"] = "gnnrec-synth-truth";
  j["version"] = kSynthTruthVersion;
  j["preset"] = cfg.preset;
  j["seed"] = cfg.seed;
  j["category"] = cfg.category;
  j["gzip"] = cfg.gzip;
  j["users"] = sum.users;
  j["items"] = sum.items;
  j["interactions"] = sum.interactions;
  j["interactions_target"] = cfg.interactions;
  j["dropped_duplicates"] = sum.dropped_duplicates;
  j["clusters"] = cfg.clusters;
  j["params"] = {{"popularity_exponent", cfg.popularity_exponent},
                 {"activity_shape", cfg.activity_shape},
                 {"noise", cfg.noise},
                 {"two_cluster_users", cfg.two_cluster_users},
                 {"missing_price", cfg.missing_price},
                 {"missing_store", cfg.missing_store},
                 {"time_range", {kTimeBegin, kTimeEnd}}};
  j["files"] = {fs::path(sum.reviews_path).filename().string(),
                fs::path(sum.meta_path).filename().string()};
  write_file_atomic(sum.truth_path, j.dump(2) + "\n");
  return sum;
}

}  // namespace gnnrec
