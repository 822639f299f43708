#include "runtime/npy.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gnnrec {
namespace {

const char* descr_of(DType t) {
  switch (t) {
    case DType::kF32: return "<f4";
    case DType::kF16: return "<f2";
    case DType::kBF16: return "<V2";
    case DType::kI32: return "<i4";
    case DType::kI64: return "<i8";
    case DType::kU8: return "|u1";
    case DType::kI8: return "|i1";
  }
  return "";
}

DType dtype_of_descr(const std::string& d, const std::string& path) {
  // '=' means native order; this library runs on little-endian hosts only.
  std::string s = d;
  if (!s.empty() && s[0] == '=') s[0] = '<';
  if (s == "<f4") return DType::kF32;
  if (s == "<f2") return DType::kF16;
  if (s == "<V2" || s == "|V2") return DType::kBF16;
  if (s == "<i4") return DType::kI32;
  if (s == "<i8") return DType::kI64;
  if (s == "|u1" || s == "<u1") return DType::kU8;
  if (s == "|i1" || s == "<i1") return DType::kI8;
  if (s == "|b1") return DType::kU8;
  GNNREC_FAIL("{}: unsupported npy dtype '{}' (expected <f4, <f2, <V2, <i4, <i8, |u1 or |i1; "
              "big-endian arrays are not read)",
              path, d);
}

// Value of `key` in the header dict: the text after "'key':" up to the matching end.
std::string header_field(const std::string& h, const std::string& key, const std::string& path) {
  const std::string k = "'" + key + "'";
  size_t p = h.find(k);
  GNNREC_EXPECTS(p != std::string::npos, "{}: npy header has no '{}' field: {}", path, key, h);
  p = h.find(':', p + k.size());
  GNNREC_EXPECTS(p != std::string::npos, "{}: malformed npy header: {}", path, h);
  ++p;
  while (p < h.size() && h[p] == ' ') ++p;
  size_t e = p;
  if (h[p] == '(') {
    e = h.find(')', p);
    GNNREC_EXPECTS(e != std::string::npos, "{}: malformed shape in npy header: {}", path, h);
    return h.substr(p, e - p + 1);
  }
  if (h[p] == '\'') {
    e = h.find('\'', p + 1);
    GNNREC_EXPECTS(e != std::string::npos, "{}: malformed npy header: {}", path, h);
    return h.substr(p + 1, e - p - 1);
  }
  while (e < h.size() && h[e] != ',' && h[e] != '}') ++e;
  return h.substr(p, e - p);
}

}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  GNNREC_EXPECTS(f.good(), "{}: cannot open for reading ({})", path, std::strerror(errno));
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_file_atomic(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  GNNREC_EXPECTS(f != nullptr, "{}: cannot open for writing ({})", tmp, std::strerror(errno));
  const size_t n = data.empty() ? 0 : std::fwrite(data.data(), 1, data.size(), f);
  const bool ok = n == data.size() && std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  std::fclose(f);
  if (!ok) {
    std::remove(tmp.c_str());
    GNNREC_FAIL("{}: write failed ({})", tmp, std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    GNNREC_FAIL("{}: cannot rename into place ({})", path, std::strerror(errno));
  }
}

Tensor load_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  GNNREC_EXPECTS(f.good(), "{}: cannot open ({})", path, std::strerror(errno));
  char magic[8];
  f.read(magic, 8);
  GNNREC_EXPECTS(f.gcount() == 8 && std::memcmp(magic, "\x93NUMPY", 6) == 0,
                 "{}: not an .npy file (bad magic)", path);
  const int major = static_cast<unsigned char>(magic[6]);
  GNNREC_EXPECTS(major >= 1 && major <= 3, "{}: unsupported npy version {}", path, major);
  uint32_t hlen = 0;
  if (major == 1) {
    unsigned char b[2];
    f.read(reinterpret_cast<char*>(b), 2);
    GNNREC_EXPECTS(f.gcount() == 2, "{}: truncated npy header", path);
    hlen = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    f.read(reinterpret_cast<char*>(b), 4);
    GNNREC_EXPECTS(f.gcount() == 4, "{}: truncated npy header", path);
    hlen = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  }
  GNNREC_EXPECTS(hlen < (1u << 24), "{}: npy header length {} is implausible", path, hlen);
  std::string header(hlen, '\0');
  f.read(header.data(), hlen);
  GNNREC_EXPECTS(static_cast<uint32_t>(f.gcount()) == hlen, "{}: truncated npy header", path);

  const DType dtype = dtype_of_descr(header_field(header, "descr", path), path);
  const std::string order = header_field(header, "fortran_order", path);
  GNNREC_EXPECTS(order == "False", "{}: Fortran-order arrays are not supported (save with "
                 "numpy.ascontiguousarray)", path);
  const std::string shape_s = header_field(header, "shape", path);
  Shape shape;
  {
    std::string inner = shape_s.substr(1, shape_s.size() - 2);
    std::stringstream ss(inner);
    std::string tok;
    while (std::getline(ss, tok, ',')) {
      size_t a = tok.find_first_not_of(" L");
      if (a == std::string::npos) continue;
      size_t b = tok.find_last_not_of(" L");
      tok = tok.substr(a, b - a + 1);
      GNNREC_EXPECTS(!tok.empty() && tok.find_first_not_of("0123456789") == std::string::npos,
                     "{}: bad shape {} in npy header", path, shape_s);
      shape.push_back(std::stoll(tok));
    }
  }
  Tensor t = Tensor::empty(shape, dtype);
  if (t.nbytes() > 0) {
    f.read(static_cast<char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
    GNNREC_EXPECTS(static_cast<size_t>(f.gcount()) == t.nbytes(),
                   "{}: truncated data: shape {} needs {} bytes, file has {}", path,
                   shape_str(shape), t.nbytes(), f.gcount());
  }
  return t;
}

void save_npy(const std::string& path, const Tensor& t_in) {
  const Tensor t = t_in.device().is_cpu() ? t_in : t_in.to(Device::cpu());
  std::string shape = "(";
  for (int i = 0; i < t.ndim(); ++i) shape += std::to_string(t.shape()[i]) + ",";
  if (t.ndim() > 1) shape.pop_back();
  shape += ")";
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                 descr_of(t.dtype()), shape);
  // Pad so the data starts on a 64-byte boundary; the header ends with '\n'.
  const bool v2 = dict.size() + 11 > 65535;
  const size_t prefix = v2 ? 12 : 10;
  size_t total = prefix + dict.size() + 1;
  total = (total + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';
  std::string out;
  out.reserve(total + t.nbytes());
  out.append("\x93NUMPY", 6);
  out.push_back(v2 ? 2 : 1);
  out.push_back(0);
  const size_t hl = dict.size();
  out.push_back(static_cast<char>(hl & 0xff));
  out.push_back(static_cast<char>((hl >> 8) & 0xff));
  if (v2) {
    out.push_back(static_cast<char>((hl >> 16) & 0xff));
    out.push_back(static_cast<char>((hl >> 24) & 0xff));
  }
  out += dict;
  out.append(static_cast<const char*>(t.raw()), t.nbytes());
  write_file_atomic(path, out);
}

}  // namespace gnnrec
