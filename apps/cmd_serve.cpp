// gnnrec serve: HTTP recommendations, the "Recommended for You" page, /metrics, A/B variants,
// feedback capture and hot reload (runtime/serve/server.h).
#include "apps/command.h"
#include "runtime/serve/server.h"

namespace gnnrec::app {
namespace {

CommandRegistrar reg(80, [](CLI::App& root) {
  auto* sub = root.add_subcommand(
      "serve", "Serve recommendations over HTTP: /recommend/<user_id>/, the page at /, /metrics");
  auto o = std::make_shared<serve::ServeOptions>();
  auto split_b = std::make_shared<int>(-1);
  sub->add_option("--model", o->sources.export_dir, "Embedding export dir (gnnrec embed)")
      ->required()
      ->check(CLI::ExistingDirectory);
  sub->add_option("--recommendations", o->sources.recommendations_dir,
                  "Precomputed recommendations dir of --model (gnnrec recommend)")
      ->check(CLI::ExistingDirectory);
  sub->add_option("--dataset", o->sources.dataset_dir,
                  "Dataset dir (default: dataset_dir in --model's embeddings.json)")
      ->check(CLI::ExistingDirectory);
  sub->add_option("--model-b", o->sources.export_b_dir, "Export dir of the A/B variant B")
      ->check(CLI::ExistingDirectory);
  sub->add_option("--recommendations-b", o->sources.recommendations_b_dir,
                  "Precomputed recommendations dir of --model-b")
      ->check(CLI::ExistingDirectory);
  sub->add_option("--split-b", *split_b,
                  "Percent of users on variant B (default 10 with --model-b)")
      ->check(CLI::Range(0, 100));
  sub->add_option("--salt", o->config.salt, "A/B assignment salt (changing it reshuffles users)")
      ->capture_default_str();
  sub->add_option("--feedback-log", o->feedback_log, "Append POST /feedback events to this JSONL");
  sub->add_option("--feedback-fsync-ms", o->feedback_fsync_ms,
                  "fsync the feedback log this often (a power loss loses at most this)")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600 * 1000));
  sub->add_option("--host", o->host, "Address to bind (loopback by default)")
      ->capture_default_str();
  sub->add_option("--port", o->port, "TCP port (0: any free port)")->capture_default_str();
  sub->add_option("--threads", o->threads,
                  "Worker threads; each open connection holds one (0: max(32, 8 x cores))")
      ->capture_default_str();
  sub->add_option("--read-timeout", o->read_timeout_s, "Seconds a slow client may stall a request")
      ->capture_default_str()
      ->check(CLI::Range(1, 600));
  sub->add_option("--max-k", o->config.max_k, "Largest k a request may ask for")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  sub->callback([o, split_b] {
    o->config.split_b = *split_b >= 0 ? *split_b : (o->sources.export_b_dir.empty() ? 0 : 10);
    serve::run_server(*o);
  });
});

}  // namespace
}  // namespace gnnrec::app
