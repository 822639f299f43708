#include "runtime/serve/metrics.h"

#include <fmt/format.h>

#include <cmath>

#include "runtime/error.h"

namespace gnnrec::serve {

std::string escape_label_value(const std::string& v) {
  std::string o;
  o.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      o += "\\\\";
    } else if (c == '"') {
      o += "\\\"";
    } else if (c == '\n') {
      o += "\\n";
    } else {
      o += c;
    }
  }
  return o;
}

std::string format_sample(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 9.0e15) return fmt::format("{}", int64_t(v));
  return fmt::format("{}", v);  // shortest round-trip representation
}

MetricFamily::MetricFamily(std::string name, std::string help, Type type,
                           std::vector<std::string> labels, std::vector<double> buckets)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(labels)),
      buckets_(std::move(buckets)) {
  for (size_t i = 1; i < buckets_.size(); ++i) {
    GNNREC_EXPECTS(buckets_[i - 1] < buckets_[i], "metric {}: buckets must increase", name_);
  }
}

MetricFamily::Series& MetricFamily::series(const Labels& values) {
  GNNREC_EXPECTS(values.size() == label_names_.size(), "metric {}: {} label values for {} labels",
                 name_, values.size(), label_names_.size());
  auto it = series_.find(values);
  if (it == series_.end()) {
    it = series_.emplace(values, Series{}).first;
    if (type_ == Type::kHistogram) it->second.bucket_hits.assign(buckets_.size() + 1, 0);
  }
  return it->second;
}

void MetricFamily::inc(const Labels& values, double v) {
  GNNREC_EXPECTS(type_ != Type::kHistogram, "metric {}: inc on a histogram", name_);
  GNNREC_EXPECTS(type_ != Type::kCounter || v >= 0, "metric {}: counters only go up", name_);
  std::lock_guard<std::mutex> lock(mu_);
  series(values).value += v;
}

void MetricFamily::set(const Labels& values, double v) {
  GNNREC_EXPECTS(type_ == Type::kGauge, "metric {}: set on a non-gauge", name_);
  std::lock_guard<std::mutex> lock(mu_);
  series(values).value = v;
}

void MetricFamily::observe(const Labels& values, double v) {
  GNNREC_EXPECTS(type_ == Type::kHistogram, "metric {}: observe on a non-histogram", name_);
  size_t b = 0;
  while (b < buckets_.size() && v > buckets_[b]) ++b;  // le semantics: v <= bound
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = series(values);
  s.value += v;
  s.count += 1;
  s.bucket_hits[b] += 1;
}

double MetricFamily::value(const Labels& values) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(values);
  return it == series_.end() ? 0.0 : it->second.value;
}

void MetricFamily::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  series_.clear();
}

uint64_t MetricFamily::count(const Labels& values) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(values);
  return it == series_.end() ? 0 : it->second.count;
}

std::string MetricFamily::label_text(const Labels& values, const char* extra_name,
                                     const std::string& extra_value) const {
  if (label_names_.empty() && !extra_name) return "";
  std::string o = "{";
  for (size_t i = 0; i < label_names_.size(); ++i) {
    if (i) o += ',';
    o += label_names_[i] + "=\"" + escape_label_value(values[i]) + "\"";
  }
  if (extra_name) {
    if (!label_names_.empty()) o += ',';
    o += std::string(extra_name) + "=\"" + extra_value + "\"";
  }
  return o + "}";
}

void MetricFamily::render(std::string& out) const {
  static const char* kTypeNames[] = {"counter", "gauge", "histogram"};
  std::string help;
  for (char c : help_)
    help += c == '\n' ? std::string("\\n") : c == '\\' ? "\\\\" : std::string(1, c);
  out += "# HELP " + name_ + " " + help + "\n";
  out += "# TYPE " + name_ + " " + kTypeNames[static_cast<int>(type_)] + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, s] : series_) {
    if (type_ != Type::kHistogram) {
      out += name_ + label_text(values) + " " + format_sample(s.value) + "\n";
      continue;
    }
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= buckets_.size(); ++b) {
      cumulative += s.bucket_hits[b];
      const std::string le = b < buckets_.size() ? format_sample(buckets_[b]) : "+Inf";
      out += name_ + "_bucket" + label_text(values, "le", le) + " " + std::to_string(cumulative) +
             "\n";
    }
    out += name_ + "_sum" + label_text(values) + " " + format_sample(s.value) + "\n";
    out += name_ + "_count" + label_text(values) + " " + std::to_string(s.count) + "\n";
  }
}

MetricFamily& MetricRegistry::counter(const std::string& name, const std::string& help,
                                      std::vector<std::string> labels) {
  families_.push_back(
      std::make_unique<MetricFamily>(name, help, MetricFamily::Type::kCounter, std::move(labels)));
  return *families_.back();
}

MetricFamily& MetricRegistry::gauge(const std::string& name, const std::string& help,
                                    std::vector<std::string> labels) {
  families_.push_back(
      std::make_unique<MetricFamily>(name, help, MetricFamily::Type::kGauge, std::move(labels)));
  return *families_.back();
}

MetricFamily& MetricRegistry::histogram(const std::string& name, const std::string& help,
                                        std::vector<std::string> labels,
                                        std::vector<double> buckets) {
  families_.push_back(std::make_unique<MetricFamily>(name, help, MetricFamily::Type::kHistogram,
                                                     std::move(labels), std::move(buckets)));
  return *families_.back();
}

std::string MetricRegistry::render() const {
  std::string out;
  for (const auto& f : families_) f->render(out);
  return out;
}

}  // namespace gnnrec::serve
