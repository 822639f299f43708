// The eval report as one self-contained HTML page: inline CSS, charts drawn here as inline SVG
// (no scripts, no external fonts or images), so the file can be mailed or archived as is.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "runtime/eval/metrics.h"
#include "runtime/eval/report.h"

namespace gnnrec {
namespace {

using nlohmann::json;

std::string esc(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&#39;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string jstr(const json& j, const char* key, const std::string& dflt = "") {
  if (!j.contains(key) || j[key].is_null()) return dflt;
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

// ---- charts --------------------------------------------------------------------------------

struct Line {
  std::string name, color;
  std::vector<double> x, y;  // NaN y = gap
  bool dashed = false;
};

// Round step sizes (1, 2, 5 x 10^n) giving about `n` ticks over [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int n) {
  const double raw = (hi - lo) / std::max(n, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (raw <= step) break;
  }
  std::vector<double> t;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  }
  return t;
}

std::string tick_label(double v) {
  const double a = std::fabs(v);
  if (a == 0) return "0";
  if (a >= 1e5 || a < 1e-3) return fmt::format("{:.1e}", v);
  if (a >= 100 || std::fabs(v - std::round(v)) < 1e-9) return fmt::format("{:.0f}", v);
  if (a >= 1) return fmt::format("{:.2g}", v);
  return fmt::format("{:.3g}", v);
}

std::string svg_chart(const std::string& title, const std::string& xlabel,
                      const std::vector<Line>& lines, int W, int H, bool y_from_zero) {
  const double ml = 56, mr = 14, mt = 30, mb = 38;
  const double pw = W - ml - mr, ph = H - mt - mb;
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (const Line& l : lines) {
    for (size_t i = 0; i < l.x.size() && i < l.y.size(); ++i) {
      if (!std::isfinite(l.y[i])) continue;
      xlo = std::min(xlo, l.x[i]);
      xhi = std::max(xhi, l.x[i]);
      ylo = std::min(ylo, l.y[i]);
      yhi = std::max(yhi, l.y[i]);
    }
  }
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "class=\"chart\" role=\"img\" aria-label=\"{}\">",
      W, H, W, H, esc(title));
  s += fmt::format("<text x=\"{}\" y=\"18\" class=\"ct\">{}</text>", ml, esc(title));
  if (!std::isfinite(xlo)) {
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"empty\">no data</text></svg>", W / 2, H / 2);
    return s;
  }
  if (y_from_zero) ylo = std::min(ylo, 0.0);
  if (yhi - ylo < 1e-12) {
    const double pad = std::max(std::fabs(yhi) * 0.1, 1e-3);
    ylo -= pad;
    yhi += pad;
  } else {
    yhi += (yhi - ylo) * 0.05;
    if (!y_from_zero) ylo -= (yhi - ylo) * 0.05;
  }
  if (xhi - xlo < 1e-12) {
    xlo -= 1;
    xhi += 1;
  }
  auto X = [&](double x) { return ml + (x - xlo) / (xhi - xlo) * pw; };
  auto Y = [&](double y) { return mt + ph - (y - ylo) / (yhi - ylo) * ph; };
  for (double t : nice_ticks(ylo, yhi, 5)) {
    if (t < ylo - 1e-12 || t > yhi + 1e-12) continue;
    s += fmt::format(
        "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" class=\"grid\"/>", ml,
        ml + pw, Y(t), Y(t));
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"yt\">{}</text>", ml - 6, Y(t) + 4,
                     tick_label(t));
  }
  for (double t : nice_ticks(xlo, xhi, 6)) {
    if (t < xlo - 1e-12 || t > xhi + 1e-12) continue;
    s += fmt::format(
        "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" class=\"tick\"/>", X(t),
        X(t), mt + ph, mt + ph + 4);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"xt\">{}</text>", X(t), mt + ph + 16,
                     tick_label(t));
  }
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"frame\"/>", ml, mt,
                   pw, ph);
  s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"xl\">{}</text>", ml + pw / 2, H - 6,
                   esc(xlabel));
  for (const Line& l : lines) {
    std::string pts;
    size_t npts = 0;
    auto flush = [&] {
      if (npts > 1) {
        s += fmt::format(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>", pts,
            l.color, l.dashed ? " stroke-dasharray=\"5 4\"" : "");
      }
      pts.clear();
      npts = 0;
    };
    size_t finite = 0;
    for (size_t i = 0; i < l.x.size() && i < l.y.size(); ++i) {
      if (!std::isfinite(l.y[i])) {
        flush();
        continue;
      }
      pts += fmt::format("{:.1f},{:.1f} ", X(l.x[i]), Y(l.y[i]));
      ++npts;
      ++finite;
    }
    flush();
    if (finite <= 40) {
      for (size_t i = 0; i < l.x.size() && i < l.y.size(); ++i) {
        if (!std::isfinite(l.y[i])) continue;
        s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.6\" fill=\"{}\"/>", X(l.x[i]),
                         Y(l.y[i]), l.color);
      }
    }
  }
  // Legend, top left inside the plot (curves rise to the right).
  if (lines.size() > 1) {
    double ly = mt + 14;
    for (const Line& l : lines) {
      s += fmt::format(
          "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
          "stroke-width=\"2.5\"{}/>",
          ml + 10, ml + 30, ly - 4, ly - 4, l.color, l.dashed ? " stroke-dasharray=\"5 4\"" : "");
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"lg\">{}</text>", ml + 36, ly,
                       esc(l.name));
      ly += 16;
    }
  }
  s += "</svg>";
  return s;
}

