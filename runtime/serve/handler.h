// The request handling of `gnnrec serve`, independent of sockets: server.cpp adapts cpp-httplib
// requests to HttpRequest and back, and tests call ServeHandler::handle() directly.
//
// Routes (see docs/serving.md):
//   GET  /                          the "Recommended for You" page (HTML, no external resources)
//   GET  /recommend/<user_id>/      ?k=10 &history=i1,i2 &source=auto|live
//   GET  /history/<user_id>/        ?n=20  the user's training interactions, most recent first
//   GET  /users/                    ?limit=20  a sample of known user ids (for the page)
//   GET  /healthz, /readyz, /metrics
//   POST /feedback                  {user_id, item_id, event, value?} -> the feedback log
//   POST /admin/reload              loopback only: reload the model dirs, swap atomically
// Every error is JSON {error, detail} with a 4xx/5xx status; nothing a request carries ever
// becomes part of a file path.
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "runtime/serve/feedback.h"
#include "runtime/serve/metrics.h"
#include "runtime/serve/model.h"

namespace gnnrec::serve {

struct HttpRequest {
  std::string method;                                       // "GET", "POST", ...
  std::string path;                                         // percent-decoded, without the query
  std::vector<std::pair<std::string, std::string>> params;  // decoded query parameters
  std::string body;
  std::string remote_addr;  // "127.0.0.1", "::1", ...; empty = unknown (never loopback)
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct ServeConfig {
  int split_b = 0;  // percent of users on model B (used only when a model B is loaded)
  std::string salt = "gnnrec";
  int default_k = 10;
  int max_k = 1000;
  size_t max_body_bytes = 64 * 1024;
  size_t max_id_bytes = 256;
  int max_history = 100;  // items in ?history=
};

// Limits every handler enforces (documented in docs/serving.md).
constexpr int kMaxUsersListed = 100;

// "" when `id` is an acceptable user or item id, else why not: 1..max_bytes bytes of
// [A-Za-z0-9] and "_-.:@+=~", not "." or containing "..".
std::string check_id(const std::string& id, size_t max_bytes);

class ServeHandler {
 public:
  ServeHandler(ModelSources sources, ServeConfig config, FeedbackLog* feedback = nullptr);

  // The first load; throws gnnrec::Error when it fails (the server then exits).
  void load();
  // Reloads every source into a new state and swaps it in. On failure keeps the current state,
  // logs why and returns false (with the reason in *why). Concurrent calls run one at a time.
  bool reload(std::string* why = nullptr);
  // The current state (null before the first load); holders keep it alive across a swap.
  std::shared_ptr<const ServingState> state() const;
  bool ready() const { return state() != nullptr; }

  HttpResponse handle(const HttpRequest& req);

  // Requests answered by the HTTP layer itself (malformed request line, 413 before the body was
  // read, ...) are counted here so /metrics sees them.
  void count_transport_error(const std::string& method, int status);
  std::string render_metrics();
  MetricRegistry& registry() { return registry_; }
  const ServeConfig& config() const { return config_; }
  const char* variant_of(const std::string& user_id) const;

 private:
  HttpResponse route(const HttpRequest& req, std::string& route_label);
  HttpResponse get_recommend(const HttpRequest& req, const std::string& uid);
  HttpResponse get_history(const HttpRequest& req, const std::string& uid);
  HttpResponse get_users(const HttpRequest& req);
  HttpResponse post_feedback(const HttpRequest& req);
  HttpResponse post_reload(const HttpRequest& req);
  HttpResponse get_metrics();
  void publish_state_metrics(const ServingState& s);

  ModelSources sources_;
  ServeConfig config_;
  FeedbackLog* feedback_;
  mutable std::mutex state_mu_;  // guards state_ (copy under the lock, use outside it)
  std::shared_ptr<const ServingState> state_;
  std::mutex reload_mu_;  // one reload at a time
  uint64_t next_generation_ = 1;

  MetricRegistry registry_;
  MetricFamily *requests_, *latency_, *in_flight_, *recs_, *rec_latency_, *feedback_events_,
      *feedback_errors_, *model_info_, *model_generation_, *model_loaded_, *model_load_seconds_,
      *reloads_, *catalog_size_, *split_gauge_, *start_time_;
};

// The "Recommended for You" page (page.cpp).
const std::string& recommend_page_html();

}  // namespace gnnrec::serve
