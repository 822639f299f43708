// npy_tool: the gnnrec side of tests/py/test_npy_roundtrip.py.
//   npy_tool write DIR        writes deterministic arrays of every dtype and several shapes
//                             (DIR/<dtype>_<shape>.npy, shape "scalar" or dims joined by 'x'),
//                             plus conv_f32/conv_f16/conv_bf16.npy (host float conversions)
//   npy_tool read FILE...     loads each file with load_npy and prints one line per file:
//                             "<dtype> (<d0>,<d1>,...) <fnv1a64 of the data bytes, hex>"
// Element i of a raw array holds the low bytes of mix(i, dtype code), the same formula the
// Python side evaluates, so numpy can check every byte.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "runtime/npy.h"
#include "runtime/tensor.h"

namespace gnnrec {
namespace {

constexpr DType kDTypes[] = {DType::kF32, DType::kF16, DType::kBF16, DType::kI32,
                             DType::kI64, DType::kU8,  DType::kI8};

// Shapes cover a 0-d scalar, empty arrays, batch 1 and dims that are not multiples of anything.
const std::vector<Shape>& shapes() {
  static const std::vector<Shape> s = {{},        {0},    {1},          {5},     {3, 4},
                                       {2, 3, 5}, {0, 7}, {1, 1, 1, 1}, {17, 33}};
  return s;
}

uint64_t mix(uint64_t i, uint64_t code) {
  uint64_t w = (i + 1) * 0x9E3779B97F4A7C15ull + code * 0xD1B54A32D192ED03ull;
  return w ^ (w >> 31);
}

uint64_t fnv1a64(const void* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) {
    h ^= b[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string shape_name(const Shape& s) {
  if (s.empty()) return "scalar";
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "x" : "") + std::to_string(s[i]);
  return r;
}

void write_all(const std::string& dir) {
  std::filesystem::create_directories(dir);
  for (size_t code = 0; code < std::size(kDTypes); ++code) {
    const DType dt = kDTypes[code];
    const size_t es = dtype_size(dt);
    for (const Shape& s : shapes()) {
      Tensor t = Tensor::empty(s, dt);
      auto* out = static_cast<unsigned char*>(t.raw());
      for (int64_t i = 0; i < t.numel(); ++i) {
        const uint64_t w = mix(static_cast<uint64_t>(i), code);
        std::memcpy(out + i * es, &w, es);  // low bytes first: little-endian host
      }
      save_npy(dir + "/" + dtype_name(dt) + "_" + shape_name(s) + ".npy", t);
    }
  }
  // Float conversions: ordinary values plus the edge cases of each format (signed zero, infinity,
  // NaN, the f16 maximum and the first value that overflows it, f16 subnormals, ties).
  std::vector<float> v = {0.0f,     -0.0f,          INFINITY, -INFINITY, NAN,
                          65504.0f, 65520.0f,       1e-8f,    6e-8f,     -3e-5f,
                          1.0f,     1.00048828125f, 3.4e38f,  -1e-40f,   1.0009765625f};
  for (int i = 0; i < 1000; ++i) {
    v.push_back(static_cast<float>(static_cast<int64_t>(mix(i, 99) % 20001) - 10000) / 37.0f);
  }
  const Tensor f32 = Tensor::from_vector(v, {static_cast<int64_t>(v.size())});
  save_npy(dir + "/conv_f32.npy", f32);
  save_npy(dir + "/conv_f16.npy", convert_float(f32, DType::kF16));
  save_npy(dir + "/conv_bf16.npy", convert_float(f32, DType::kBF16));
}

void read_one(const std::string& path) {
  const Tensor t = load_npy(path);
  std::string s = "(";
  for (int i = 0; i < t.ndim(); ++i) s += (i ? "," : "") + std::to_string(t.dim(i));
  s += ")";
  std::printf("%s %s %016llx\n", dtype_name(t.dtype()), s.c_str(),
              static_cast<unsigned long long>(fnv1a64(t.raw(), t.nbytes())));
}

}  // namespace
}  // namespace gnnrec

int main(int argc, char** argv) {
  const std::string usage = "usage: npy_tool write DIR | npy_tool read FILE...\n";
  if (argc < 3) {
    std::fputs(usage.c_str(), stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  try {
    if (cmd == "write" && argc == 3) {
      gnnrec::write_all(argv[2]);
    } else if (cmd == "read") {
      for (int i = 2; i < argc; ++i) gnnrec::read_one(argv[i]);
    } else {
      std::fputs(usage.c_str(), stderr);
      return 2;
    }
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "npy_tool: %s\n", e.what());
    return 1;
  }
  return 0;
}
