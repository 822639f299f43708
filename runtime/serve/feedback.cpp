#include "runtime/serve/feedback.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/error.h"
#include "runtime/log.h"

namespace gnnrec::serve {

FeedbackLog::FeedbackLog(std::string path, std::chrono::milliseconds fsync_interval)
    : path_(std::move(path)), interval_(fsync_interval) {
  GNNREC_EXPECTS(interval_.count() > 0, "--feedback-fsync-ms must be positive");
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_locked();
  }
  thread_ = std::thread([this] { syncer(); });
}

FeedbackLog::~FeedbackLog() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ >= 0) {
    ::fsync(fd_);
    ::close(fd_);
  }
}

void FeedbackLog::open_locked() {
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  GNNREC_EXPECTS(fd >= 0, "--feedback-log {}: cannot open for appending ({})", path_,
                 std::strerror(errno));
  if (fd_ >= 0) {
    ::fsync(fd_);
    ::close(fd_);
  }
  fd_ = fd;
}

void FeedbackLog::append(const std::string& line) {
  std::string buf = line;
  buf += '\n';
  std::lock_guard<std::mutex> lock(mu_);
  size_t done = 0;
  while (done < buf.size()) {
    const ssize_t n = ::write(fd_, buf.data() + done, buf.size() - done);
    if (n < 0 && errno == EINTR) continue;
    GNNREC_EXPECTS(n > 0, "feedback log {}: write failed ({})", path_, std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  dirty_ = true;
  lines_.fetch_add(1);
}

void FeedbackLog::sync() {
  // fsync a duplicate descriptor outside the lock, so appends are not held up by the disk.
  int fd = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!dirty_ || fd_ < 0) return;
    fd = ::dup(fd_);
    if (fd < 0) return;
    dirty_ = false;
  }
  if (::fdatasync(fd) != 0) {
    log_warn("feedback log {}: fsync failed ({})", path_, std::strerror(errno));
    std::lock_guard<std::mutex> lock(mu_);
    dirty_ = true;  // try again next interval
  } else {
    syncs_.fetch_add(1);
  }
  ::close(fd);
}

void FeedbackLog::reopen() {
  std::lock_guard<std::mutex> lock(mu_);
  open_locked();
  dirty_ = false;
}

void FeedbackLog::syncer() {
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stop_) {
    stop_cv_.wait_for(lock, interval_, [this] { return stop_; });
    lock.unlock();
    sync();
    lock.lock();
  }
}

}  // namespace gnnrec::serve
