#include "runtime/serve/server.h"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "runtime/error.h"
#include "runtime/log.h"

namespace gnnrec::serve {
namespace {

HttpRequest adapt(const httplib::Request& req) {
  HttpRequest r;
  r.method = req.method;
  r.path = req.path;
  r.params.assign(req.params.begin(), req.params.end());
  r.body = req.body;
  r.remote_addr = req.remote_addr;
  return r;
}

void fill(const HttpResponse& in, httplib::Response& out) {
  out.status = in.status;
  for (const auto& [k, v] : in.headers) out.set_header(k, v);
  out.set_content(in.body, in.content_type.c_str());
}

const char* reason(int status) {
  switch (status) {
    case 400:
      return "the request could not be parsed";
    case 408:
      return "the client was too slow";
    case 413:
      return "the body is too large";
    case 414:
      return "the request line is too long";
    case 431:
      return "the request headers are too large";
    default:
      return "the HTTP layer refused the request";
  }
}

}  // namespace

void run_server(const ServeOptions& opt) {
  GNNREC_EXPECTS(opt.port >= 0 && opt.port <= 65535, "--port must be in [0, 65535], got {}",
                 opt.port);
  GNNREC_EXPECTS(opt.threads >= 0 && opt.threads <= 1024, "--threads must be in [0, 1024]");
  GNNREC_EXPECTS(opt.read_timeout_s >= 1, "read timeout must be at least 1 s");
  // Signals go to the main thread's sigwait only: block them before any thread starts, so every
  // thread inherits the mask. A closed client socket must not kill the process.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  if (opt.sources.export_b_dir.empty() && opt.config.split_b > 0) {
    log_warn("--split-b {} has no effect without --model-b: every user gets variant A",
             opt.config.split_b);
  }
  std::unique_ptr<FeedbackLog> feedback;
  if (!opt.feedback_log.empty()) {
    feedback = std::make_unique<FeedbackLog>(opt.feedback_log,
                                             std::chrono::milliseconds(opt.feedback_fsync_ms));
  }
  ServeHandler handler(opt.sources, opt.config, feedback.get());

  // cpp-httplib gives each open connection a worker until it closes (keep-alive included), so the
  // pool is sized for concurrent connections, not for cores: idle workers cost only memory.
  const int threads = opt.threads > 0
                          ? opt.threads
                          : std::max(32, 8 * static_cast<int>(std::thread::hardware_concurrency()));
  httplib::Server svr;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_read_timeout(opt.read_timeout_s, 0);
  svr.set_write_timeout(5, 0);
  svr.set_keep_alive_timeout(opt.keep_alive_timeout_s);
  svr.set_keep_alive_max_count(100);  // rotate connections so queued ones get a turn
  svr.set_payload_max_length(opt.config.max_body_bytes);
  svr.set_tcp_nodelay(true);
  auto dispatch = [&handler](const httplib::Request& req, httplib::Response& res) {
    fill(handler.handle(adapt(req)), res);
  };
  svr.Get(".*", dispatch);
  svr.Post(".*", dispatch);
  svr.Put(".*", dispatch);
  svr.Patch(".*", dispatch);
  svr.Delete(".*", dispatch);
  svr.Options(".*", dispatch);
  // Errors raised by the HTTP layer itself come without a body: give them the JSON shape.
  svr.set_error_handler(httplib::Server::HandlerWithResponse(
      [&handler](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        handler.count_transport_error(req.method, res.status);
        nlohmann::json j = {{"error", "http_" + std::to_string(res.status)},
                            {"detail", reason(res.status)}};
        res.set_content(j.dump() + "\n", "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content("{\"error\":\"internal\",\"detail\":\"see the server log\"}\n",
                        "application/json");
      });
  svr.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    log_debug("{} {} {} -> {}", req.remote_addr, req.method, req.path.substr(0, 200), res.status);
  });

  int port = opt.port;
  if (port == 0) {
    port = svr.bind_to_any_port(opt.host);
    GNNREC_EXPECTS(port > 0, "--host {}: cannot bind any port", opt.host);
  } else {
    GNNREC_EXPECTS(svr.bind_to_port(opt.host, port), "--host {} --port {}: cannot bind (in use?)",
                   opt.host, port);
  }
  std::atomic<bool> listen_done{false};
  std::thread listener([&] {
    svr.listen_after_bind();
    listen_done = true;
  });
  for (int i = 0; i < 5000 && !svr.is_running() && !listen_done; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::printf("gnnrec serve: listening on http://%s:%d\n", opt.host.c_str(), port);
  std::fflush(stdout);
  log_info("listening on http://{}:{} with {} worker threads; loading the model", opt.host, port,
           threads);

  std::atomic<int> load_state{0};  // 0 loading, 1 loaded, 2 failed
  std::string load_error;
  std::thread loader([&] {
    try {
      handler.load();
      const auto s = handler.state();
      log_info("ready: model A '{}'{}{} ({} users, {} items, {:.2f} s)", s->a.name,
               s->b ? ", model B '" + s->b->name + "'" : std::string(),
               s->b ? fmt::format(" on {}% of users", opt.config.split_b) : std::string(),
               s->catalog->num_users, s->catalog->num_items, s->load_seconds);
      load_state = 1;
    } catch (const std::exception& e) {
      load_error = e.what();
      load_state = 2;
    }
  });

  int stop_signal = 0;
  while (true) {
    timespec wait{0, 200 * 1000 * 1000};
    const int sig = sigtimedwait(&sigs, nullptr, &wait);
    if (load_state == 2 || listen_done) break;
    if (sig == SIGTERM || sig == SIGINT) {
      stop_signal = sig;
      break;
    }
    if (sig == SIGHUP) {
      if (feedback) feedback->reopen();
      if (load_state == 1) {
        log_info("SIGHUP: reloading");
        handler.reload();
      } else {
        log_warn("SIGHUP while the first load is running: ignored");
      }
    }
  }
  if (stop_signal) {
    log_info("{}: stopping; in-flight requests finish first (again to force)",
             stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
  }
  // A second TERM/INT while draining exits at once.
  std::thread([sigs] {
    int s = 0;
    sigwait(&sigs, &s);
    if (s == SIGTERM || s == SIGINT) _exit(128 + s);
  }).detach();
  svr.stop();
  listener.join();
  loader.join();
  if (feedback) feedback->sync();
  if (load_state == 2) GNNREC_FAIL("{}", load_error);
  if (!stop_signal && listen_done) GNNREC_FAIL("the HTTP listener stopped unexpectedly");
  log_info("stopped");
}

}  // namespace gnnrec::serve
