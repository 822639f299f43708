// Directory helpers for atomic outputs: build a directory under a temporary name, then swap
// it into place, so readers never see a half-written result and a failure leaves the old one.
#pragma once
#include <string>

namespace gnnrec {

// A fresh empty sibling "<final>.tmp.<pid>" of `final_dir` (removing a stale one).
std::string make_temp_dir_for(const std::string& final_dir);
// Replaces `final_dir` by `tmp_dir` (old content removed only after the new one is in place).
void commit_dir(const std::string& tmp_dir, const std::string& final_dir);
void ensure_dir(const std::string& dir);
bool path_exists(const std::string& path);
// Appends one line (a JSON object) to a file and flushes it.
void append_line(const std::string& path, const std::string& line);
// Peak resident memory of this process in MiB.
double peak_rss_mib();

}  // namespace gnnrec
