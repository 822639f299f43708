// Core runtime: tensors, .npy I/O, errors, Philox known answers, half conversions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "kernels/philox.h"
#include "runtime/npy.h"
#include "runtime/tensor.h"
#include "testing/testing.h"

namespace gnnrec {
namespace {

TEST(PhiloxCpuTest, KnownAnswerVectors) {
  // Random123's kat_vectors for philox4x32 with 10 rounds: counter, key -> output.
  struct Kat {
    uint32_t ctr[4];
    uint32_t key[2];
    uint32_t out[4];
  } kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const auto& k : kats) {
    U32x4 c{{k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3]}};
    U32x4 r = philox4x32_10(c, k.key[0], k.key[1]);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(r.v[i], k.out[i]) << "word " << i;
  }
}

TEST(PhiloxCpuTest, StreamsDifferByPurposeEpochStepAndIndex) {
  RngKey a{42, 1, 0, 0};
  const uint32_t base = rng_draw(a, 0).v[0];
  RngKey b = a;
  b.purpose = 2;
  EXPECT_NE(rng_draw(b, 0).v[0], base);
  b = a;
  b.epoch = 1;
  EXPECT_NE(rng_draw(b, 0).v[0], base);
  b = a;
  b.step = 1;
  EXPECT_NE(rng_draw(b, 0).v[0], base);
  EXPECT_NE(rng_draw(a, 1).v[0], base);
  EXPECT_NE(rng_draw(a, uint64_t{1} << 32).v[0], base);
  EXPECT_EQ(rng_draw(a, 0).v[0], base);  // a pure function
}

TEST(PhiloxCpuTest, UniformAndBelowAreInRangeAndRoughlyUniform) {
  RngKey k{7, static_cast<uint32_t>(RngPurpose::kTest), 0, 0};
  const int n = 200000, bins = 10;
  std::vector<int> hist(bins, 0);
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    const U32x4 w = rng_draw(k, i);
    const float u = rng_uniform01(w.v[0]);
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    sum += u;
    const uint32_t b = rng_below(w.v[1], bins);
    ASSERT_LT(b, static_cast<uint32_t>(bins));
    hist[b]++;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);
  // Chi-square with 9 degrees of freedom: 27.88 is the 0.001 critical value.
  double chi2 = 0;
  for (int h : hist) chi2 += (h - n / double(bins)) * (h - n / double(bins)) / (n / double(bins));
  EXPECT_LT(chi2, 27.88);
}

TEST(TensorCpuTest, ShapesViewsAndCopies) {
  Tensor t = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.nbytes(), 24u);
  EXPECT_EQ(t.dim(-1), 3);
  Tensor r = t.reshape({3, -1});
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  Tensor row = t.rows(1, 2);
  EXPECT_EQ(row.to_vector<float>(), (std::vector<float>{4, 5, 6}));
  Tensor c = t.clone();
  c.data<float>()[0] = 100;
  EXPECT_EQ(t.data<float>()[0], 1.0f);
  row.data<float>()[0] = 40;  // views share storage
  EXPECT_EQ(t.data<float>()[3], 40.0f);
  EXPECT_THROW(t.data<int32_t>(), Error);
  EXPECT_THROW(t.reshape({4, 2}), Error);
  EXPECT_THROW(t.rows(1, 3), Error);
  Tensor z = Tensor::zeros({0, 5}, DType::kI64);
  EXPECT_EQ(z.numel(), 0);
}

TEST(TensorCpuTest, DeviceParsingAndFallback) {
  EXPECT_TRUE(Device::parse("cpu").is_cpu());
  EXPECT_EQ(Device::parse("cuda:3").index, 3);
  EXPECT_THROW(Device::parse("tpu"), Error);
  EXPECT_THROW(Device::parse("cuda:x"), Error);
  const Device d = resolve_device("auto");
  EXPECT_EQ(d.is_cuda(), testing::gpu_available());
}

TEST(TensorCpuTest, HalfAndBf16RoundTrip) {
  // Values exactly representable in f16 come back unchanged.
  for (float f : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.103515625e-05f, 5.9604645e-08f}) {
    EXPECT_EQ(half_to_float(float_to_half(f)), f) << f;
  }
  EXPECT_TRUE(std::isinf(half_to_float(float_to_half(1e6f))));
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(NAN))));
  // Round to nearest even: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10.
  EXPECT_EQ(half_to_float(float_to_half(1.0f + std::ldexp(1.0f, -11))), 1.0f);
  for (float f : testing::random_floats(1000, -100, 100)) {
    EXPECT_NEAR(half_to_float(float_to_half(f)), f, std::fabs(f) * 1e-3 + 1e-6);
    EXPECT_NEAR(bf16_to_float(float_to_bf16(f)), f, std::fabs(f) * 8e-3 + 1e-6);
  }
}

