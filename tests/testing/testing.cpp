#include "testing/testing.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace gnnrec::testing {

uint64_t test_seed() {
  static uint64_t seed = [] {
    const char* s = std::getenv("GNNREC_TEST_SEED");
    return s ? std::strtoull(s, nullptr, 10) : 20261130ull;
  }();
  return seed;
}

std::mt19937_64& rng() {
  static std::mt19937_64 g(test_seed());
  return g;
}

std::vector<float> random_floats(size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng());
  return v;
}

std::vector<int32_t> random_ints(size_t n, int32_t lo, int32_t hi) {
  std::uniform_int_distribution<int32_t> u(lo, hi);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = u(rng());
  return v;
}

Tensor random_tensor(const Shape& shape, float lo, float hi) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return Tensor::from_vector(random_floats(static_cast<size_t>(n), lo, hi), shape);
}

bool gpu_available() { return cuda_device_count() > 0; }

std::string data_dir() {
  const char* s = std::getenv("GNNREC_DATA_DIR");
  return s ? s : GNNREC_DATA_DIR;
}

std::string temp_dir(const std::string& tag) {
  namespace fs = std::filesystem;
  // $GNNREC_TEST_TMP wins; else the build tree this binary came from; else /tmp (a packaged test
  // binary runs on a machine where the compiled-in build tree does not exist).
  fs::path root;
  if (const char* s = std::getenv("GNNREC_TEST_TMP"); s != nullptr && *s != '\0') {
    root = s;
  } else if (std::error_code ec; fs::is_directory(GNNREC_BINARY_DIR, ec)) {
    root = fs::path(GNNREC_BINARY_DIR) / "test_tmp";
  } else {
    root = fs::temp_directory_path() / "gnnrec_test_tmp";
  }
  const fs::path p = root / (tag + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::string corpus(const std::string& rel) {
  return std::string(GNNREC_SOURCE_DIR) + "/tests/data/prepare/" + rel;
}

std::string write_text(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string p = dir + "/" + name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

void expect_error(const std::function<void()>& f, const std::vector<std::string>& needles) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning " << needles[0];
  } catch (const Error& e) {
    for (const auto& n : needles) {
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
          << "missing '" << n << "' in: " << e.what();
    }
  }
}

::testing::AssertionResult all_close(const std::vector<float>& got, const std::vector<float>& ref,
                                     double atol, double rtol) {
  if (got.size() != ref.size()) {
    return ::testing::AssertionFailure() << "size " << got.size() << " vs " << ref.size();
  }
  size_t bad = 0;
  std::string first;
  for (size_t i = 0; i < got.size(); ++i) {
    const double tol = atol + rtol * std::fabs(ref[i]);
    const bool ok = std::fabs(static_cast<double>(got[i]) - ref[i]) <= tol ||
                    (std::isnan(got[i]) && std::isnan(ref[i]));
    if (!ok) {
      if (bad < 5) {
        first += " [" + std::to_string(i) + "] got " + std::to_string(got[i]) + " ref " +
                 std::to_string(ref[i]) + ";";
      }
      ++bad;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << got.size() << " values out of tolerance"
                                       << " (atol " << atol << ", rtol " << rtol << "):" << first
                                       << " seed " << test_seed();
}

::testing::AssertionResult nse_below(const std::vector<float>& got, const std::vector<float>& ref,
                                     double budget) {
  if (got.size() != ref.size()) {
    return ::testing::AssertionFailure() << "size " << got.size() << " vs " << ref.size();
  }
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    num += (static_cast<double>(got[i]) - ref[i]) * (static_cast<double>(got[i]) - ref[i]);
    den += static_cast<double>(ref[i]) * ref[i];
  }
  const double nse = num / std::max(den, 1e-30);
  if (nse <= budget) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "normalised squared error " << nse << " > " << budget
                                       << " seed " << test_seed();
}

}  // namespace gnnrec::testing