std::vector<double> to_doubles(const json& a) {
  std::vector<double> v;
  if (!a.is_array()) return v;
  for (const auto& x : a) v.push_back(x.is_number() ? x.get<double>() : NAN);
  return v;
}

// ---- page ----------------------------------------------------------------------------------

const char* kCss = R"(
*{box-sizing:border-box}
body{margin:0;background:#f5f6f8;color:#1f2933;font:14px/1.45 "DejaVu Sans",Helvetica,Arial,sans-serif}
.page{max-width:1160px;margin:0 auto;padding:22px 20px 40px}
header{background:#1e293b;color:#f8fafc;padding:18px 22px;border-radius:10px;margin-bottom:18px}
header h1{margin:0 0 6px;font-size:22px;font-weight:600}
.chips{display:flex;flex-wrap:wrap;gap:6px}
.chip{background:#334155;border-radius:12px;padding:2px 10px;font-size:12.5px}
.chip b{color:#fff;font-weight:600}
section{background:#fff;border:1px solid #e3e7ec;border-radius:10px;padding:14px 18px 16px;margin-bottom:16px}
h2{font-size:16px;margin:0 0 10px;color:#0f172a}
p.note{color:#52606d;margin:4px 0 10px;font-size:12.5px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:4px 8px;text-align:right;border-bottom:1px solid #edf0f3;white-space:nowrap}
th{font-weight:600;color:#334155;background:#f8fafc}
th.l,td.l{text-align:left}
td.wrap{white-space:normal}
tr.grp th{border-bottom:2px solid #cbd5e1;text-align:center}
td.best{font-weight:700;color:#1d4ed8}
td.sep,th.sep{border-left:2px solid #e2e8f0}
.charts{display:flex;flex-wrap:wrap;gap:10px}
.chart{background:#fff}
.chart .ct{font-size:13px;font-weight:600;fill:#0f172a}
.chart .yt{font-size:11px;fill:#52606d;text-anchor:end}
.chart .xt{font-size:11px;fill:#52606d;text-anchor:middle}
.chart .xl{font-size:11.5px;fill:#334155;text-anchor:middle}
.chart .lg{font-size:11.5px;fill:#334155}
.chart .grid{stroke:#eef1f4;stroke-width:1}
.chart .tick{stroke:#9aa5b1;stroke-width:1}
.chart .frame{fill:none;stroke:#cbd2d9;stroke-width:1}
.chart .empty{font-size:12px;fill:#9aa5b1;text-anchor:middle}
.examples{display:grid;grid-template-columns:minmax(0,1fr);gap:12px}
.ex{border:1px solid #e3e7ec;border-radius:8px;padding:10px 12px}
.ex h3{margin:0 0 2px;font-size:14px}
.ex .meta{color:#52606d;font-size:12px;margin-bottom:6px}
.cols{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:10px}
.cols h4{margin:2px 0 4px;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#52606d}
ol,ul{margin:0;padding-left:18px}
li{margin:1px 0;font-size:12.5px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
li .cat{color:#7b8794}
li.hit{color:#047857;font-weight:600}
li.hit::marker{color:#047857}
.tag{display:inline-block;background:#d1fae5;color:#065f46;border-radius:6px;padding:0 5px;font-size:11px;margin-left:4px}
footer{color:#7b8794;font-size:11.5px;margin-top:8px;word-break:break-all}
)";

const char* kMethodLabel[] = {"Model", "Most-Popular", "Random"};
const char* kMethodKey[] = {"model", "most_popular", "random"};
const char* kMethodColor[] = {"#2563eb", "#f59e0b", "#94a3b8"};

std::string fmt_metric(const std::string& name, double v) {
  if (name == "popularity") return fmt::format("{:.1f}", v);
  return fmt::format("{:.4f}", v);
}

std::string metrics_table(const json& rep) {
  const std::vector<int> ks = rep["ks"].get<std::vector<int>>();
  std::string s = "<table><tr class=\"grp\"><th class=\"l\"></th>";
  for (int k : ks) s += fmt::format("<th colspan=\"3\" class=\"sep\">@{}</th>", k);
  s += "</tr><tr><th class=\"l\">metric</th>";
  for (size_t i = 0; i < ks.size(); ++i) {
    for (int m = 0; m < 3; ++m) {
      s += fmt::format("<th{}>{}</th>", m == 0 ? " class=\"sep\"" : "", kMethodLabel[m]);
    }
  }
  s += "</tr>";
  for (const std::string& name : ranking_metric_names()) {
    const std::string k0 = name + "@" + std::to_string(ks[0]);
    if (!rep["metrics"]["model"].contains(k0)) continue;
    s += fmt::format("<tr><td class=\"l\">{}</td>", esc(name));
    for (int k : ks) {
      const std::string key = name + "@" + std::to_string(k);
      double vals[3];
      for (int m = 0; m < 3; ++m) vals[m] = rep["metrics"][kMethodKey[m]].value(key, 0.0);
      // Higher is better; coverage and popularity describe the lists (no highlight).
      const bool descriptive = name == "popularity" || name == "coverage";
      const int best = descriptive ? -1 : static_cast<int>(std::max_element(vals, vals + 3) - vals);
      for (int m = 0; m < 3; ++m) {
        std::string cls = m == 0 ? "sep" : "";
        if (m == best) cls += cls.empty() ? "best" : " best";
        s += fmt::format("<td{}>{}</td>", cls.empty() ? "" : " class=\"" + cls + "\"",
                         fmt_metric(name, vals[m]));
      }
    }
    s += "</tr>";
  }
  s += "</table>";
  return s;
}

std::string curve_charts(const json& rep) {
  const json& c = rep["curves"];
  std::string s = "<div class=\"charts\">";
  for (const char* metric : {"recall", "ndcg"}) {
    std::vector<Line> lines;
    for (int m = 0; m < 3; ++m) {
      Line l;
      l.name = kMethodLabel[m];
      l.color = kMethodColor[m];
      l.x = to_doubles(c["k"]);
      l.y = to_doubles(c[kMethodKey[m]][metric]);
      l.dashed = m == 2;
      lines.push_back(l);
    }
    s += svg_chart(fmt::format("{}@k", std::string(metric) == "ndcg" ? "NDCG" : "Recall"), "k",
                   lines, 530, 280, true);
  }
  s += "</div>";
  return s;
}

std::string training_charts(const json& rep) {
  if (!rep.contains("training")) {
    return "<p class=\"note\">No run directory was given (<code>--run RUN_DIR</code> plots its "
           "metrics.jsonl).</p>";
  }
  const json& t = rep["training"];
  const std::vector<double> x = to_doubles(t["x"]);
  std::string s = fmt::format("<p class=\"note\">From {} ({} rows).</p><div class=\"charts\">",
                              esc(jstr(t, "path")), x.size());
  static const char* kPalette[] = {"#2563eb", "#dc2626", "#059669", "#7c3aed",
                                   "#d97706", "#0891b2", "#db2777", "#4b5563"};
  std::vector<std::string> keys;
  if (t.contains("order")) keys = t["order"].get<std::vector<std::string>>();
  for (auto it = t["series"].begin(); it != t["series"].end(); ++it) {
    if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) keys.push_back(it.key());
  }
  int n = 0;
  for (const std::string& key : keys) {
    if (!t["series"].contains(key) || n >= 18) continue;
    Line l;
    l.name = key;
    l.color = kPalette[n % 8];
    l.x = x;
    l.y = to_doubles(t["series"][key]);
    s += svg_chart(key, jstr(t, "x_key", "epoch"), {l}, 348, 200, false);
    ++n;
  }
  s += "</div>";
  return s;
}

std::string slices_table(const json& rep) {
  const std::vector<int> ks = rep["ks"].get<std::vector<int>>();
  const int K = *std::max_element(ks.begin(), ks.end());
  const std::string r = "recall@" + std::to_string(K), n = "ndcg@" + std::to_string(K);
  std::string s = "<table><tr class=\"grp\"><th class=\"l\"></th><th></th>";
  s += fmt::format(
      "<th colspan=\"3\" class=\"sep\">Recall@{}</th><th colspan=\"3\" "
      "class=\"sep\">NDCG@{}</th></tr>",
      K, K);
  s += "<tr><th class=\"l\">users by training interactions</th><th>users</th>";
  for (int g = 0; g < 2; ++g) {
    for (int m = 0; m < 3; ++m) {
      s += fmt::format("<th{}>{}</th>", m == 0 ? " class=\"sep\"" : "", kMethodLabel[m]);
    }
  }
  s += "</tr>";
  for (const json& sl : rep["slices"]) {
    s += fmt::format("<tr><td class=\"l\">{}</td><td>{}</td>", esc(jstr(sl, "name")),
                     sl.value("users", 0));
    for (const std::string& key : {r, n}) {
      double vals[3];
      for (int m = 0; m < 3; ++m) vals[m] = sl[kMethodKey[m]].value(key, 0.0);
      const int best =
          sl.value("users", 0) > 0 ? static_cast<int>(std::max_element(vals, vals + 3) - vals) : -1;
      for (int m = 0; m < 3; ++m) {
        std::string cls = m == 0 ? "sep" : "";
        if (m == best) cls += " best";
        s += fmt::format("<td class=\"{}\">{}</td>", cls,
                         sl.value("users", 0) > 0 ? fmt::format("{:.4f}", vals[m]) : "&ndash;");
      }
    }
    s += "</tr>";
  }
  const json& c = rep["cold_items"];
  s += fmt::format(
      "<tr><td class=\"l wrap\">cold items: recall of the {} test edges to the {} items "
      "without training interactions</td><td></td>",
      c.value("test_edges", 0), c.value("items", 0));
  double vals[3];
  for (int m = 0; m < 3; ++m) vals[m] = c[kMethodKey[m]].value(r, 0.0);
  for (int m = 0; m < 3; ++m) {
    s += fmt::format("<td{}>{}</td>", m == 0 ? " class=\"sep\"" : "",
                     c.value("test_edges", 0) > 0 ? fmt::format("{:.4f}", vals[m]) : "&ndash;");
  }
  s += "<td class=\"sep\"></td><td></td><td></td></tr></table>";
  return s;
}

std::string item_li(const json& it, bool with_hit) {
  std::string title = jstr(it, "title");
  if (title.empty()) title = jstr(it, "id");
  std::string cat = jstr(it, "category");
  const bool hit = with_hit && it.value("hit", false);
  std::string s = fmt::format("<li{} title=\"{}\">{}", hit ? " class=\"hit\"" : "",
                              esc(title + (cat.empty() ? "" : " | " + cat)), esc(title));
  if (!cat.empty()) s += fmt::format(" <span class=\"cat\">&middot; {}</span>", esc(cat));
  if (hit) s += "<span class=\"tag\">in test</span>";
  s += "</li>";
  return s;
}

std::string examples_html(const json& rep) {
  if (rep["examples"].empty()) return "<p class=\"note\">No users with test items.</p>";
  std::string s = "<div class=\"examples\">";
  for (const json& ex : rep["examples"]) {
    s += "<div class=\"ex\">";
    s += fmt::format(
        "<h3>User {}</h3><div class=\"meta\">{} &middot; {} training interactions "
        "&middot; {} held-out items</div>",
        esc(jstr(ex, "user")), esc(jstr(ex, "slice")), ex.value("train_degree", 0),
        ex.value("truth_count", 0));
    s += "<div class=\"cols\"><div><h4>Recent history</h4><ul>";
    for (const json& it : ex["history"]) s += item_li(it, false);
    if (ex["history"].empty()) s += "<li class=\"cat\">(no training interactions)</li>";
    s += "</ul></div><div><h4>Recommended</h4><ol>";
    for (const json& it : ex["recommendations"]) s += item_li(it, true);
    s += "</ol></div></div></div>";
  }
  s += "</div>";
  return s;
}

}  // namespace

std::string render_report_html(const json& rep) {
  const std::vector<int> ks = rep["ks"].get<std::vector<int>>();
  const int K = *std::max_element(ks.begin(), ks.end());
  const std::string model =
      rep.contains("model") && !rep["model"].is_null() ? jstr(rep, "model") : std::string("model");
  std::string h = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">";
  h += fmt::format("<title>gnnrec evaluation: {}</title><style>{}</style></head><body>",
                   esc(jstr(rep, "dataset")), kCss);
  h += "<div class=\"page\"><header>";
  h += fmt::format("<h1>gnnrec evaluation &mdash; {}</h1><div class=\"chips\">",
                   esc(jstr(rep, "dataset")));
  auto chip = [&](const std::string& k, const std::string& v) {
    h += fmt::format("<span class=\"chip\">{} <b>{}</b></span>", esc(k), esc(v));
  };
  chip("model", model);
  chip("split", jstr(rep, "split"));
  chip("mask", jstr(rep, "mask"));
  chip("users evaluated", std::to_string(rep.value("users_evaluated", 0)));
  chip("skipped (no held-out items)", std::to_string(rep.value("users_skipped", 0)));
  chip("items", std::to_string(rep.value("num_items", 0)));
  chip("recall@" + std::to_string(K),
       fmt::format("{:.4f}", rep["metrics"]["model"].value("recall@" + std::to_string(K), 0.0)));
  chip("ndcg@" + std::to_string(K),
       fmt::format("{:.4f}", rep["metrics"]["model"].value("ndcg@" + std::to_string(K), 0.0)));
  h += "</div></header>";

  h += "<section><h2>Metrics</h2>";
  h += fmt::format(
      "<p class=\"note\">Full ranking over all {} items; the items in the mask ({}) are never "
      "recommended, by the model or by the baselines. Best of the three in bold.{}</p>",
      rep.value("num_items", 0), esc(jstr(rep, "mask")),
      rep.value("mask_violations", 0) > 0
          ? fmt::format(" <b>Warning: {} recommended items were in the mask.</b>",
                        rep.value("mask_violations", 0))
          : "");
  h += metrics_table(rep) + "</section>";

  h += "<section><h2>Metric@k</h2>" + curve_charts(rep) + "</section>";
  h += "<section><h2>Training</h2>" + training_charts(rep) + "</section>";
  h += "<section><h2>Slices</h2>" + slices_table(rep) + "</section>";
  h += "<section><h2>Example users</h2>" + examples_html(rep) + "</section>";
  h += fmt::format(
      "<footer>Generated {} by gnnrec {} (commit {}). Recommendations: {}. Dataset: {}.</footer>",
      esc(jstr(rep, "created")), esc(jstr(rep["build"], "version")),
      esc(jstr(rep["build"], "commit")), esc(jstr(rep, "recommendations_dir")),
      esc(jstr(rep, "dataset_dir")));
  h += "</div></body></html>\n";
  return h;
}

}  // namespace gnnrec
