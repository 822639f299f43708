#include "runtime/data/line_reader.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "runtime/error.h"

namespace gnnrec {

struct LineReader::Inflate {
  z_stream zs{};
  bool live = false;
  ~Inflate() {
    if (live) inflateEnd(&zs);
  }
};

LineReader::LineReader(const std::string& path, size_t chunk_bytes) : path_(path) {
  f_ = std::fopen(path.c_str(), "rb");
  GNNREC_EXPECTS(f_ != nullptr, "{}: cannot open for reading ({})", path, std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  const size_t got = std::fread(magic, 1, 2, f_);
  gzip_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  std::rewind(f_);
  cap_ = chunk_bytes < 4096 ? 4096 : chunk_bytes;
  buf_.assign(cap_ + kLinePadding, '\0');
  if (gzip_) {
    z_ = std::make_unique<Inflate>();
    // 16 + MAX_WBITS: gzip wrapper only, so a zlib or raw stream is reported as corrupt.
    GNNREC_EXPECTS(inflateInit2(&z_->zs, 16 + MAX_WBITS) == Z_OK, "{}: inflateInit2 failed", path);
    z_->live = true;
    in_.resize(size_t{1} << 20);
  }
}

LineReader::~LineReader() {
  if (f_) std::fclose(f_);
}

size_t LineReader::read_raw() {
  const size_t n = std::fread(in_.data(), 1, in_.size(), f_);
  if (n == 0) {
    GNNREC_EXPECTS(!std::ferror(f_), "{}: read error ({})", path_, std::strerror(errno));
    file_eof_ = true;
  }
  in_pos_ = 0;
  in_len_ = n;
  bytes_in_ += n;
  return n;
}

size_t LineReader::fill(char* dst, size_t cap) {
  if (!gzip_) {
    const size_t n = std::fread(dst, 1, cap, f_);
    if (n == 0) {
      GNNREC_EXPECTS(!std::ferror(f_), "{}: read error ({})", path_, std::strerror(errno));
    }
    bytes_in_ += n;
    bytes_out_ += n;
    return n;
  }
  z_stream& zs = z_->zs;
  size_t produced = 0;
  while (produced == 0) {
    if (in_pos_ == in_len_ && !file_eof_) read_raw();
    if (stream_end_) {
      // A member ended: more bytes mean another gzip member (as `cat a.gz b.gz` makes).
      if (in_pos_ == in_len_) return 0;
      GNNREC_EXPECTS(inflateReset(&zs) == Z_OK, "{}: inflateReset failed", path_);
      stream_end_ = false;
    }
    if (in_pos_ == in_len_) {
      GNNREC_FAIL(
          "{}: truncated gzip stream (the file ends after {} bytes, inside compressed "
          "data; {} bytes were decompressed)",
          path_, bytes_in_, bytes_out_);
    }
    zs.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
    zs.avail_in = static_cast<uInt>(in_len_ - in_pos_);
    zs.next_out = reinterpret_cast<Bytef*>(dst + produced);
    zs.avail_out = static_cast<uInt>(cap - produced);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    in_pos_ = in_len_ - zs.avail_in;
    produced = cap - zs.avail_out;
    if (rc == Z_STREAM_END) {
      stream_end_ = true;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      GNNREC_FAIL("{}: corrupt gzip data near compressed byte {} ({})", path_,
                  bytes_in_ - (in_len_ - in_pos_), zs.msg ? zs.msg : "inflate error");
    }
  }
  bytes_out_ += produced;
  return produced;
}

bool LineReader::next(std::string_view* line) {
  for (;;) {
    char* base = buf_.data();
    if (pos_ < end_) {
      const char* nl = static_cast<const char*>(std::memchr(base + pos_, '\n', end_ - pos_));
      if (nl != nullptr || eof_) {
        const size_t stop = nl ? static_cast<size_t>(nl - base) : end_;
        size_t len = stop - pos_;
        if (len > 0 && base[pos_ + len - 1] == '\r') --len;
        *line = std::string_view(base + pos_, len);
        pos_ = nl ? stop + 1 : end_;
        ++line_no_;
        return true;
      }
    } else if (eof_) {
      return false;
    }
    // No complete line in the buffer: move the partial line to the front, grow the buffer if
    // the line fills it, and read more.
    if (pos_ > 0) {
      std::memmove(base, base + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    if (end_ == cap_) {
      cap_ *= 2;
      buf_.resize(cap_ + kLinePadding, '\0');
      base = buf_.data();
    }
    const size_t n = fill(base + end_, cap_ - end_);
    if (n == 0) eof_ = true;
    end_ += n;
  }
}

bool is_gzip_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  GNNREC_EXPECTS(f != nullptr, "{}: cannot open for reading ({})", path, std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  const size_t got = std::fread(magic, 1, 2, f);
  std::fclose(f);
  return got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

std::string first_line(const std::string& path, size_t max_bytes) {
  LineReader r(path, 1 << 16);
  std::string_view line;
  while (r.next(&line)) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    return std::string(line.substr(0, max_bytes));
  }
  return "";
}

}  // namespace gnnrec
