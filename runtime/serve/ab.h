// A/B assignment and the A/B report over the feedback log.
//
// A user's variant is a pure function of (salt, user id): FNV-1a 64 over the bytes of
// `salt + ":" + user_id`, reduced mod 100; buckets below split_b get "B". So a user keeps their
// variant across requests, restarts and machines, and changing the salt reshuffles everyone.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace gnnrec::serve {

constexpr uint64_t kFnv1a64Offset = 14695981039346656037ull;
constexpr uint64_t kFnv1a64Prime = 1099511628211ull;

// FNV-1a 64 of `data`, continuing from `h` (so a hash can be built in pieces).
uint64_t fnv1a64(std::string_view data, uint64_t h = kFnv1a64Offset);
// Bucket 0..99 of a user under `salt`.
int ab_bucket(std::string_view salt, std::string_view user_id);
// "A" or "B"; split_b in [0, 100] is the percentage of users sent to B.
const char* assign_variant(std::string_view salt, std::string_view user_id, int split_b);

// Wilson score interval of a binomial proportion (z = 1.96 for 95%). trials == 0 -> [0, 1].
struct Proportion {
  int64_t successes = 0, trials = 0;
  double rate = 0, lo = 0, hi = 1;
};
Proportion wilson_interval(int64_t successes, int64_t trials, double z = 1.96);

// Counts per variant read from a feedback log (serve/feedback.h writes it).
struct VariantCounts {
  int64_t impressions = 0, clicks = 0, purchases = 0, ratings = 0;
  double rating_sum = 0;
  int64_t users = 0;  // distinct users with any event
};
struct AbReport {
  std::string path;
  std::map<std::string, VariantCounts> variants;  // "A", "B"
  int64_t lines = 0, skipped = 0;  // skipped: malformed lines or unknown events (not fatal)
  std::string first_skip;          // "line N: why" of the first skipped line
};

// Reads a feedback JSONL log. A missing or unreadable file is an error; bad lines are counted
// and skipped (a crash can leave a torn last line).
AbReport ab_report_from_log(const std::string& path);
// Click-through (clicks / impressions) and purchase rate per variant with Wilson 95% intervals,
// and B - A with a two-proportion z-test; as a text table or as JSON.
std::string format_ab_report(const AbReport& r, bool json);

}  // namespace gnnrec::serve
