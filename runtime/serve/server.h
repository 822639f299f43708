// `gnnrec serve`: the HTTP front of ServeHandler on cpp-httplib, with a fixed worker pool,
// graceful shutdown (SIGTERM/SIGINT: stop accepting, finish in-flight requests, fsync the
// feedback log) and hot reload (SIGHUP, or POST /admin/reload from loopback).
#pragma once
#include <string>

#include "runtime/serve/handler.h"

namespace gnnrec::serve {

struct ServeOptions {
  ModelSources sources;
  ServeConfig config;
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (the chosen one is printed)
  int threads = 0;  // worker threads = concurrent connections served; 0: max(32, 8 x cores)
  std::string feedback_log;
  int feedback_fsync_ms = 1000;
  int read_timeout_s = 5;        // a client silent this long mid-request is dropped
  int keep_alive_timeout_s = 2;  // idle keep-alive connections close after this
};

// Binds, prints "gnnrec serve: listening on http://HOST:PORT" on stdout, loads the model in the
// background (/readyz answers 503 until it is loaded) and serves until SIGTERM or SIGINT.
// Throws gnnrec::Error when the address cannot be bound or the first load fails.
void run_server(const ServeOptions& opt);

}  // namespace gnnrec::serve