TEST(NpyCpuTest, RoundTripEveryDtype) {
  GNNREC_SEED_TRACE();
  const std::string dir = testing::temp_dir("npy");
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kI32, DType::kI64, DType::kU8,
                   DType::kI8}) {
    for (const Shape& shape : {Shape{}, Shape{0}, Shape{7}, Shape{3, 5}, Shape{2, 3, 4}}) {
      Tensor t = Tensor::empty(shape, dt);
      auto* p = static_cast<uint8_t*>(t.raw());
      for (size_t i = 0; i < t.nbytes(); ++i) p[i] = static_cast<uint8_t>(testing::rng()());
      const std::string path = dir + "/a.npy";
      save_npy(path, t);
      Tensor u = load_npy(path);
      EXPECT_EQ(u.dtype(), dt);
      EXPECT_EQ(u.shape(), shape);
      EXPECT_EQ(std::memcmp(u.raw(), t.raw(), t.nbytes()), 0) << dtype_name(dt);
    }
  }
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
}

std::string npy_header(const std::string& dict) {
  std::string h = "\x93NUMPY";
  h.push_back(1);
  h.push_back(0);
  std::string d = dict;
  while ((10 + d.size() + 1) % 64) d += ' ';
  d += '\n';
  h.push_back(static_cast<char>(d.size() & 0xff));
  h.push_back(static_cast<char>(d.size() >> 8));
  return h + d;
}

TEST(NpyCpuTest, MalformedFilesGiveClearErrors) {
  const std::string dir = testing::temp_dir("npy_bad");
  struct Case {
    const char* name;
    std::string bytes;
    const char* expect;
  } cases[] = {
      {"magic", "NOTNUMPYdata", "bad magic"},
      {"empty", "", "bad magic"},
      {"bigendian", npy_header("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }") +
                        std::string(8, '\0'),
       "unsupported npy dtype"},
      {"object", npy_header("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"),
       "unsupported npy dtype"},
      {"fortran", npy_header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }") +
                      std::string(16, '\0'),
       "Fortran"},
      {"truncated", npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }") +
                        std::string(8, '\0'),
       "truncated data"},
      {"noshape", npy_header("{'descr': '<f4', 'fortran_order': False, }"), "shape"},
      {"badshape", npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (a,), }"),
       "bad shape"},
      {"shortheader", std::string("\x93NUMPY\x01\x00\xff\x00{'descr'", 17), "truncated npy header"},
  };
  for (const auto& c : cases) {
    const std::string path = dir + "/" + c.name + ".npy";
    write_bytes(path, c.bytes);
    try {
      load_npy(path);
      ADD_FAILURE() << c.name << ": no error";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(c.expect), std::string::npos) << c.name << ": " << msg;
      EXPECT_NE(msg.find(path), std::string::npos) << c.name << ": message must name the file";
    }
  }
  EXPECT_THROW(load_npy(dir + "/missing.npy"), Error);
}

TEST(NpyCpuTest, AtomicWriteLeavesNoTempFile) {
  const std::string dir = testing::temp_dir("npy_atomic");
  save_npy(dir + "/x.npy", Tensor::from_vector<int32_t>({1, 2, 3}));
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
  EXPECT_THROW(save_npy(dir + "/no/such/dir/x.npy", Tensor::from_vector<int32_t>({1})), Error);
}

TEST(ErrorCpuTest, MessagesCarryExpressionAndLocation) {
  try {
    GNNREC_EXPECTS(1 + 1 == 3, "arithmetic is {}", "broken");
    FAIL() << "no throw";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("arithmetic is broken"), std::string::npos);
    EXPECT_NE(m.find("1 + 1 == 3"), std::string::npos);
    EXPECT_NE(m.find("test_core.cpp"), std::string::npos);
  }
}

TEST(TensorCudaTest, CopiesRoundTripThroughTheGpu) {
  GNNREC_REQUIRE_GPU();
  Tensor h = testing::random_tensor({17, 33});
  Tensor d = h.to(Device::cuda(0));
  EXPECT_TRUE(d.device().is_cuda());
  Tensor back = d.to(Device::cpu());
  EXPECT_EQ(back.to_vector<float>(), h.to_vector<float>());
  Tensor z = Tensor::zeros({5}, DType::kI64, Device::cuda(0));
  EXPECT_EQ(z.to_vector<int64_t>(), std::vector<int64_t>(5, 0));
  Tensor p = Tensor::pinned({4}, DType::kF32);
  p.copy_from(d.rows(0, 1).reshape({-1}).rows(0, 4));
  EXPECT_EQ(p.to_vector<float>()[2], h.data<float>()[2]);
}

}  // namespace
}  // namespace gnnrec
