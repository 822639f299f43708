// Every op and variant registered once: a parameter string, an input generator and an error
// budget. Each case runs the CPU op against a plain reference, and (with a GPU) CUDA against
// the CPU op on the same inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>

#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "runtime/ops.h"
#include "testing/testing.h"

namespace gnnrec {
namespace {

// Tolerances. GEMM: normalised squared error, since summation order differs between BLAS,
// cuBLAS (TF32 off) and the double reference; 1e-10 is far above f32 rounding (~1e-14) for
// k <= 1000 and far below any indexing bug (~1). Elementwise: a few ulps.
constexpr double kGemmNse = 1e-10;
constexpr double kEltAtol = 1e-6, kEltRtol = 1e-5;
constexpr double kL2BackwardAtol = 1e-4;

struct Case {
  std::string name;
  // Runs the op on `device` from the inputs generated for this case; returns outputs, flat.
  std::function<std::vector<float>(Device)> run;
  // The plain reference on the host.
  std::function<std::vector<float>()> reference;
  double atol, rtol, nse;  // nse > 0: use the normalised squared error instead
};

std::vector<Case> make_cases() {
  std::vector<Case> cases;
  // GEMM: all transposes, epilogues, beta, shapes with batch 1, k = 0, dims not multiple of 32.
  struct G {
    int64_t m, n, k;
  };
  for (G g : {G{1, 1, 1}, G{1, 64, 64}, G{37, 45, 29}, G{128, 64, 128}, G{200, 33, 0},
              G{3, 130, 257}}) {
    for (int t = 0; t < 4; ++t) {
      for (Epilogue ep : {Epilogue::kNone, Epilogue::kBias, Epilogue::kRelu, Epilogue::kBiasRelu}) {
        for (float beta : {0.0f, 0.5f}) {
          const bool ta = t & 1, tb = t & 2;
          auto A = std::make_shared<Tensor>(testing::random_tensor(ta ? Shape{g.k, g.m} : Shape{g.m, g.k}));
          auto B = std::make_shared<Tensor>(testing::random_tensor(tb ? Shape{g.n, g.k} : Shape{g.k, g.n}));
          auto C0 = std::make_shared<Tensor>(testing::random_tensor({g.m, g.n}));
          auto bias = std::make_shared<Tensor>(testing::random_tensor({g.n}));
          const float alpha = 0.75f;
          Case c;
          c.name = fmt::format("gemm m={} n={} k={} ta={} tb={} ep={} beta={}", g.m, g.n, g.k, ta,
                               tb, static_cast<int>(ep), beta);
          c.run = [=](Device d) {
            Tensor a = A->to(d), b = B->to(d), cc = C0->to(d), bb = bias->to(d);
            gemm(a, ta, b, tb, cc, alpha, beta, &bb, ep);
            return cc.to_vector<float>();
          };
          c.reference = [=] {
            Tensor cc = C0->clone();
            GemmShape s{ta, tb, g.m, g.n, g.k, A->dim(1), B->dim(1), g.n};
            gemm_naive_cpu(s, alpha, A->data<float>(), B->data<float>(), beta, cc.data<float>(),
                           bias->data<float>(), ep);
            return cc.to_vector<float>();
          };
          c.atol = 1e-5;
          c.rtol = 0;
          c.nse = kGemmNse;
          cases.push_back(c);
        }
      }
    }
  // GEMM on row views one row in: every operand and the bias only 4-byte aligned (odd row
  // lengths), as Tensor::rows and the top-K chunks produce. cuBLASLt must not be told (or left
  // to assume) 16- or 256-byte alignment here.
  for (Epilogue ep : {Epilogue::kNone, Epilogue::kBiasRelu}) {
    for (int t = 0; t < 4; ++t) {
      const int64_t m = 37, n = 45, k = 29;
      const bool ta = t & 1, tb = t & 2;
      auto A = std::make_shared<Tensor>(
          testing::random_tensor(ta ? Shape{k + 1, m} : Shape{m + 1, k}));
      auto B = std::make_shared<Tensor>(
          testing::random_tensor(tb ? Shape{n + 1, k} : Shape{k + 1, n}));
      auto C0 = std::make_shared<Tensor>(testing::random_tensor({m + 1, n}));
      auto bias = std::make_shared<Tensor>(testing::random_tensor({n + 1}));
      const float alpha = 0.75f, beta = 0.5f;
      Case c;
      c.name = fmt::format("gemm row views m={} n={} k={} ta={} tb={} ep={}", m, n, k, ta, tb,
                           static_cast<int>(ep));
      c.run = [=](Device d) {
        Tensor a = A->to(d), b = B->to(d), cc = C0->to(d), bb = bias->to(d);
        Tensor av = a.rows(1, a.dim(0)), bv = b.rows(1, b.dim(0)), cv = cc.rows(1, m + 1);
        Tensor biv = bb.rows(1, n + 1);
        gemm(av, ta, bv, tb, cv, alpha, beta, &biv, ep);
        return cv.to_vector<float>();
      };
      c.reference = [=] {
        Tensor cc = C0->clone();
        GemmShape s{ta, tb, m, n, k, A->dim(1), B->dim(1), n};
        gemm_naive_cpu(s, alpha, A->data<float>() + A->dim(1), B->data<float>() + B->dim(1), beta,
                       cc.data<float>() + n, bias->data<float>() + 1, ep);
        return cc.rows(1, m + 1).to_vector<float>();
      };
      c.atol = 1e-5;
      c.rtol = 0;
      c.nse = kGemmNse;
      cases.push_back(c);
    }
  }
  }
  // Elementwise and row ops over sizes including 1 and non-multiples of 32.
  for (int64_t rows : {1, 7, 300}) {
    for (int64_t d : {1, 31, 64, 100}) {
      const int64_t n = rows * d;
      auto x = std::make_shared<Tensor>(testing::random_tensor({rows, d}));
      auto y0 = std::make_shared<Tensor>(testing::random_tensor({rows, d}));
      auto dy = std::make_shared<Tensor>(testing::random_tensor({rows, d}));
      if (rows > 1) std::fill(x->data<float>(), x->data<float>() + d, 0.0f);  // a zero row
      const std::string shape = fmt::format("rows={} d={}", rows, d);
      auto add = [&](std::string op, std::function<std::vector<float>(Device)> run,
                     std::function<std::vector<float>()> ref, double atol = kEltAtol) {
        cases.push_back({op + " " + shape, run, ref, atol, kEltRtol, 0});
      };
      add("axpy",
          [=](Device dev) {
            Tensor xx = x->to(dev), yy = y0->to(dev);
            axpy(-1.5f, xx, yy);
            return yy.to_vector<float>();
          },
          [=] {
            std::vector<float> r(n);
            for (int64_t i = 0; i < n; ++i) r[i] = y0->data<float>()[i] + -1.5f * x->data<float>()[i];
            return r;
          });
      add("scale",
          [=](Device dev) {
            Tensor xx = x->to(dev);
            scale(xx, 3.0f);
            return xx.to_vector<float>();
          },
          [=] {
            std::vector<float> r(n);
            for (int64_t i = 0; i < n; ++i) r[i] = 3.0f * x->data<float>()[i];
            return r;
          });
      add("relu_forward",
          [=](Device dev) {
            Tensor xx = x->to(dev), yy = Tensor::empty({rows, d}, DType::kF32, dev);
            relu_forward(xx, yy);
            return yy.to_vector<float>();
          },
          [=] {
            std::vector<float> r(n);
            for (int64_t i = 0; i < n; ++i) r[i] = x->data<float>()[i] > 0 ? x->data<float>()[i] : 0;
            return r;
          });
      add("relu_backward",
          [=](Device dev) {
            Tensor xx = x->to(dev), g = dy->to(dev), out = Tensor::empty({rows, d}, DType::kF32, dev);
            relu_backward(xx, g, out);
            return out.to_vector<float>();
          },
          [=] {
            std::vector<float> r(n);
            for (int64_t i = 0; i < n; ++i) r[i] = x->data<float>()[i] > 0 ? dy->data<float>()[i] : 0;
            return r;
          });
      add("l2_normalize_forward",
          [=](Device dev) {
            Tensor xx = x->to(dev), yy = Tensor::empty({rows, d}, DType::kF32, dev);
            Tensor nr = Tensor::empty({rows}, DType::kF32, dev);
            l2_normalize_forward(xx, yy, nr);
            auto v = yy.to_vector<float>();
            auto w = nr.to_vector<float>();
            v.insert(v.end(), w.begin(), w.end());
            return v;
          },
          [=] {
            std::vector<float> r(n), norms(rows);
            for (int64_t i = 0; i < rows; ++i) {
              double ss = 0;
              for (int64_t j = 0; j < d; ++j) ss += double(x->data<float>()[i * d + j]) * x->data<float>()[i * d + j];
              const double nr = std::max(std::sqrt(ss), 1e-12);
              norms[i] = static_cast<float>(nr);
              for (int64_t j = 0; j < d; ++j) r[i * d + j] = static_cast<float>(x->data<float>()[i * d + j] / nr);
            }
            r.insert(r.end(), norms.begin(), norms.end());
            return r;
          });
      add("l2_normalize_backward",
          [=](Device dev) {
            Tensor xx = x->to(dev), yy = Tensor::empty({rows, d}, DType::kF32, dev);
            Tensor nr = Tensor::empty({rows}, DType::kF32, dev), g = dy->to(dev);
            Tensor dx = Tensor::empty({rows, d}, DType::kF32, dev);
            l2_normalize_forward(xx, yy, nr);
            l2_normalize_backward(yy, nr, g, dx);
            return dx.to_vector<float>();
          },
          [=] {
            // The Jacobian of x/||x|| applied to dy: (I - y y^T) dy / ||x||, in double.
            std::vector<float> r(n);
            for (int64_t i = 0; i < rows; ++i) {
              const float* xr = x->data<float>() + i * d;
              const float* gr = dy->data<float>() + i * d;
              double ss = 0;
              for (int64_t j = 0; j < d; ++j) ss += double(xr[j]) * xr[j];
              const double nr = std::sqrt(ss);
              if (nr <= 1e-12) {
                for (int64_t j = 0; j < d; ++j) r[i * d + j] = static_cast<float>(gr[j] / 1e-12);
                continue;
              }
              double dot = 0;
              for (int64_t j = 0; j < d; ++j) dot += xr[j] / nr * gr[j];
              for (int64_t j = 0; j < d; ++j) r[i * d + j] = static_cast<float>((gr[j] - xr[j] / nr * dot) / nr);
            }
            return r;
          },
          // Ill-conditioned by 1/||x||: rows with small norms (d = 1) lose ~eps/||x||.
          kL2BackwardAtol);
      add("column_sum",
          [=](Device dev) {
            Tensor xx = x->to(dev), out = Tensor::empty({d}, DType::kF32, dev);
            column_sum(xx, out);
            return out.to_vector<float>();
          },
          [=] {
            std::vector<float> r(d, 0);
            std::vector<double> acc(d, 0);
            for (int64_t i = 0; i < rows; ++i)
              for (int64_t j = 0; j < d; ++j) acc[j] += x->data<float>()[i * d + j];
            for (int64_t j = 0; j < d; ++j) r[j] = static_cast<float>(acc[j]);
            return r;
          },
          // A float sum of `rows` terms in [-1, 1] is off by up to rows * 2^-24 per step.
          static_cast<double>(rows) * 1.2e-7);
    }
  }
  // Column sums over many rows: the CUDA kernel's 256-row chunks (several, a partial last one,
  // exactly one) and no rows at all. Tolerance: a float sum of `rows` terms in [-1, 1].
  for (int64_t rows : {0, 256, 5000, 70001}) {
    for (int64_t d : {3, 64, 100}) {
      auto x = std::make_shared<Tensor>(testing::random_tensor({rows, d}));
      cases.push_back({fmt::format("column_sum rows={} d={}", rows, d),
                       [=](Device dev) {
                         Tensor xx = x->to(dev), out = Tensor::empty({d}, DType::kF32, dev);
                         rng_uniform(RngKey{}, 0, 5.0f, 6.0f, out);  // poison
                         column_sum(xx, out);
                         return out.to_vector<float>();
                       },
                       [=] {
                         std::vector<double> acc(d, 0);
                         for (int64_t i = 0; i < rows; ++i)
                           for (int64_t j = 0; j < d; ++j) acc[j] += x->data<float>()[i * d + j];
                         return std::vector<float>(acc.begin(), acc.end());
                       },
                       static_cast<double>(rows + 1) * 1.2e-7, kEltRtol, 0});
    }
  }
  // Random fills: exact on both backends, reference from the scalar Philox.
  for (int64_t n : {1, 1000, 100003}) {
    RngKey key{testing::test_seed(), static_cast<uint32_t>(RngPurpose::kTest), 3, 9};
    cases.push_back({fmt::format("rng_uniform n={}", n),
                     [=](Device dev) {
                       Tensor t = Tensor::empty({n}, DType::kF32, dev);
                       rng_uniform(key, 12345, -2.0f, 3.0f, t);
                       return t.to_vector<float>();
                     },
                     [=] {
                       std::vector<float> r(n);
                       for (int64_t i = 0; i < n; ++i)
                         r[i] = -2.0f + 5.0f * rng_uniform01(rng_draw(key, 12345 + i).v[0]);
                       return r;
                     },
                     0, 0, 0});
    cases.push_back({fmt::format("rng_bits n={}", n),
                     [=](Device dev) {
                       Tensor t = Tensor::empty({n}, DType::kI32, dev);
                       rng_bits(key, 7, t);
                       std::vector<float> r;
                       for (int32_t v : t.to_vector<int32_t>()) r.push_back(static_cast<float>(v & 0xffffff));
                       return r;
                     },
                     [=] {
                       std::vector<float> r(n);
                       for (int64_t i = 0; i < n; ++i) r[i] = static_cast<float>(rng_draw(key, 7 + i).v[0] & 0xffffff);
                       return r;
                     },
                     0, 0, 0});
    // Dropout, forward and (same call on a gradient) backward: exact on both backends. The
    // reference draws the mask with a plain uniform comparison and checks the kept fraction.
    for (float p : {0.0f, 0.3f}) {
      auto x = std::make_shared<Tensor>(testing::random_tensor({n}));
      cases.push_back({fmt::format("dropout n={} p={}", n, p),
                       [=](Device dev) {
                         Tensor xx = x->to(dev), out = Tensor::empty({n}, DType::kF32, dev);
                         dropout(key, 99, p, xx, out);
                         dropout(key, 99, p, out, out);  // in place, the backward's use
                         return out.to_vector<float>();
                       },
                       [=] {
                         std::vector<float> r(n);
                         const float scale = 1.0f / (1.0f - p);
                         int64_t kept = 0;
                         for (int64_t i = 0; i < n; ++i) {
                           const bool keep = rng_uniform01(rng_draw(key, 99 + i).v[0]) >= p;
                           kept += keep;
                           r[i] = keep ? (x->data<float>()[i] * scale) * scale : 0.0f;
                         }
                         // Binomial(n, 1 - p): 5 standard deviations.
                         const double sd = std::sqrt(double(n) * p * (1 - p));
                         EXPECT_NEAR(double(kept), double(n) * (1 - p), 5 * sd + 1e-9);
                         return r;
                       },
                       0, 0, 0});
    }
  }
  return cases;
}

const std::vector<Case>& cases() {
  static std::vector<Case> c = make_cases();
  return c;
}

::testing::AssertionResult compare(const Case& c, const std::vector<float>& got,
                                   const std::vector<float>& ref) {
  if (c.nse > 0) {
    auto r = testing::nse_below(got, ref, c.nse);
    if (!r) return r;
  }
  return testing::all_close(got, ref, c.nse > 0 ? c.atol + 1e-4 : c.atol, c.nse > 0 ? 1e-4 : c.rtol);
}

TEST(BackendOpsCpuTest, EveryOpMatchesItsReference) {
  GNNREC_SEED_TRACE();
  ASSERT_GT(cases().size(), 100u);
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(compare(c, c.run(Device::cpu()), c.reference()));
  }
}

TEST(BackendOpsCpuTest, GemmRejectsBadShapes) {
  Tensor a = Tensor::zeros({2, 3}, DType::kF32), b = Tensor::zeros({4, 5}, DType::kF32);
  Tensor c = Tensor::zeros({2, 5}, DType::kF32);
  EXPECT_THROW(gemm(a, false, b, false, c), Error);
  Tensor bias = Tensor::zeros({4}, DType::kF32);
  Tensor b2 = Tensor::zeros({3, 5}, DType::kF32);
  EXPECT_THROW(gemm(a, false, b2, false, c, 1, 0, &bias, Epilogue::kBias), Error);
  EXPECT_THROW(gemm(a, false, b2, false, c, 1, 0, nullptr, Epilogue::kBias), Error);
  Tensor ai = Tensor::zeros({2, 3}, DType::kI32);
  EXPECT_THROW(gemm(ai, false, b2, false, c), Error);
}

TEST(BackendOpsCudaTest, EveryOpMatchesTheCpu) {
  GNNREC_REQUIRE_GPU();
  GNNREC_SEED_TRACE();
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(compare(c, c.run(Device::cuda(0)), c.run(Device::cpu())));
  }
}

}  // namespace
}  // namespace gnnrec
