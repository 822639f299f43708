#include "runtime/serve/handler.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/serve/ab.h"

namespace gnnrec::serve {
namespace {

using json = nlohmann::json;

// Latency buckets (seconds): sub-millisecond precomputed lookups up to multi-second live scans.
const std::vector<double> kLatencyBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                             0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};

HttpResponse json_response(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  // Invalid UTF-8 (e.g. in a title) is replaced rather than failing the whole response.
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  r.body += '\n';
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse error_response(int status, const std::string& error, const std::string& detail) {
  return json_response(status, {{"error", error}, {"detail", detail}});
}

HttpResponse method_not_allowed(const std::string& allow, const std::string& method) {
  HttpResponse r = error_response(405, "method_not_allowed",
                                  "method " + method + " is not allowed here; use " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

bool is_loopback(const std::string& addr) {
  return addr.rfind("127.", 0) == 0 || addr == "::1" || addr.rfind("::ffff:127.", 0) == 0;
}

std::string normalize_method(const std::string& m) {
  static const char* kKnown[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
  for (const char* k : kKnown) {
    if (m == k) return m;
  }
  return "other";
}

// A parameter given at most once. Returns false (and sets *err) when it is repeated.
bool single_param(const HttpRequest& req, const char* name, std::string* value, bool* present,
                  std::string* err) {
  *present = false;
  for (const auto& [k, v] : req.params) {
    if (k != name) continue;
    if (*present) {
      *err = std::string("query parameter '") + name + "' is given more than once";
      return false;
    }
    *present = true;
    *value = v;
  }
  return true;
}

// Optional integer parameter in [lo, hi]; "" on success, else the problem.
std::string int_param(const HttpRequest& req, const char* name, int lo, int hi, int* out) {
  std::string v, err;
  bool present = false;
  if (!single_param(req, name, &v, &present, &err)) return err;
  if (!present) return "";
  const bool digits = !v.empty() && v.size() <= 9 &&
                      std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) {
    return fmt::format("query parameter '{}' must be an integer in [{}, {}]", name, lo, hi);
  }
  const long x = std::stol(v);
  if (x < lo || x > hi) {
    return fmt::format("query parameter '{}' is {}; it must be in [{}, {}]", name, x, lo, hi);
  }
  *out = static_cast<int>(x);
  return "";
}

json price_json(double p) { return p >= 0 && std::isfinite(p) ? json(p) : json(nullptr); }

json item_json(const Catalog& cat, int32_t i) {
  const ItemInfo& info = cat.items[i];
  return {{"item_id", cat.item_ids[i]},
          {"title", info.title},
          {"category", info.category},
          {"brand", info.brand},
          {"price", price_json(info.price)}};
}

std::string iso8601_utc_ms(std::chrono::system_clock::time_point t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms % 1000));
}

// The id segment of /<prefix>/<id>/ (one trailing slash optional). Sets *err when malformed.
std::string path_id(const std::string& path, const std::string& prefix, size_t max_bytes,
                    std::string* err) {
  std::string id = path.substr(prefix.size());
  if (!id.empty() && id.back() == '/') id.pop_back();
  if (id.find('/') != std::string::npos) {
    *err = "the id must not contain '/'";
    return "";
  }
  *err = check_id(id, max_bytes);
  return id;
}

}  // namespace

std::string check_id(const std::string& id, size_t max_bytes) {
  if (id.empty()) return "the id is empty";
  if (id.size() > max_bytes) {
    return fmt::format("the id is {} bytes; at most {} are accepted", id.size(), max_bytes);
  }
  for (unsigned char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.' || c == ':' || c == '@' || c == '+' ||
                    c == '=' || c == '~';
    if (!ok) {
      return c >= 0x20 && c < 0x7f
                 ? fmt::format("the id contains '{}'; ids use [A-Za-z0-9] and _-.:@+=~", char(c))
                 : fmt::format("the id contains byte 0x{:02x}; ids use [A-Za-z0-9] and _-.:@+=~",
                               int(c));
    }
  }
  if (id == "." || id.find("..") != std::string::npos) return "the id looks like a path ('..')";
  return "";
}

ServeHandler::ServeHandler(ModelSources sources, ServeConfig config, FeedbackLog* feedback)
    : sources_(std::move(sources)), config_(std::move(config)), feedback_(feedback) {
  GNNREC_EXPECTS(config_.split_b >= 0 && config_.split_b <= 100,
                 "--split-b must be a percentage in [0, 100], got {}", config_.split_b);
  GNNREC_EXPECTS(config_.max_k >= 1 && config_.default_k >= 1 && config_.default_k <= config_.max_k,
                 "serve: default k {} must be in [1, max k {}]", config_.default_k, config_.max_k);
  auto& r = registry_;
  requests_ = &r.counter("gnnrec_http_requests_total", "HTTP requests by route, method and status",
                         {"route", "method", "status"});
  latency_ = &r.histogram("gnnrec_http_request_duration_seconds",
                          "Time to handle a request (excluding network transfer)", {"route"},
                          kLatencyBuckets);
  in_flight_ = &r.gauge("gnnrec_http_requests_in_flight", "Requests being handled now");
  recs_ = &r.counter("gnnrec_recommendations_served_total",
                     "Recommendation lists served by A/B variant and source (precomputed, live, "
                     "cold_start)",
                     {"variant", "source"});
  rec_latency_ = &r.histogram("gnnrec_recommendation_duration_seconds",
                              "Time to compute one recommendation list", {"variant", "source"},
                              kLatencyBuckets);
  feedback_events_ = &r.counter("gnnrec_feedback_events_total",
                                "Feedback events appended to the log by event type and variant",
                                {"event", "variant"});
  feedback_errors_ =
      &r.counter("gnnrec_feedback_write_errors_total", "Feedback events that could not be written");
  model_info_ =
      &r.gauge("gnnrec_model_info", "The model serving each variant (value 1; labels name it)",
               {"variant", "model", "precomputed_k"});
  model_generation_ =
      &r.gauge("gnnrec_model_generation", "Model version: 1 at start, +1 per successful reload");
  model_loaded_ = &r.gauge("gnnrec_model_loaded_timestamp_seconds",
                           "Unix time when the serving model finished loading");
  model_load_seconds_ =
      &r.gauge("gnnrec_model_load_duration_seconds", "Seconds the last successful (re)load took");
  reloads_ = &r.counter("gnnrec_model_reloads_total", "Reload attempts by result", {"result"});
  catalog_size_ =
      &r.gauge("gnnrec_catalog_entities", "Users and items in the served dataset", {"kind"});
  split_gauge_ = &r.gauge("gnnrec_ab_split_ratio",
                          "Fraction of users assigned to variant B (0 without a model B)");
  start_time_ = &r.gauge("gnnrec_process_start_time_seconds", "Unix time the server started");
  start_time_->set(
      {},
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  split_gauge_->set({}, 0);
  // Series that exist from the start read 0 instead of being absent, so rate() works at once.
  for (const char* v : {"A", "B"}) {
    for (const char* src : {"precomputed", "live", "cold_start"}) recs_->inc({v, src}, 0);
    for (const char* ev : {"impression", "click", "purchase", "rating"}) {
      feedback_events_->inc({ev, v}, 0);
    }
  }
  feedback_errors_->inc({}, 0);
  reloads_->inc({"ok"}, 0);
  reloads_->inc({"failed"}, 0);
}

void ServeHandler::load() {
  std::lock_guard<std::mutex> lock(reload_mu_);
  auto s = load_serving_state(sources_, next_generation_);
  ++next_generation_;
  publish_state_metrics(*s);
  std::lock_guard<std::mutex> sl(state_mu_);
  state_ = std::move(s);
}

bool ServeHandler::reload(std::string* why) {
  std::lock_guard<std::mutex> lock(reload_mu_);
  std::shared_ptr<const ServingState> s;
  try {
    s = load_serving_state(sources_, next_generation_);
  } catch (const std::exception& e) {
    reloads_->inc({"failed"});
    log_warn("reload failed, still serving generation {}: {}", state() ? state()->generation : 0,
             e.what());
    if (why) *why = e.what();
    return false;
  }
  ++next_generation_;
  publish_state_metrics(*s);
  {
    std::lock_guard<std::mutex> sl(state_mu_);
    state_.swap(s);  // the old state dies with the last request holding it
  }
  reloads_->inc({"ok"});
  log_info("reloaded: generation {} ({} users, {} items, {:.2f} s)", state()->generation,
           state()->catalog->num_users, state()->catalog->num_items, state()->load_seconds);
  return true;
}

std::shared_ptr<const ServingState> ServeHandler::state() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return state_;
}

void ServeHandler::publish_state_metrics(const ServingState& s) {
  model_info_->clear();
  model_info_->set({"A", s.a.name, std::to_string(s.a.rec_k)}, 1);
  if (s.b) model_info_->set({"B", s.b->name, std::to_string(s.b->rec_k)}, 1);
  model_generation_->set({}, static_cast<double>(s.generation));
  model_loaded_->set({}, s.loaded_unix);
  model_load_seconds_->set({}, s.load_seconds);
  catalog_size_->set({"users"}, s.catalog->num_users);
  catalog_size_->set({"items"}, s.catalog->num_items);
  split_gauge_->set({}, s.b ? config_.split_b / 100.0 : 0.0);
}

const char* ServeHandler::variant_of(const std::string& user_id) const {
  auto s = state();
  if (!s || !s->b) return "A";
  return assign_variant(config_.salt, user_id, config_.split_b);
}

void ServeHandler::count_transport_error(const std::string& method, int status) {
  requests_->inc({"unmatched", normalize_method(method), std::to_string(status)});
}

std::string ServeHandler::render_metrics() { return registry_.render(); }

HttpResponse ServeHandler::handle(const HttpRequest& req) {
  const auto t0 = std::chrono::steady_clock::now();
  in_flight_->inc({}, 1);
  std::string label = "unmatched";
  HttpResponse res;
  try {
    res = route(req, label);
  } catch (const std::exception& e) {
    log_warn("{} {}: internal error: {}", req.method, req.path.substr(0, 300), e.what());
    res = error_response(500, "internal", "the server failed to answer; see its log");
  }
  in_flight_->inc({}, -1);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  requests_->inc({label, normalize_method(req.method), std::to_string(res.status)});
  latency_->observe({label}, secs);
  return res;
}

HttpResponse ServeHandler::route(const HttpRequest& req, std::string& label) {
  const std::string& p = req.path;
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (p == "/" || p == "/index.html") {
    label = "/";
    if (!get) return method_not_allowed("GET", req.method);
    HttpResponse r;
    r.content_type = "text/html; charset=utf-8";
    r.body = recommend_page_html();
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; script-src 'unsafe-inline'; style-src "
                           "'unsafe-inline'; img-src data:");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return r;
  }
  if (p.rfind("/recommend/", 0) == 0) {
    label = "/recommend/{user_id}";
    if (!get) return method_not_allowed("GET", req.method);
    std::string err;
    const std::string uid = path_id(p, "/recommend/", config_.max_id_bytes, &err);
    if (!err.empty()) return error_response(400, "bad_user_id", err);
    return get_recommend(req, uid);
  }
  if (p.rfind("/history/", 0) == 0) {
    label = "/history/{user_id}";
    if (!get) return method_not_allowed("GET", req.method);
    std::string err;
    const std::string uid = path_id(p, "/history/", config_.max_id_bytes, &err);
    if (!err.empty()) return error_response(400, "bad_user_id", err);
    return get_history(req, uid);
  }
  if (p == "/users" || p == "/users/") {
    label = "/users";
    if (!get) return method_not_allowed("GET", req.method);
    return get_users(req);
  }
  if (p == "/healthz") {
    label = p;
    if (!get) return method_not_allowed("GET", req.method);
    return json_response(200, {{"status", "ok"}});
  }
  if (p == "/readyz") {
    label = p;
    if (!get) return method_not_allowed("GET", req.method);
    auto s = state();
    if (!s) return error_response(503, "not_ready", "the model is still loading");
    return json_response(200, {{"status", "ready"}, {"generation", s->generation}});
  }
  if (p == "/metrics") {
    label = p;
    if (!get) return method_not_allowed("GET", req.method);
    return get_metrics();
  }
  if (p == "/feedback") {
    label = p;
    if (req.method != "POST") return method_not_allowed("POST", req.method);
    return post_feedback(req);
  }
  if (p == "/admin/reload") {
    label = p;
    if (req.method != "POST") return method_not_allowed("POST", req.method);
    return post_reload(req);
  }
  return error_response(404, "not_found", "no such route; see docs/serving.md");
}

