// Shared test helpers: the seed (GNNREC_TEST_SEED overrides), random inputs, tolerance checks
// that print the seed and the case on failure, and the GPU skip.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "runtime/tensor.h"

namespace gnnrec::testing {

uint64_t test_seed();  // default 20261130, or $GNNREC_TEST_SEED
std::mt19937_64& rng();  // seeded with test_seed() once per process

std::vector<float> random_floats(size_t n, float lo = -1.0f, float hi = 1.0f);
std::vector<int32_t> random_ints(size_t n, int32_t lo, int32_t hi);  // inclusive
Tensor random_tensor(const Shape& shape, float lo = -1.0f, float hi = 1.0f);

bool gpu_available();
std::string data_dir();  // $GNNREC_DATA_DIR or the CMake default (../shared/data)
// A fresh empty folder: under $GNNREC_TEST_TMP, else the build tree, else $TMPDIR or /tmp.
std::string temp_dir(const std::string& tag);

// A file of the hand-written input corpus, tests/data/prepare/<rel>.
std::string corpus(const std::string& rel);
// Writes `text` to dir/name (binary) and returns the path.
std::string write_text(const std::string& dir, const std::string& name, const std::string& text);
// Expects `f` to throw gnnrec::Error whose message contains every needle.
void expect_error(const std::function<void()>& f, const std::vector<std::string>& needles);

// Elementwise |got - ref| <= atol + rtol * |ref|; reports the first few violations.
::testing::AssertionResult all_close(const std::vector<float>& got, const std::vector<float>& ref,
                                     double atol, double rtol);
// sum (got-ref)^2 / max(sum ref^2, tiny) <= budget: for GEMM-like outputs.
::testing::AssertionResult nse_below(const std::vector<float>& got, const std::vector<float>& ref,
                                     double budget);

}  // namespace gnnrec::testing

// Skips the current test when no GPU is visible, saying so.
#define GNNREC_REQUIRE_GPU()                                                          \
  do {                                                                                \
    if (!::gnnrec::testing::gpu_available()) {                                        \
      GTEST_SKIP() << "no GPU visible (or built without CUDA): CUDA test not run";    \
    }                                                                                 \
  } while (0)

#define GNNREC_SEED_TRACE() SCOPED_TRACE("GNNREC_TEST_SEED=" + std::to_string(::gnnrec::testing::test_seed()))
