// Streaming line reader over plain or gzip-compressed files. Gzip is detected by the magic bytes
// (1f 8b), not the file name; concatenated gzip members are read as one stream. The file is
// read and inflated in chunks into one buffer, so memory stays at a few MiB whatever the input
// size, and no line is copied: next() returns a view into the buffer.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gnnrec {

// Readable bytes guaranteed after every returned line (simdjson's SIMDJSON_PADDING), so a line
// can be handed to simdjson without a copy.
constexpr size_t kLinePadding = 64;

class LineReader {
 public:
  explicit LineReader(const std::string& path, size_t chunk_bytes = size_t{1} << 22);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its '\n' (and a trailing '\r'); false at the end of the input. The
  // view stays valid until the next call. A truncated or corrupt gzip stream throws, naming the
  // file.
  bool next(std::string_view* line);

  const std::string& path() const { return path_; }
  int64_t line_number() const { return line_no_; }  // 1-based number of the last line returned
  bool gzip() const { return gzip_; }
  uint64_t bytes_in() const { return bytes_in_; }    // bytes read from the file so far
  uint64_t bytes_out() const { return bytes_out_; }  // uncompressed bytes produced so far

 private:
  size_t fill(char* dst, size_t cap);  // uncompressed bytes into dst; 0 only at the end
  size_t read_raw();

  std::string path_;
  FILE* f_ = nullptr;
  bool gzip_ = false;
  struct Inflate;
  std::unique_ptr<Inflate> z_;
  std::vector<char> in_;  // compressed input (gzip only)
  size_t in_pos_ = 0, in_len_ = 0;
  bool file_eof_ = false, stream_end_ = false;
  std::vector<char> buf_;  // [pos_, end_) are unread bytes; kLinePadding bytes follow capacity
  size_t cap_ = 0, pos_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t line_no_ = 0;
  uint64_t bytes_in_ = 0, bytes_out_ = 0;
};

// True when the file starts with the gzip magic bytes.
bool is_gzip_file(const std::string& path);
// The first non-blank line of a (possibly gzip) file, at most max_bytes long; "" if none.
std::string first_line(const std::string& path, size_t max_bytes = size_t{1} << 20);

}  // namespace gnnrec
