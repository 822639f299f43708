// Index plumbing (kernels/index.h): CPU against plain loops, CUDA against the CPU (exact).
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "runtime/ops_index.h"
#include "testing/testing.h"

namespace gnnrec {
namespace {

struct Inputs {
  int32_t users = 13, items = 29;
  int64_t fu = 3, fi = 5, d = 37;
  Tensor nodes, xu, xi, idx64, table, rows, uniq;
};

Inputs make_inputs() {
  Inputs in;
  in.nodes = Tensor::from_vector(testing::random_ints(41, 0, in.users + in.items - 1));
  in.xu = testing::random_tensor({in.users, in.fu});
  in.xi = testing::random_tensor({in.items, in.fi});
  std::vector<int64_t> idx;
  for (int32_t v : testing::random_ints(50, 0, 99)) idx.push_back(v);
  in.idx64 = Tensor::from_vector(idx);
  in.table = Tensor::from_vector(testing::random_ints(100, -1000, 1000));
  std::vector<int32_t> perm(60);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), testing::rng());
  perm.resize(17);
  in.uniq = Tensor::from_vector(perm);
  in.rows = testing::random_tensor({17, in.d});
  return in;
}

// Runs every op on `dev`, returning all outputs flattened to doubles.
std::vector<double> run_all(const Inputs& in, Device dev) {
  std::vector<double> out;
  auto put_i = [&](const Tensor& t) {
    for (int32_t v : t.to_vector<int32_t>()) out.push_back(v);
  };
  auto put_f = [&](const Tensor& t) {
    for (float v : t.to_vector<float>()) out.push_back(v);
  };
  Tensor n = in.nodes.to(dev), o = Tensor::empty({in.nodes.numel()}, DType::kI32, dev);
  add_offset(n, 7, o);
  put_i(o);
  Tensor g = Tensor::empty({in.idx64.numel()}, DType::kI32, dev);
  gather_ids(in.table.to(dev), in.idx64.to(dev), g);
  put_i(g);
  Tensor f = Tensor::empty({in.nodes.numel(), in.fu + in.fi}, DType::kF32, dev);
  gather_node_features(n, in.users, in.xu.to(dev), in.xi.to(dev), f);
  put_f(f);
  Tensor dst = Tensor::zeros({60, in.d}, DType::kF32, dev);
  scatter_rows(in.rows.to(dev), in.uniq.to(dev), dst);
  put_f(dst);
  zero_rows(in.uniq.to(dev).rows(0, 5), dst);
  put_f(dst);
  return out;
}

std::vector<double> reference(const Inputs& in) {
  std::vector<double> out;
  const auto nodes = in.nodes.to_vector<int32_t>();
  for (int32_t v : nodes) out.push_back(v + 7);
  const auto table = in.table.to_vector<int32_t>();
  for (int64_t i : in.idx64.to_vector<int64_t>()) out.push_back(table[i]);
  for (int32_t v : nodes) {
    for (int64_t c = 0; c < in.fu + in.fi; ++c) {
      double x = 0;
      if (v < in.users && c < in.fu) x = in.xu.data<float>()[v * in.fu + c];
      if (v >= in.users && c >= in.fu) x = in.xi.data<float>()[(v - in.users) * in.fi + c - in.fu];
      out.push_back(x);
    }
  }
  std::vector<double> dst(60 * in.d, 0.0);
  const auto ids = in.uniq.to_vector<int32_t>();
  for (size_t r = 0; r < ids.size(); ++r)
    for (int64_t c = 0; c < in.d; ++c) dst[ids[r] * in.d + c] = in.rows.data<float>()[r * in.d + c];
  out.insert(out.end(), dst.begin(), dst.end());
  for (int r = 0; r < 5; ++r)
    for (int64_t c = 0; c < in.d; ++c) dst[ids[r] * in.d + c] = 0;
  out.insert(out.end(), dst.begin(), dst.end());
  return out;
}

TEST(IndexCpuTest, MatchesPlainLoops) {
  GNNREC_SEED_TRACE();
  Inputs in = make_inputs();
  EXPECT_EQ(run_all(in, Device::cpu()), reference(in));
}

TEST(IndexCpuTest, RejectsMismatchedShapes) {
  Tensor a = Tensor::zeros({4}, DType::kI32), b = Tensor::zeros({5}, DType::kI32);
  EXPECT_THROW(add_offset(a, 1, b), Error);
  Tensor f = Tensor::zeros({4, 3}, DType::kF32);
  EXPECT_THROW(gather_node_features(a, 2, Tensor::zeros({2, 1}, DType::kF32),
                                    Tensor::zeros({2, 1}, DType::kF32), f),
               Error);
}

TEST(IndexCudaTest, MatchesCpuExactly) {
  GNNREC_REQUIRE_GPU();
  Inputs in = make_inputs();
  EXPECT_EQ(run_all(in, Device::cuda(0)), run_all(in, Device::cpu()));
}

}  // namespace
}  // namespace gnnrec