HttpResponse ServeHandler::get_recommend(const HttpRequest& req, const std::string& uid) {
  int k = config_.default_k;
  std::string err = int_param(req, "k", 1, config_.max_k, &k);
  if (!err.empty()) return error_response(400, "bad_parameter", err);
  std::string hist, source = "auto";
  bool has_hist = false, has_source = false;
  if (!single_param(req, "history", &hist, &has_hist, &err) ||
      !single_param(req, "source", &source, &has_source, &err)) {
    return error_response(400, "bad_parameter", err);
  }
  if (source != "auto" && source != "live") {
    return error_response(400, "bad_parameter", "query parameter 'source' must be auto or live");
  }
  std::vector<std::string> hist_ids;
  if (has_hist && !hist.empty()) {
    size_t start = 0;
    while (true) {
      const size_t comma = hist.find(',', start);
      hist_ids.push_back(hist.substr(start, comma == std::string::npos ? comma : comma - start));
      if (static_cast<int>(hist_ids.size()) > config_.max_history) {
        return error_response(
            400, "bad_parameter",
            fmt::format("'history' holds more than {} items", config_.max_history));
      }
      const std::string why = check_id(hist_ids.back(), config_.max_id_bytes);
      if (!why.empty()) {
        return error_response(400, "bad_parameter",
                              fmt::format("'history' item {}: {}", hist_ids.size(), why));
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  auto s = state();
  if (!s) return error_response(503, "not_ready", "the model is still loading");
  const Catalog& cat = *s->catalog;
  const std::string variant = s->b ? assign_variant(config_.salt, uid, config_.split_b) : "A";
  const EmbeddingModel& m = s->model(variant);
  const std::optional<int32_t> user = cat.find_user(uid);
  std::vector<int32_t> history;
  int unknown_history = 0;
  if (!user) {
    for (const auto& h : hist_ids) {
      if (auto i = cat.find_item(h)) {
        history.push_back(*i);
      } else {
        ++unknown_history;
      }
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  const Recommendation rec = recommend(cat, m, user, history, k, source == "live");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const char* src = source_name(rec.source);
  recs_->inc({variant, src});
  rec_latency_->observe({variant, src}, secs);

  json items = json::array();
  for (size_t i = 0; i < rec.items.size(); ++i) {
    json it = item_json(cat, rec.items[i]);
    it["score"] = std::isfinite(rec.scores[i]) ? json(rec.scores[i]) : json(nullptr);
    items.push_back(std::move(it));
  }
  json out = {{"user_id", uid},  {"known_user", user.has_value()},    {"variant", variant},
              {"model", m.name}, {"model_generation", s->generation}, {"source", src},
              {"k", k},          {"items", std::move(items)}};
  if (rec.source == Source::kColdStart) {
    out["strategy"] = rec.detail;
    if (!hist_ids.empty()) out["history_unknown"] = unknown_history;
  }
  return json_response(200, out);
}

HttpResponse ServeHandler::get_history(const HttpRequest& req, const std::string& uid) {
  int n = 20;
  const std::string err = int_param(req, "n", 1, config_.max_k, &n);
  if (!err.empty()) return error_response(400, "bad_parameter", err);
  auto s = state();
  if (!s) return error_response(503, "not_ready", "the model is still loading");
  const Catalog& cat = *s->catalog;
  const std::optional<int32_t> user = cat.find_user(uid);
  json items = json::array();
  int64_t total = 0;
  if (user) {
    total = cat.user_items.degree(*user);
    for (const HistoryEntry& h : user_history(cat, *user, n)) {
      json it = item_json(cat, h.item);
      it["timestamp"] = h.timestamp;
      it["rating"] = h.rating;
      items.push_back(std::move(it));
    }
  }
  return json_response(
      200, {{"user_id", uid},
            {"known_user", user.has_value()},
            {"variant", s->b ? assign_variant(config_.salt, uid, config_.split_b) : "A"},
            {"interactions", total},
            {"items", std::move(items)}});
}

HttpResponse ServeHandler::get_users(const HttpRequest& req) {
  int limit = 20;
  const std::string err = int_param(req, "limit", 1, kMaxUsersListed, &limit);
  if (!err.empty()) return error_response(400, "bad_parameter", err);
  auto s = state();
  if (!s) return error_response(503, "not_ready", "the model is still loading");
  const Catalog& cat = *s->catalog;
  // Evenly spaced over users with training interactions, so the sample is stable and spread.
  std::vector<int32_t> active;
  for (int32_t u = 0; u < cat.num_users; ++u) {
    if (cat.user_items.degree(u) > 0) active.push_back(u);
  }
  json users = json::array();
  const size_t n = std::min<size_t>(limit, active.size());
  for (size_t i = 0; i < n; ++i) {
    const int32_t u = active[i * active.size() / n];
    users.push_back({{"user_id", cat.user_ids[u]}, {"interactions", cat.user_items.degree(u)}});
  }
  return json_response(
      200,
      {{"num_users", cat.num_users}, {"num_items", cat.num_items}, {"users", std::move(users)}});
}

HttpResponse ServeHandler::post_feedback(const HttpRequest& req) {
  if (req.body.size() > config_.max_body_bytes) {
    return error_response(413, "payload_too_large",
                          fmt::format("the body is {} bytes; at most {} are accepted",
                                      req.body.size(), config_.max_body_bytes));
  }
  json j = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return error_response(400, "bad_json", "the body is not valid JSON");
  if (!j.is_object()) return error_response(400, "bad_json", "the body must be a JSON object");
  auto id_field = [&](const char* key, std::string* out) -> std::string {
    if (!j.contains(key)) return std::string("field '") + key + "' is missing";
    const json& v = j[key];
    if (v.is_string()) {
      *out = v.get<std::string>();
    } else if (v.is_number_integer()) {
      *out = v.dump();
    } else {
      return std::string("field '") + key + "' must be a string";
    }
    const std::string why = check_id(*out, config_.max_id_bytes);
    return why.empty() ? "" : std::string("field '") + key + "': " + why;
  };
  std::string uid, iid;
  std::string err = id_field("user_id", &uid);
  if (err.empty()) err = id_field("item_id", &iid);
  if (!err.empty()) return error_response(400, "bad_feedback", err);
  static const char* kEvents[] = {"impression", "click", "purchase", "rating"};
  if (!j.contains("event") || !j["event"].is_string() ||
      std::none_of(std::begin(kEvents), std::end(kEvents),
                   [&](const char* e) { return j["event"] == e; })) {
    return error_response(400, "bad_feedback",
                          "field 'event' must be one of impression, click, purchase, rating");
  }
  const std::string event = j["event"].get<std::string>();
  std::optional<double> value;
  if (j.contains("value") && !j["value"].is_null()) {
    if (!j["value"].is_number() || !std::isfinite(j["value"].get<double>())) {
      return error_response(400, "bad_feedback", "field 'value' must be a finite number");
    }
    value = j["value"].get<double>();
  }
  if (event == "rating" && !value) {
    return error_response(400, "bad_feedback", "a rating event needs a numeric 'value'");
  }
  if (!feedback_) {
    return error_response(503, "feedback_disabled",
                          "the server was started without --feedback-log");
  }
  auto s = state();
  const std::string variant = s && s->b ? assign_variant(config_.salt, uid, config_.split_b) : "A";
  const auto now = std::chrono::system_clock::now();
  json line = {
      {"ts", iso8601_utc_ms(now)},
      {"unix_ms",
       std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count()},
      {"user_id", uid},
      {"item_id", iid},
      {"event", event}};
  if (value) line["value"] = *value;
  line["variant"] = variant;
  if (s) {
    line["model"] = s->model(variant).name;
    line["model_generation"] = s->generation;
    line["known_user"] = s->catalog->find_user(uid).has_value();
    line["known_item"] = s->catalog->find_item(iid).has_value();
  }
  try {
    feedback_->append(line.dump());
  } catch (const std::exception& e) {
    feedback_errors_->inc({});
    log_warn("feedback not written: {}", e.what());
    return error_response(503, "feedback_unavailable", "the feedback log could not be written");
  }
  feedback_events_->inc({event, variant});
  return json_response(202, {{"status", "accepted"}, {"variant", variant}});
}

HttpResponse ServeHandler::post_reload(const HttpRequest& req) {
  if (!is_loopback(req.remote_addr)) {
    return error_response(403, "forbidden", "/admin/reload only answers loopback clients");
  }
  std::string why;
  if (!reload(&why)) {
    return error_response(500, "reload_failed", "the previous model keeps serving; reason: " + why);
  }
  auto s = state();
  return json_response(
      200,
      {{"status", "reloaded"}, {"generation", s->generation}, {"load_seconds", s->load_seconds}});
}

HttpResponse ServeHandler::get_metrics() {
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = render_metrics();
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace gnnrec::serve
