// A small Prometheus registry: counter, gauge and histogram families with fixed label names,
// rendered in the text exposition format 0.0.4 (what `promtool check metrics` validates).
// Thread-safe; each family holds its series in an ordered map so the output is deterministic.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gnnrec::serve {

using Labels = std::vector<std::string>;  // values, in the order of the family's label names

class MetricFamily {
 public:
  enum class Type { kCounter, kGauge, kHistogram };
  MetricFamily(std::string name, std::string help, Type type, std::vector<std::string> labels,
               std::vector<double> buckets = {});

  void inc(const Labels& values, double v = 1.0);  // counter or gauge
  void set(const Labels& values, double v);        // gauge
  void observe(const Labels& values, double v);    // histogram
  double value(const Labels& values) const;        // counter/gauge value, 0 when absent
  void clear();                                    // drops every series (gauges of a model)
  uint64_t count(const Labels& values) const;      // histogram sample count
  void render(std::string& out) const;

 private:
  struct Series {
    double value = 0;                   // counter / gauge / histogram sum
    std::vector<uint64_t> bucket_hits;  // per bucket (not cumulative), then +Inf
    uint64_t count = 0;
  };
  Series& series(const Labels& values);  // caller holds mu_
  std::string label_text(const Labels& values, const char* extra_name = nullptr,
                         const std::string& extra_value = "") const;

  std::string name_, help_;
  Type type_;
  std::vector<std::string> label_names_;
  std::vector<double> buckets_;
  mutable std::mutex mu_;
  std::map<Labels, Series> series_;
};

class MetricRegistry {
 public:
  MetricFamily& counter(const std::string& name, const std::string& help,
                        std::vector<std::string> labels = {});
  MetricFamily& gauge(const std::string& name, const std::string& help,
                      std::vector<std::string> labels = {});
  MetricFamily& histogram(const std::string& name, const std::string& help,
                          std::vector<std::string> labels, std::vector<double> buckets);
  // Every family, in registration order.
  std::string render() const;

 private:
  std::vector<std::unique_ptr<MetricFamily>> families_;  // registered once, before serving
};

// Escapes a label value: backslash, double quote and newline.
std::string escape_label_value(const std::string& v);
// A sample value as Prometheus writes it: integers without a fraction, +Inf/-Inf/NaN spelled out.
std::string format_sample(double v);

}  // namespace gnnrec::serve
