// The feedback log: one JSON object per line, appended by POST /feedback.
//
// Durability: each event is handed to the kernel with a single write(2) on an O_APPEND file
// before the request is answered, so killing the server (even kill -9) loses nothing that was
// acknowledged. A background thread fsyncs the file every `fsync_interval` when something was
// written, so a power loss or kernel crash loses at most the events of that last interval.
// Lines from concurrent requests never interleave (one write per line, under a mutex).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace gnnrec::serve {

class FeedbackLog {
 public:
  FeedbackLog(std::string path, std::chrono::milliseconds fsync_interval);
  ~FeedbackLog();  // stops the syncer and fsyncs once more
  FeedbackLog(const FeedbackLog&) = delete;
  FeedbackLog& operator=(const FeedbackLog&) = delete;

  // Appends `line` plus '\n'. Throws gnnrec::Error when the write fails (disk full, ...).
  void append(const std::string& line);
  // fsyncs now if anything was written since the last sync.
  void sync();
  // Closes and reopens the path (after logrotate moved the file away); SIGHUP does this.
  void reopen();

  const std::string& path() const { return path_; }
  std::chrono::milliseconds fsync_interval() const { return interval_; }
  uint64_t lines_written() const { return lines_.load(); }
  uint64_t syncs() const { return syncs_.load(); }

 private:
  void open_locked();
  void syncer();

  std::string path_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;  // guards fd_ and dirty_
  int fd_ = -1;
  bool dirty_ = false;
  std::atomic<uint64_t> lines_{0}, syncs_{0};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace gnnrec::serve
