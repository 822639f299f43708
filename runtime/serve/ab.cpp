#include "runtime/serve/ab.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "runtime/error.h"

namespace gnnrec::serve {

uint64_t fnv1a64(std::string_view data, uint64_t h) {
  for (unsigned char c : data) {
    h ^= c;
    h *= kFnv1a64Prime;
  }
  return h;
}

int ab_bucket(std::string_view salt, std::string_view user_id) {
  uint64_t h = fnv1a64(salt);
  h = fnv1a64(":", h);
  h = fnv1a64(user_id, h);
  return static_cast<int>(h % 100);
}

const char* assign_variant(std::string_view salt, std::string_view user_id, int split_b) {
  return ab_bucket(salt, user_id) < split_b ? "B" : "A";
}

Proportion wilson_interval(int64_t successes, int64_t trials, double z) {
  Proportion p;
  p.successes = successes;
  p.trials = trials;
  if (trials <= 0) return p;
  const double n = static_cast<double>(trials);
  const double ph = std::min(1.0, static_cast<double>(successes) / n);
  const double z2 = z * z;
  const double denom = 1 + z2 / n;
  const double center = (ph + z2 / (2 * n)) / denom;
  const double half = z * std::sqrt(ph * (1 - ph) / n + z2 / (4 * n * n)) / denom;
  p.rate = ph;
  p.lo = std::max(0.0, center - half);
  p.hi = std::min(1.0, center + half);
  return p;
}

AbReport ab_report_from_log(const std::string& path) {
  std::ifstream in(path);
  GNNREC_EXPECTS(in.good(), "{}: cannot open the feedback log", path);
  AbReport r;
  r.path = path;
  std::map<std::string, std::set<std::string>> users;
  std::string line;
  auto skip = [&](const std::string& why) {
    if (r.skipped++ == 0) r.first_skip = fmt::format("line {}: {}", r.lines, why);
  };
  while (std::getline(in, line)) {
    ++r.lines;
    if (line.empty()) {
      skip("empty");
      continue;
    }
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      skip("not a JSON object");
      continue;
    }
    auto str = [&](const char* k) {
      return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
    };
    const std::string variant = str("variant"), event = str("event"), user = str("user_id");
    if (variant.empty() || event.empty()) {
      skip("no variant or event");
      continue;
    }
    VariantCounts& c = r.variants[variant];
    if (event == "impression") {
      ++c.impressions;
    } else if (event == "click") {
      ++c.clicks;
    } else if (event == "purchase") {
      ++c.purchases;
    } else if (event == "rating") {
      ++c.ratings;
      if (j.contains("value") && j["value"].is_number()) c.rating_sum += j["value"].get<double>();
    } else {
      skip("unknown event '" + event + "'");
      continue;
    }
    if (!user.empty()) users[variant].insert(user);
  }
  for (auto& [v, c] : r.variants) c.users = static_cast<int64_t>(users[v].size());
  return r;
}

namespace {

// Two-sided p-value of the pooled two-proportion z-test (normal approximation).
double two_proportion_p(int64_t s1, int64_t n1, int64_t s2, int64_t n2) {
  if (n1 <= 0 || n2 <= 0) return 1.0;
  const double p1 = std::min(1.0, double(s1) / n1), p2 = std::min(1.0, double(s2) / n2);
  const double pool = std::min(1.0, double(s1 + s2) / double(n1 + n2));
  const double se = std::sqrt(pool * (1 - pool) * (1.0 / n1 + 1.0 / n2));
  if (se <= 0) return 1.0;
  const double z = std::fabs(p1 - p2) / se;
  return std::erfc(z / std::sqrt(2.0));
}

nlohmann::json prop_json(const Proportion& p) {
  return {
      {"successes", p.successes}, {"trials", p.trials}, {"rate", p.rate}, {"ci95", {p.lo, p.hi}}};
}

}  // namespace

std::string format_ab_report(const AbReport& r, bool json) {
  nlohmann::json out = {{"log", r.path}, {"lines", r.lines}, {"skipped", r.skipped}};
  if (r.skipped) out["first_skipped"] = r.first_skip;
  std::ostringstream t;
  t << fmt::format("A/B report of {} ({} lines, {} skipped{})\n", r.path, r.lines, r.skipped,
                   r.skipped ? "; first: " + r.first_skip : "");
  t << fmt::format("{:<8} {:>7} {:>11} {:>7} {:>9}  {:>8}  {:<20}  {:>9}  {}\n", "variant", "users",
                   "impressions", "clicks", "purchases", "CTR", "CTR 95% CI (Wilson)", "purch/imp",
                   "95% CI");
  for (const auto& [v, c] : r.variants) {
    const Proportion ctr = wilson_interval(c.clicks, c.impressions);
    const Proportion pur = wilson_interval(c.purchases, c.impressions);
    out["variants"][v] = {
        {"users", c.users},      {"impressions", c.impressions},
        {"clicks", c.clicks},    {"purchases", c.purchases},
        {"ratings", c.ratings},  {"mean_rating", c.ratings ? c.rating_sum / c.ratings : 0.0},
        {"ctr", prop_json(ctr)}, {"purchase_rate", prop_json(pur)}};
    if (c.clicks > c.impressions) out["variants"][v]["warning"] = "more clicks than impressions";
    auto pct = [](double x) { return fmt::format("{:.3f}%", 100 * x); };
    auto ci = [&](const Proportion& p) { return "[" + pct(p.lo) + ", " + pct(p.hi) + "]"; };
    t << fmt::format("{:<8} {:>7} {:>11} {:>7} {:>9}  {:>8}  {:<20}  {:>9}  {}\n", v, c.users,
                     c.impressions, c.clicks, c.purchases, pct(ctr.rate), ci(ctr), pct(pur.rate),
                     ci(pur));
  }
  const auto a = r.variants.find("A"), b = r.variants.find("B");
  if (a != r.variants.end() && b != r.variants.end()) {
    const auto& ca = a->second;
    const auto& cb = b->second;
    const double ra = ca.impressions ? std::min(1.0, double(ca.clicks) / ca.impressions) : 0;
    const double rb = cb.impressions ? std::min(1.0, double(cb.clicks) / cb.impressions) : 0;
    const double p = two_proportion_p(ca.clicks, ca.impressions, cb.clicks, cb.impressions);
    out["ctr_difference_b_minus_a"] = rb - ra;
    out["ctr_p_value"] = p;
    t << fmt::format("CTR B - A = {:+.3f} percentage points, two-proportion z-test p = {:.4f}\n",
                     100 * (rb - ra), p);
  }
  if (json) return out.dump(2) + "\n";
  return t.str();
}

}  // namespace gnnrec::serve
