// `gnnrec eval`: metrics of a recommendations dir against a split, next to the Most-Popular and
// Random baselines ranked under the same mask, per-slice tables (user training degree, cold
// items), metric@k curves, training curves from a run's metrics.jsonl, and example users.
// Writes report.json and a self-contained report.html (inline CSS and SVG, no scripts).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gnnrec {

constexpr int kEvalReportSchemaVersion = 1;

struct EvalOptions {
  std::string recommendations_dir;
  std::string dataset_dir;     // empty: the recommendations' dataset_dir
  std::string split = "test";  // test or val
  std::vector<int> ks{5, 10, 20};
  std::string run_dir;  // optional: plots RUN_DIR/metrics.jsonl
  std::string out_dir;
  uint64_t seed = 2024;  // Random baseline
  int examples = 4;      // example users shown in the HTML
  int curve_max_k = 50;  // metric@k curves for k = 1 .. min(this, recommendations' K)
};

// Computes the report, writes report.json and report.html into out_dir, returns the report.
nlohmann::json evaluate_recommendations(const EvalOptions& opt);

// Reads RUN_DIR/metrics.jsonl: {"x_key": "epoch", "x": [...], "series": {key: [values or
// null]}} with every numeric key except the x key. Missing file: an error naming it.
nlohmann::json read_training_curves(const std::string& metrics_jsonl);

// The HTML page for a report (pure function of the JSON).
std::string render_report_html(const nlohmann::json& report);

}  // namespace gnnrec
