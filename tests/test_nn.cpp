// Neural-network ops of runtime/ops_nn.h: aggregation, SAGE layer, link losses, embeddings, the
// MLP head and the optimisers.
//
// Like tests/test_backend_ops.cpp, every op and variant is registered once as a case with a name,
// run(Device) and a plain reference() on the host; the CPU test compares each case with its
// reference, the CUDA test compares CUDA with the CPU on the same inputs (skipped without a GPU).
// Backward passes are also checked by central finite differences of double-precision forward
// functions written here, and every op is run twice to check bit-identical repeats.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>

#include "kernels/aggregate.h"
#include "kernels/gemm.h"
#include "kernels/loss.h"
#include "kernels/optim.h"
#include "runtime/dispatch.h"
#include "runtime/ops.h"
#include "runtime/ops_nn.h"
#include "testing/testing.h"

namespace gnnrec {
namespace {

// ---- Tolerances ---------------------------------------------------------------------------------
// Aggregation sums: a float sum of <= 40 terms in [-1, 1] against the double reference loses at
// most ~40 * 2^-24 * (partial sums <= ~10), i.e. ~2e-5 absolute; an indexing bug is ~0.1 or more.
constexpr double kSumAtol = 2e-5, kSumRtol = 1e-5;
// GEMM-like outputs (SAGE layer, MLP head): normalised squared error, as in test_backend_ops.cpp
// (summation orders differ between BLAS and the double reference); plus an elementwise bound.
constexpr double kGemmNse = 1e-10, kGemmAtol = 1e-4, kGemmRtol = 1e-4;
// Losses: float dot products of <= 100 terms (relative ~1e-6) through expf/log1pf (a few ulps),
// and per-row float losses; 1e-5 absolute on gradients of size ~1/B is far below any bug.
constexpr double kLossAtol = 1e-5, kLossRtol = 1e-4;
// Adam against the scalar double reference: a handful of float roundings per step, amplified by
// the division by sqrt(v) (relative ~1e-6 per step over 5 steps).
constexpr double kAdamAtol = 1e-6, kAdamRtol = 1e-5;
// CUDA vs CPU where the arithmetic differs (warp-tree dots, cuBLAS GEMMs without TF32).
constexpr double kCudaAtol = 1e-5, kCudaRtol = 1e-4;
// Finite differences: a float analytic gradient against a double central difference (h = 1e-6 on
// a double forward, truncation ~1e-12): float rounding of the op (~1e-6 relative) dominates.
constexpr double kFdAtol = 2e-4, kFdRtol = 2e-3;
constexpr double kFdStep = 1e-6;

// Test tensors live on the op's stream (the context stream on a GPU): allocated, filled and read
// back there, so a read never races with the kernels that write it.
Stream st(Device d) { return detail::stream_of(d); }
template <typename T>
std::vector<T> down(const Tensor& t) {
  return t.device().is_cpu() ? t.to_vector<T>()
                             : t.to(Device::cpu(), st(t.device())).to_vector<T>();
}

// ---- Random blocks ------------------------------------------------------------------------------
struct Block {
  int64_t n_dst = 0, n_src = 0;
  std::vector<int32_t> indptr, indices, t_indptr, t_indices;
};

// Degrees cycle through 0, 1, `hi_deg` (above a typical fanout) and small random ones, shifted
// by `shift` so batch-1 blocks can start with any of them. Neighbours are drawn with replacement,
// so a row may list the same src twice.
Block make_block(int64_t n_dst, int64_t n_src, int hi_deg, int shift) {
  auto& g = testing::rng();
  Block b;
  b.n_dst = n_dst;
  b.n_src = n_src;
  b.indptr.push_back(0);
  for (int64_t r = 0; r < n_dst; ++r) {
    const int64_t c = (r + shift) % 6;
    const int64_t deg = c == 0   ? 0
                        : c == 1 ? 1
                        : c == 2 ? hi_deg
                                 : 2 + static_cast<int64_t>(g() % 6);
    for (int64_t j = 0; j < deg; ++j) b.indices.push_back(static_cast<int32_t>(g() % n_src));
    b.indptr.push_back(static_cast<int32_t>(b.indices.size()));
  }
  // Transpose by a counting sort over src; dst rows are visited in order, so each list ascends.
  b.t_indptr.assign(n_src + 1, 0);
  for (int32_t s : b.indices) ++b.t_indptr[s + 1];
  for (int64_t s = 0; s < n_src; ++s) b.t_indptr[s + 1] += b.t_indptr[s];
  b.t_indices.resize(b.indices.size());
  std::vector<int32_t> cur(b.t_indptr.begin(), b.t_indptr.end() - 1);
  for (int64_t r = 0; r < n_dst; ++r) {
    for (int32_t j = b.indptr[r]; j < b.indptr[r + 1]; ++j) {
      b.t_indices[cur[b.indices[j]]++] = static_cast<int32_t>(r);
    }
  }
  return b;
}

struct BlockT {
  Tensor indptr, indices, t_indptr, t_indices;
};
BlockT to_device(const Block& b, Device d) {
  auto t = [&](const std::vector<int32_t>& v) {
    return Tensor::from_vector(v, {static_cast<int64_t>(v.size())}).to(d, st(d));
  };
  return {t(b.indptr), t(b.indices), t(b.t_indptr), t(b.t_indices)};
}

std::vector<float> as_floats(const std::vector<int32_t>& v) {
  return std::vector<float>(v.begin(), v.end());
}
void append(std::vector<float>& a, const std::vector<float>& b) {
  a.insert(a.end(), b.begin(), b.end());
}
std::vector<float> rand_vec(size_t n) { return testing::random_floats(n); }
Tensor ints(const std::vector<int32_t>& v, const Shape& s = {}) {
  return Tensor::from_vector(v, s);
}

// ---- Double-precision forwards used by the references and the finite differences --------------
std::vector<double> agg_forward_d(AggKind kind, const Block& b, const std::vector<double>& src,
                                  int64_t d) {
  std::vector<double> out(b.n_dst * d, 0.0);
  for (int64_t r = 0; r < b.n_dst; ++r) {
    const int64_t begin = b.indptr[r], end = b.indptr[r + 1];
    for (int64_t c = 0; c < d; ++c) {
      double acc = 0.0;
      for (int64_t j = begin; j < end; ++j) {
        const double v = src[b.indices[j] * d + c];
        acc = kind == AggKind::kMax ? (j == begin ? v : std::max(acc, v)) : acc + v;
      }
      if (kind == AggKind::kMean && end > begin) acc /= static_cast<double>(end - begin);
      out[r * d + c] = acc;
    }
  }
  return out;
}

struct SageRef {
  std::vector<double> x, pre, out;
};
SageRef sage_forward_d(AggKind kind, const Block& b, const std::vector<double>& h, int64_t d_in,
                       const std::vector<double>& W, const std::vector<double>& bias, int64_t d_out,
                       bool relu) {
  SageRef s;
  const std::vector<double> agg = agg_forward_d(kind, b, h, d_in);
  s.x.assign(b.n_dst * 2 * d_in, 0.0);
  for (int64_t r = 0; r < b.n_dst; ++r) {
    for (int64_t c = 0; c < d_in; ++c) {
      s.x[r * 2 * d_in + c] = h[r * d_in + c];
      s.x[r * 2 * d_in + d_in + c] = agg[r * d_in + c];
    }
  }
  s.pre.assign(b.n_dst * d_out, 0.0);
  s.out.assign(b.n_dst * d_out, 0.0);
  for (int64_t r = 0; r < b.n_dst; ++r) {
    for (int64_t o = 0; o < d_out; ++o) {
      double acc = bias[o];
      for (int64_t k = 0; k < 2 * d_in; ++k) acc += s.x[r * 2 * d_in + k] * W[k * d_out + o];
      s.pre[r * d_out + o] = acc;
      s.out[r * d_out + o] = relu ? std::max(acc, 0.0) : acc;
    }
  }
  return s;
}

double softplus_d(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x))); }
double sigmoid_d(double x) { return 1.0 / (1.0 + std::exp(-x)); }

struct LinkBatch {
  int64_t n, d, B, k;
  std::vector<float> Z;
  std::vector<int32_t> u, pos, neg;
};
// n small against B*(1+k) so rows repeat across and within pairs (u == pos happens too).
LinkBatch make_link_batch(int64_t n, int64_t d, int64_t B, int64_t k) {
  LinkBatch L{n,
              d,
              B,
              k,
              rand_vec(n * d),
              testing::random_ints(B, 0, n - 1),
              testing::random_ints(B, 0, n - 1),
              testing::random_ints(B * k, 0, n - 1)};
  return L;
}

// Loss and dZ of kernels/loss.h in double, scattering per pair (the plain formulation).
double link_loss_d(LossKind kind, const LinkBatch& L, const std::vector<double>& Z, double t,
                   std::vector<double>* dZ) {
  const int64_t d = L.d, k = L.k;
  auto dot = [&](int64_t a, int64_t b) {
    double acc = 0;
    for (int64_t c = 0; c < d; ++c) acc += Z[a * d + c] * Z[b * d + c];
    return t * acc;
  };
  auto grad = [&](int64_t a, int64_t b, double g) {
    if (dZ == nullptr) return;
    for (int64_t c = 0; c < d; ++c) {
      (*dZ)[a * d + c] += g * t * Z[b * d + c];
      (*dZ)[b * d + c] += g * t * Z[a * d + c];
    }
  };
  if (dZ != nullptr) dZ->assign(L.n * d, 0.0);
  const double scale = link_loss_scale(kind, L.B, k);
  double loss = 0;
  for (int64_t b = 0; b < L.B; ++b) {
    const double sp = dot(L.u[b], L.pos[b]);
    if (kind == LossKind::kBce) {
      loss += softplus_d(-sp);
      grad(L.u[b], L.pos[b], -scale * sigmoid_d(-sp));
    }
    for (int64_t j = 0; j < k; ++j) {
      const int32_t ng = L.neg[b * k + j];
      const double sn = dot(L.u[b], ng);
      if (kind == LossKind::kBpr) {
        loss += softplus_d(sn - sp);
        const double gx = scale * sigmoid_d(sn - sp);
        grad(L.u[b], ng, gx);
        grad(L.u[b], L.pos[b], -gx);
      } else {
        loss += softplus_d(sn);
        grad(L.u[b], ng, scale * sigmoid_d(sn));
      }
    }
  }
  return loss * scale;
}

struct MlpParams {
  int64_t d, h;
  std::vector<double> W1, b1, W2, b2;
};
// scores[p] and (if G) the gradients of sum_p G[p] * score[p].
struct MlpGrads {
  std::vector<double> dZ, dW1, db1, dW2, db2;
};
std::vector<double> mlp_forward_d(const std::vector<double>& Z, const std::vector<int32_t>& a,
                                  const std::vector<int32_t>& bidx, const MlpParams& m,
                                  const std::vector<double>* G, MlpGrads* gr, int64_t n) {
  const int64_t P = static_cast<int64_t>(a.size()), d = m.d, H = m.h;
  std::vector<double> scores(P);
  if (gr != nullptr) {
    gr->dZ.assign(n * d, 0.0);
    gr->dW1.assign(3 * d * H, 0.0);
    gr->db1.assign(H, 0.0);
    gr->dW2.assign(H, 0.0);
    gr->db2.assign(1, 0.0);
  }
  for (int64_t p = 0; p < P; ++p) {
    std::vector<double> x(3 * d), hid(H);
    for (int64_t c = 0; c < d; ++c) {
      x[c] = Z[a[p] * d + c];
      x[d + c] = Z[bidx[p] * d + c];
      x[2 * d + c] = x[c] * x[d + c];
    }
    double s = m.b2[0];
    for (int64_t j = 0; j < H; ++j) {
      double acc = m.b1[j];
      for (int64_t i = 0; i < 3 * d; ++i) acc += x[i] * m.W1[i * H + j];
      hid[j] = std::max(acc, 0.0);
      s += hid[j] * m.W2[j];
    }
    scores[p] = s;
    if (gr == nullptr) continue;
    const double g = (*G)[p];
    gr->db2[0] += g;
    std::vector<double> dx(3 * d, 0.0);
    for (int64_t j = 0; j < H; ++j) {
      gr->dW2[j] += g * hid[j];
      const double dh = hid[j] > 0 ? g * m.W2[j] : 0.0;
      gr->db1[j] += dh;
      for (int64_t i = 0; i < 3 * d; ++i) {
        gr->dW1[i * H + j] += x[i] * dh;
        dx[i] += dh * m.W1[i * H + j];
      }
    }
    for (int64_t c = 0; c < d; ++c) {
      gr->dZ[a[p] * d + c] += dx[c] + dx[2 * d + c] * x[d + c];
      gr->dZ[bidx[p] * d + c] += dx[d + c] + dx[2 * d + c] * x[c];
    }
  }
  return scores;
}

std::vector<double> to_d(const std::vector<float>& v) { return {v.begin(), v.end()}; }
std::vector<float> to_f(const std::vector<double>& v) {
  std::vector<float> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = static_cast<float>(v[i]);
  return r;
}

// ---- The case registry --------------------------------------------------------------------------
struct Case {
  std::string name;
  std::function<std::vector<float>(Device)> run;
  std::function<std::vector<float>()> reference;
  double atol, rtol, nse;   // nse > 0: also bound the normalised squared error
  bool cuda_exact = false;  // CUDA promises the CPU's bits (same order, explicit rounding)
};

const AggKind kAggKinds[] = {AggKind::kMean, AggKind::kMax, AggKind::kSum};
const int64_t kDims[] = {1, 31, 64, 100};

void add_aggregate_cases(std::vector<Case>& cases) {
  struct S {
    int64_t n_dst, n_src;
    int hi_deg, shift;
  };
  for (S s : {S{1, 3, 40, 2}, S{1, 5, 40, 0}, S{57, 90, 40, 0}}) {
    for (int64_t d : kDims) {
      auto blk = std::make_shared<Block>(make_block(s.n_dst, s.n_src, s.hi_deg, s.shift));
      auto src = std::make_shared<std::vector<float>>(rand_vec(s.n_src * d));
      auto gout = std::make_shared<std::vector<float>>(rand_vec(s.n_dst * (d + 7)));
      auto dsrc0 = std::make_shared<std::vector<float>>(rand_vec(s.n_src * d));
      for (AggKind kind : kAggKinds) {
        const std::string tag =
            fmt::format("{} n_dst={} n_src={} d={}", agg_kind_name(kind), s.n_dst, s.n_src, d);
        // Forward into columns [3, 3+d) of a wider output whose other columns must survive.
        const int64_t width = d + 7, off = 3;
        auto out0 = std::make_shared<std::vector<float>>(rand_vec(s.n_dst * width));
        cases.push_back(
            {"aggregate_forward " + tag,
             [=](Device dev) {
               BlockT b = to_device(*blk, dev);
               Tensor x = Tensor::from_vector(*src, {s.n_src, d}).to(dev, st(dev));
               Tensor out = Tensor::from_vector(*out0, {s.n_dst, width}).to(dev, st(dev));
               Tensor am = Tensor::empty({s.n_dst, d}, DType::kI32, dev, st(dev));
               aggregate_forward(kind, b.indptr, b.indices, x, out, off, &am);
               auto r = down<float>(out);
               if (kind == AggKind::kMax) append(r, as_floats(down<int32_t>(am)));
               return r;
             },
             [=] {
               std::vector<float> out = *out0;
               std::vector<int32_t> am(s.n_dst * d);
               aggregate_forward_naive_cpu(kind, s.n_dst, d, blk->indptr.data(),
                                           blk->indices.data(), src->data(), d, out.data() + off,
                                           width, am.data());
               if (kind == AggKind::kMax) append(out, as_floats(am));
               return out;
             },
             kSumAtol, kSumRtol, 0, true});
        for (bool acc : {false, true}) {
          cases.push_back(
              {fmt::format("aggregate_backward {} accumulate={}", tag, acc),
               [=](Device dev) {
                 BlockT b = to_device(*blk, dev);
                 Tensor x = Tensor::from_vector(*src, {s.n_src, d}).to(dev, st(dev));
                 Tensor out = Tensor::empty({s.n_dst, d}, DType::kF32, dev, st(dev));
                 Tensor am = Tensor::empty({s.n_dst, d}, DType::kI32, dev, st(dev));
                 aggregate_forward(kind, b.indptr, b.indices, x, out, 0, &am);
                 Tensor g = Tensor::from_vector(*gout, {s.n_dst, width}).to(dev, st(dev));
                 Tensor ds = Tensor::from_vector(*dsrc0, {s.n_src, d}).to(dev, st(dev));
                 aggregate_backward(kind, b.indptr, b.t_indptr, b.t_indices, g, off, &am, ds, acc);
                 return down<float>(ds);
               },
               [=] {
                 std::vector<float> out(s.n_dst * d), ds = *dsrc0;
                 std::vector<int32_t> am(s.n_dst * d);
                 aggregate_forward_naive_cpu(kind, s.n_dst, d, blk->indptr.data(),
                                             blk->indices.data(), src->data(), d, out.data(), d,
                                             am.data());
                 aggregate_backward_naive_cpu(kind, s.n_dst, s.n_src, d, blk->indptr.data(),
                                              blk->indices.data(), gout->data() + off, width,
                                              am.data(), ds.data(), d, acc);
                 return ds;
               },
               kSumAtol, kSumRtol, 0, true});
        }
      }
    }
  }
}

void add_sage_cases(std::vector<Case>& cases) {
  struct S {
    int64_t n_dst, n_src, d_in, d_out;
  };
  for (S s : {S{1, 4, 31, 16}, S{40, 70, 64, 32}, S{23, 50, 100, 65}}) {
    for (AggKind kind : kAggKinds) {
      for (bool relu : {false, true}) {
        auto blk = std::make_shared<Block>(make_block(s.n_dst, s.n_src, 30, 1));
        auto h = std::make_shared<std::vector<float>>(rand_vec(s.n_src * s.d_in));
        auto W = std::make_shared<std::vector<float>>(rand_vec(2 * s.d_in * s.d_out));
        auto bias = std::make_shared<std::vector<float>>(rand_vec(s.d_out));
        auto G = std::make_shared<std::vector<float>>(rand_vec(s.n_dst * s.d_out));
        cases.push_back(
            {fmt::format("sage_layer {} relu={} n_dst={} n_src={} d_in={} d_out={}",
                         agg_kind_name(kind), relu, s.n_dst, s.n_src, s.d_in, s.d_out),
             [=](Device dev) {
               BlockT b = to_device(*blk, dev);
               Tensor hs = Tensor::from_vector(*h, {s.n_src, s.d_in}).to(dev, st(dev));
               Tensor w = Tensor::from_vector(*W, {2 * s.d_in, s.d_out}).to(dev, st(dev));
               Tensor bb = Tensor::from_vector(*bias).to(dev, st(dev));
               Tensor out = Tensor::empty({s.n_dst, s.d_out}, DType::kF32, dev, st(dev));
               SageCache cache;
               sage_layer_forward(kind, b.indptr, b.indices, hs, w, bb, relu, out, cache);
               Tensor g = Tensor::from_vector(*G, {s.n_dst, s.d_out}).to(dev, st(dev));
               Tensor dW = Tensor::empty(w.shape(), DType::kF32, dev, st(dev));
               Tensor db = Tensor::empty({s.d_out}, DType::kF32, dev, st(dev));
               Tensor dh = Tensor::empty({s.n_src, s.d_in}, DType::kF32, dev, st(dev));
               sage_layer_backward(kind, b.indptr, b.t_indptr, b.t_indices, w, cache, g, relu, dW,
                                   db, dh);
               auto r = down<float>(out);
               append(r, down<float>(dW));
               append(r, down<float>(db));
               append(r, down<float>(dh));
               return r;
             },
             // The chain of unfused naive ops, in double where it sums.
             [=] {
               const SageRef f = sage_forward_d(kind, *blk, to_d(*h), s.d_in, to_d(*W), to_d(*bias),
                                                s.d_out, relu);
               std::vector<double> g(G->begin(), G->end());
               if (relu) {
                 for (size_t i = 0; i < g.size(); ++i) g[i] = f.pre[i] > 0 ? g[i] : 0.0;
               }
               const int64_t k2 = 2 * s.d_in;
               std::vector<double> dW(k2 * s.d_out, 0.0), db(s.d_out, 0.0), dX(s.n_dst * k2, 0.0);
               for (int64_t r = 0; r < s.n_dst; ++r) {
                 for (int64_t o = 0; o < s.d_out; ++o) {
                   const double go = g[r * s.d_out + o];
                   db[o] += go;
                   for (int64_t k = 0; k < k2; ++k) {
                     dW[k * s.d_out + o] += f.x[r * k2 + k] * go;
                     dX[r * k2 + k] += go * (*W)[k * s.d_out + o];
                   }
                 }
               }
               // Neighbour half through the naive (scatter) backward, then the self half.
               std::vector<float> dXf = to_f(dX), out_unused(s.n_dst * s.d_in),
                                  dh(s.n_src * s.d_in);
               std::vector<int32_t> am(s.n_dst * s.d_in);
               aggregate_forward_naive_cpu(kind, s.n_dst, s.d_in, blk->indptr.data(),
                                           blk->indices.data(), h->data(), s.d_in,
                                           out_unused.data(), s.d_in, am.data());
               aggregate_backward_naive_cpu(kind, s.n_dst, s.n_src, s.d_in, blk->indptr.data(),
                                            blk->indices.data(), dXf.data() + s.d_in, k2, am.data(),
                                            dh.data(), s.d_in, false);
               for (int64_t r = 0; r < s.n_dst; ++r) {
                 for (int64_t c = 0; c < s.d_in; ++c) dh[r * s.d_in + c] += dXf[r * k2 + c];
               }
               std::vector<float> res = to_f(f.out);
               append(res, to_f(dW));
               append(res, to_f(db));
               append(res, dh);
               return res;
             },
             kGemmAtol, kGemmRtol, kGemmNse});
      }
    }
  }
}

void add_loss_cases(std::vector<Case>& cases) {
  struct S {
    int64_t n, B, k;
  };
  for (S s : {S{2, 1, 1}, S{13, 37, 5}, S{300, 64, 3}}) {
    for (int64_t d : kDims) {
      auto L = std::make_shared<LinkBatch>(make_link_batch(s.n, d, s.B, s.k));
      const float t = 1.7f;
      for (LossKind kind : {LossKind::kBpr, LossKind::kBce}) {
        cases.push_back(
            {fmt::format("link_loss {} n={} B={} k={} d={}", loss_kind_name(kind), s.n, s.B, s.k,
                         d),
             [=](Device dev) {
               Tensor Z = Tensor::from_vector(L->Z, {s.n, d}).to(dev, st(dev));
               Tensor u = ints(L->u).to(dev, st(dev)), p = ints(L->pos).to(dev, st(dev));
               Tensor ng = ints(L->neg, {s.B, s.k}).to(dev, st(dev));
               Tensor dZ =
                   Tensor::from_vector(rand_vec(s.n * d), {s.n, d}).to(dev, st(dev));  // garbage
               Tensor loss = Tensor::from_vector<float>({0.5f}).to(dev, st(dev));
               link_loss(kind, Z, u, p, ng, t, dZ, loss);
               auto r = down<float>(dZ);
               r.push_back(down<float>(loss)[0]);
               return r;
             },
             [=] {
               std::vector<double> dZ;
               const double loss = link_loss_d(kind, *L, to_d(L->Z), t, &dZ);
               auto r = to_f(dZ);
               r.push_back(static_cast<float>(0.5 + loss));
               return r;
             },
             kLossAtol, kLossRtol, 0});
        // score_loss on the same batch's scores (from pair_scores over expand_link_pairs).
        cases.push_back({fmt::format("pair_scores+score_loss {} B={} k={} d={}",
                                     loss_kind_name(kind), s.B, s.k, d),
                         [=](Device dev) {
                           const int64_t P = s.B * (1 + s.k);
                           Tensor Z = Tensor::from_vector(L->Z, {s.n, d}).to(dev, st(dev));
                           Tensor u = ints(L->u).to(dev, st(dev)),
                                  p = ints(L->pos).to(dev, st(dev));
                           Tensor ng = ints(L->neg, {s.B, s.k}).to(dev, st(dev));
                           Tensor a = Tensor::empty({P}, DType::kI32, dev, st(dev)),
                                  b = Tensor::empty({P}, DType::kI32, dev, st(dev));
                           expand_link_pairs(u, p, ng, a, b);
                           Tensor sc = Tensor::empty({s.B, 1 + s.k}, DType::kF32, dev, st(dev));
                           pair_scores(Z, a, Z, b, t, sc);
                           Tensor dsc = Tensor::empty({s.B, 1 + s.k}, DType::kF32, dev, st(dev));
                           Tensor loss = Tensor::zeros({1}, DType::kF32, dev, st(dev));
                           score_loss(kind, sc, dsc, loss);
                           auto r = down<float>(sc);
                           append(r, down<float>(dsc));
                           r.push_back(down<float>(loss)[0]);
                           append(r, as_floats(down<int32_t>(a)));
                           append(r, as_floats(down<int32_t>(b)));
                           return r;
                         },
                         [=] {
                           const int64_t k = s.k;
                           std::vector<float> sc, g;
                           std::vector<float> ai, bi;
                           double loss = 0;
                           const double scale = link_loss_scale(kind, s.B, k);
                           for (int64_t b = 0; b < s.B; ++b) {
                             std::vector<double> row(1 + k);
                             for (int64_t j = 0; j <= k; ++j) {
                               const int32_t o = j == 0 ? L->pos[b] : L->neg[b * k + j - 1];
                               double acc = 0;
                               for (int64_t c = 0; c < d; ++c)
                                 acc += double(L->Z[L->u[b] * d + c]) * L->Z[o * d + c];
                               row[j] = t * acc;
                               sc.push_back(static_cast<float>(row[j]));
                               ai.push_back(static_cast<float>(L->u[b]));
                               bi.push_back(static_cast<float>(o));
                             }
                             std::vector<double> gr(1 + k, 0.0);
                             for (int64_t j = 1; j <= k; ++j) {
                               if (kind == LossKind::kBpr) {
                                 loss += softplus_d(row[j] - row[0]);
                                 gr[j] = scale * sigmoid_d(row[j] - row[0]);
                                 gr[0] -= gr[j];
                               } else {
                                 loss += softplus_d(row[j]);
                                 gr[j] = scale * sigmoid_d(row[j]);
                               }
                             }
                             if (kind == LossKind::kBce) {
                               loss += softplus_d(-row[0]);
                               gr[0] = -scale * sigmoid_d(-row[0]);
                             }
                             append(g, to_f(gr));
                           }
                           std::vector<float> r = sc;
                           append(r, g);
                           r.push_back(static_cast<float>(loss * scale));
                           append(r, ai);
                           append(r, bi);
                           return r;
                         },
                         kLossAtol, kLossRtol, 0});
      }
    }
  }
}

void add_embedding_cases(std::vector<Case>& cases) {
  for (int64_t d : kDims) {
    for (int64_t r : {1, 77}) {
      const int64_t n = 25;
      auto table = std::make_shared<std::vector<float>>(rand_vec(n * d));
      auto ids = std::make_shared<std::vector<int32_t>>(testing::random_ints(r, 0, n - 1));
      auto base = std::make_shared<std::vector<float>>(rand_vec(r * d));
      auto grad = std::make_shared<std::vector<float>>(rand_vec(r * d));
      auto out0 = std::make_shared<std::vector<float>>(rand_vec(n * d));
      for (bool acc : {false, true}) {
        const std::string tag = fmt::format("n={} r={} d={} accumulate={}", n, r, d, acc);
        cases.push_back({"embedding_gather " + tag,
                         [=](Device dev) {
                           Tensor t = Tensor::from_vector(*table, {n, d}).to(dev, st(dev));
                           Tensor o = Tensor::from_vector(*base, {r, d}).to(dev, st(dev));
                           embedding_gather(t, ints(*ids).to(dev, st(dev)), o, acc);
                           return down<float>(o);
                         },
                         [=] {
                           std::vector<float> o = *base;
                           for (int64_t i = 0; i < r; ++i)
                             for (int64_t c = 0; c < d; ++c)
                               o[i * d + c] =
                                   (acc ? o[i * d + c] : 0.0f) + (*table)[(*ids)[i] * d + c];
                           return o;
                         },
                         0, 0, 0, true});
        cases.push_back({"embedding_scatter_add " + tag,
                         [=](Device dev) {
                           Tensor g = Tensor::from_vector(*grad, {r, d}).to(dev, st(dev));
                           Tensor o = Tensor::from_vector(*out0, {n, d}).to(dev, st(dev));
                           embedding_scatter_add(ints(*ids).to(dev, st(dev)), g, o, acc);
                           return down<float>(o);
                         },
                         [=] {
                           std::vector<double> s(n * d, 0.0);
                           for (int64_t i = 0; i < r; ++i)
                             for (int64_t c = 0; c < d; ++c)
                               s[(*ids)[i] * d + c] += (*grad)[i * d + c];
                           std::vector<float> o(n * d);
                           for (int64_t i = 0; i < n * d; ++i)
                             o[i] = static_cast<float>((acc ? (*out0)[i] : 0.0) + s[i]);
                           return o;
                         },
                         kSumAtol, kSumRtol, 0, true});
      }
    }
  }
}

MlpParams make_mlp(int64_t d, int64_t h) {
  MlpParams m{
      d, h, to_d(rand_vec(3 * d * h)), to_d(rand_vec(h)), to_d(rand_vec(h)), to_d(rand_vec(1))};
  for (auto& w : m.W1) w *= 0.5;
  return m;
}

struct MlpRun {
  std::vector<float> scores, dW1, db1, dW2, db2, dZ;
};
MlpRun run_mlp(Device dev, const std::vector<float>& Zv, int64_t n, const std::vector<int32_t>& a,
               const std::vector<int32_t>& b, const MlpParams& m, const std::vector<float>& G,
               const std::vector<float>& dZ0, bool acc) {
  const int64_t P = static_cast<int64_t>(a.size()), d = m.d, H = m.h;
  Tensor Z = Tensor::from_vector(Zv, {n, d}).to(dev, st(dev));
  Tensor ta = ints(a).to(dev, st(dev)), tb = ints(b).to(dev, st(dev));
  Tensor W1 = Tensor::from_vector(to_f(m.W1), {3 * d, H}).to(dev, st(dev));
  Tensor b1 = Tensor::from_vector(to_f(m.b1)).to(dev, st(dev));
  Tensor W2 = Tensor::from_vector(to_f(m.W2), {H, 1}).to(dev, st(dev));
  Tensor b2 = Tensor::from_vector(to_f(m.b2)).to(dev, st(dev));
  Tensor scores = Tensor::empty({P}, DType::kF32, dev, st(dev));
  MlpHeadCache cache;
  mlp_head_forward(Z, ta, tb, W1, b1, W2, b2, scores, cache);
  Tensor g = Tensor::from_vector(G).to(dev, st(dev));
  Tensor dW1 = Tensor::empty(W1.shape(), DType::kF32, dev, st(dev)),
         db1 = Tensor::empty({H}, DType::kF32, dev, st(dev));
  Tensor dW2 = Tensor::empty(W2.shape(), DType::kF32, dev, st(dev)),
         db2 = Tensor::empty({1}, DType::kF32, dev, st(dev));
  Tensor dZ = Tensor::from_vector(dZ0, {n, d}).to(dev, st(dev));
  mlp_head_backward(Z, ta, tb, W1, W2, cache, g, dW1, db1, dW2, db2, dZ, acc);
  return {down<float>(scores), down<float>(dW1), down<float>(db1),
          down<float>(dW2),    down<float>(db2), down<float>(dZ)};
}

void add_mlp_cases(std::vector<Case>& cases) {
  struct S {
    int64_t n, P, d, h;
  };
  for (S s : {S{3, 1, 1, 4}, S{20, 50, 31, 16}, S{40, 33, 64, 32}}) {
    auto Z = std::make_shared<std::vector<float>>(rand_vec(s.n * s.d));
    auto a = std::make_shared<std::vector<int32_t>>(testing::random_ints(s.P, 0, s.n - 1));
    auto b = std::make_shared<std::vector<int32_t>>(testing::random_ints(s.P, 0, s.n - 1));
    auto m = std::make_shared<MlpParams>(make_mlp(s.d, s.h));
    auto G = std::make_shared<std::vector<float>>(rand_vec(s.P));
    auto dZ0 = std::make_shared<std::vector<float>>(rand_vec(s.n * s.d));
    for (bool acc : {false, true}) {
      cases.push_back(
          {fmt::format("mlp_head n={} P={} d={} h={} accumulate={}", s.n, s.P, s.d, s.h, acc),
           [=](Device dev) {
             MlpRun r = run_mlp(dev, *Z, s.n, *a, *b, *m, *G, *dZ0, acc);
             std::vector<float> v = r.scores;
             for (auto* p : {&r.dW1, &r.db1, &r.dW2, &r.db2, &r.dZ}) append(v, *p);
             return v;
           },
           [=] {
             MlpGrads gr;
             const std::vector<double> Gd = to_d(*G);
             std::vector<float> v = to_f(mlp_forward_d(to_d(*Z), *a, *b, *m, &Gd, &gr, s.n));
             if (acc) {
               for (size_t i = 0; i < gr.dZ.size(); ++i) gr.dZ[i] += (*dZ0)[i];
             }
             for (auto* p : {&gr.dW1, &gr.db1, &gr.dW2, &gr.db2, &gr.dZ}) append(v, to_f(*p));
             return v;
           },
           kGemmAtol, kGemmRtol, kGemmNse});
    }
  }
}

// Scalar double Adam (PyTorch's formulation), the optimisers' reference.
void adam_ref(double& p, double g, double& m, double& v, const AdamConfig& c, int64_t t) {
  if (!c.decoupled) g += c.weight_decay * p;
  if (c.decoupled) p -= static_cast<double>(c.lr) * c.weight_decay * p;
  m = c.beta1 * m + (1.0 - c.beta1) * g;
  v = c.beta2 * v + (1.0 - c.beta2) * g * g;
  const double bc1 = 1.0 - std::pow(double(c.beta1), double(t));
  const double bc2 = 1.0 - std::pow(double(c.beta2), double(t));
  p -= c.lr / bc1 * m / (std::sqrt(v) / std::sqrt(bc2) + c.eps);
}

constexpr int kAdamSteps = 5;

void add_optim_cases(std::vector<Case>& cases) {
  const std::vector<int64_t> sizes = {1, 31, 100, 20000};  // 20000: several Adam chunks
  AdamConfig cfgs[3];
  cfgs[0].weight_decay = 0.0f;
  cfgs[1].weight_decay = 0.05f;
  cfgs[1].decoupled = true;
  cfgs[1].lr = 1e-2f;
  cfgs[2].weight_decay = 0.05f;
  cfgs[2].decoupled = false;
  for (int ci = 0; ci < 3; ++ci) {
    const AdamConfig cfg = cfgs[ci];
    auto p0 = std::make_shared<std::vector<std::vector<float>>>();
    auto grads = std::make_shared<std::vector<std::vector<std::vector<float>>>>(kAdamSteps);
    for (int64_t n : sizes) p0->push_back(rand_vec(n));
    for (auto& step : *grads)
      for (int64_t n : sizes) step.push_back(rand_vec(n));
    cases.push_back({fmt::format("adam_step x{} wd={} decoupled={}", kAdamSteps, cfg.weight_decay,
                                 cfg.decoupled),
                     [=](Device dev) {
                       std::vector<Tensor> P, M, V;
                       for (const auto& v : *p0) {
                         const int64_t n = static_cast<int64_t>(v.size());
                         P.push_back(Tensor::from_vector(v).to(dev, st(dev)));
                         M.push_back(Tensor::zeros({n}, DType::kF32, dev, st(dev)));
                         V.push_back(Tensor::zeros({n}, DType::kF32, dev, st(dev)));
                       }
                       for (int t = 0; t < kAdamSteps; ++t) {
                         std::vector<Tensor> G;
                         for (const auto& g : (*grads)[t])
                           G.push_back(Tensor::from_vector(g).to(dev, st(dev)));
                         std::vector<Tensor*> pp, mm, vv;
                         std::vector<const Tensor*> gg;
                         for (size_t i = 0; i < P.size(); ++i) {
                           pp.push_back(&P[i]);
                           mm.push_back(&M[i]);
                           vv.push_back(&V[i]);
                           gg.push_back(&G[i]);
                         }
                         adam_step(pp, gg, mm, vv, cfg, t + 1);
                       }
                       std::vector<float> r;
                       for (size_t i = 0; i < P.size(); ++i) {
                         append(r, down<float>(P[i]));
                         append(r, down<float>(M[i]));
                         append(r, down<float>(V[i]));
                       }
                       return r;
                     },
                     [=] {
                       std::vector<float> r;
                       for (size_t i = 0; i < p0->size(); ++i) {
                         const size_t n = (*p0)[i].size();
                         std::vector<double> p = to_d((*p0)[i]), m(n, 0.0), v(n, 0.0);
                         for (int t = 0; t < kAdamSteps; ++t)
                           for (size_t e = 0; e < n; ++e)
                             adam_ref(p[e], (*grads)[t][i][e], m[e], v[e], cfg, t + 1);
                         append(r, to_f(p));
                         append(r, to_f(m));
                         append(r, to_f(v));
                       }
                       return r;
                     },
                     kAdamAtol, kAdamRtol, 0, true});
  }
  // Sparse Adam: rows 1, 4, 7, ... of a [30, d] table, several steps with different row sets.
  for (int64_t d : kDims) {
    const int64_t n = 30;
    const float l2 = 1e-2f;
    AdamConfig cfg;
    cfg.lr = 1e-2f;
    auto t0 = std::make_shared<std::vector<float>>(rand_vec(n * d));
    auto ids = std::make_shared<std::vector<std::vector<int32_t>>>();
    auto grads = std::make_shared<std::vector<std::vector<float>>>();
    for (int t = 0; t < kAdamSteps; ++t) {
      std::vector<int32_t> rows;
      for (int32_t r = (t % 3); r < n; r += 3 + t % 2) rows.push_back(r);
      std::reverse(rows.begin(), rows.end());  // any order; unique
      grads->push_back(rand_vec(rows.size() * d));
      ids->push_back(rows);
    }
    cases.push_back({fmt::format("sparse_adam_step x{} d={}", kAdamSteps, d),
                     [=](Device dev) {
                       Tensor T = Tensor::from_vector(*t0, {n, d}).to(dev, st(dev));
                       Tensor M = Tensor::zeros({n, d}, DType::kF32, dev, st(dev)),
                              V = Tensor::zeros({n, d}, DType::kF32, dev, st(dev));
                       for (int t = 0; t < kAdamSteps; ++t) {
                         const int64_t r = static_cast<int64_t>((*ids)[t].size());
                         Tensor g = Tensor::from_vector((*grads)[t], {r, d}).to(dev, st(dev));
                         sparse_adam_step(T, M, V, ints((*ids)[t]).to(dev, st(dev)), g, cfg, t + 1,
                                          l2);
                       }
                       auto r = down<float>(T);
                       append(r, down<float>(M));
                       append(r, down<float>(V));
                       return r;
                     },
                     [=] {
                       std::vector<double> p = to_d(*t0), m(n * d, 0.0), v(n * d, 0.0);
                       for (int t = 0; t < kAdamSteps; ++t) {
                         for (size_t i = 0; i < (*ids)[t].size(); ++i) {
                           for (int64_t c = 0; c < d; ++c) {
                             const int64_t e = (*ids)[t][i] * d + c;
                             const double g = (*grads)[t][i * d + c] + l2 * p[e];
                             adam_ref(p[e], g, m[e], v[e], cfg, t + 1);
                           }
                         }
                       }
                       auto r = to_f(p);
                       append(r, to_f(m));
                       append(r, to_f(v));
                       return r;
                     },
                     kAdamAtol, kAdamRtol, 0, true});
  }
  for (int64_t n : sizes) {
    auto p0 = std::make_shared<std::vector<float>>(rand_vec(n));
    auto g = std::make_shared<std::vector<float>>(rand_vec(n));
    cases.push_back({fmt::format("sgd_step n={}", n),
                     [=](Device dev) {
                       Tensor p = Tensor::from_vector(*p0).to(dev, st(dev));
                       sgd_step(p, Tensor::from_vector(*g).to(dev, st(dev)), 0.1f, 0.01f);
                       return down<float>(p);
                     },
                     [=] {
                       std::vector<float> r(n);
                       for (int64_t i = 0; i < n; ++i)
                         r[i] = static_cast<float>((*p0)[i] - 0.1 * ((*g)[i] + 0.01 * (*p0)[i]));
                       return r;
                     },
                     1e-7, 1e-6, 0, true});
  }
  auto parts = std::make_shared<std::vector<std::vector<float>>>();
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{1000}, int64_t{300001}})
    parts->push_back(rand_vec(n));
  cases.push_back(
      {"sum_of_squares",
       [=](Device dev) {
         std::vector<Tensor> ts;
         for (const auto& p : *parts)
           ts.push_back(Tensor::from_vector(p, {static_cast<int64_t>(p.size())}).to(dev, st(dev)));
         std::vector<const Tensor*> ptrs;
         for (const auto& t : ts) ptrs.push_back(&t);
         return std::vector<float>{static_cast<float>(sum_of_squares(ptrs))};
       },
       [=] {
         double s = 0;
         for (const auto& p : *parts)
           for (float x : p) s += double(x) * x;
         return std::vector<float>{static_cast<float>(s)};
       },
       0, 1e-6, 0});
}

std::vector<Case> make_cases() {
  std::vector<Case> cases;
  add_aggregate_cases(cases);
  add_sage_cases(cases);
  add_loss_cases(cases);
  add_embedding_cases(cases);
  add_mlp_cases(cases);
  add_optim_cases(cases);
  return cases;
}

const std::vector<Case>& cases() {
  static std::vector<Case> c = make_cases();
  return c;
}

::testing::AssertionResult compare(const std::vector<float>& got, const std::vector<float>& ref,
                                   double atol, double rtol, double nse) {
  if (nse > 0) {
    auto r = testing::nse_below(got, ref, nse);
    if (!r) return r;
  }
  return testing::all_close(got, ref, atol, rtol);
}

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(NnOpsCpuTest, EveryOpMatchesItsReference) {
  GNNREC_SEED_TRACE();
  ASSERT_GT(cases().size(), 150u);
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(compare(c.run(Device::cpu()), c.reference(), c.atol, c.rtol, c.nse));
  }
}

TEST(NnOpsCpuTest, RepeatedRunsAreBitIdentical) {
  GNNREC_SEED_TRACE();
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(bit_identical(c.run(Device::cpu()), c.run(Device::cpu())));
  }
}

TEST(NnOpsCudaTest, EveryOpMatchesTheCpu) {
  GNNREC_REQUIRE_GPU();
  GNNREC_SEED_TRACE();
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const std::vector<float> gpu = c.run(Device::cuda(0)), cpu = c.run(Device::cpu());
    // Integer outputs (argmax, pair lists) are exact on every path; kernels that promise the CPU's
    // bits are held to that only loosely here (kCudaAtol) so a libm difference in a test's
    // reference path cannot fail it; the exact check is below.
    EXPECT_TRUE(compare(gpu, cpu, std::max(c.atol, kCudaAtol), std::max(c.rtol, kCudaRtol), c.nse));
  }
}

TEST(NnOpsCudaTest, ExactOpsMatchTheCpuBitForBit) {
  GNNREC_REQUIRE_GPU();
  GNNREC_SEED_TRACE();
  for (const Case& c : cases()) {
    if (!c.cuda_exact) continue;
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(bit_identical(c.run(Device::cuda(0)), c.run(Device::cpu())));
  }
}

TEST(NnOpsCudaTest, RepeatedRunsAreBitIdentical) {
  GNNREC_REQUIRE_GPU();
  GNNREC_SEED_TRACE();
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(bit_identical(c.run(Device::cuda(0)), c.run(Device::cuda(0))));
  }
}

// ---- Finite differences -------------------------------------------------------------------------

// Central difference of f at x[i] (x restored afterwards).
double central_diff(const std::function<double(const std::vector<double>&)>& f,
                    std::vector<double>& x, size_t i) {
  const double x0 = x[i];
  x[i] = x0 + kFdStep;
  const double up = f(x);
  x[i] = x0 - kFdStep;
  const double down = f(x);
  x[i] = x0;
  return (up - down) / (2 * kFdStep);
}

// Checks `analytic` against finite differences of f over (up to) `max_checks` entries.
void expect_fd(const std::string& what, const std::function<double(const std::vector<double>&)>& f,
               std::vector<double> x, const std::vector<float>& analytic, size_t max_checks = 400) {
  ASSERT_EQ(x.size(), analytic.size()) << what;
  const size_t stride = std::max<size_t>(1, x.size() / max_checks);
  std::vector<float> fd, an;
  for (size_t i = 0; i < x.size(); i += stride) {
    fd.push_back(static_cast<float>(central_diff(f, x, i)));
    an.push_back(analytic[i]);
  }
  EXPECT_TRUE(testing::all_close(an, fd, kFdAtol, kFdRtol)) << what;
}

double dot_d(const std::vector<double>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

TEST(NnGradCpuTest, AggregateBackwardMatchesFiniteDifferences) {
  GNNREC_SEED_TRACE();
  for (AggKind kind : kAggKinds) {
    for (int64_t d : {1, 31}) {
      const Block blk = make_block(17, 12, 9, 0);
      const std::vector<float> src = rand_vec(blk.n_src * d), G = rand_vec(blk.n_dst * d);
      BlockT b = to_device(blk, Device::cpu());
      Tensor x = Tensor::from_vector(src, {blk.n_src, d});
      Tensor out = Tensor::empty({blk.n_dst, d}, DType::kF32),
             am = Tensor::empty({blk.n_dst, d}, DType::kI32);
      aggregate_forward(kind, b.indptr, b.indices, x, out, 0, &am);
      Tensor ds = Tensor::empty({blk.n_src, d}, DType::kF32);
      aggregate_backward(kind, b.indptr, b.t_indptr, b.t_indices,
                         Tensor::from_vector(G, {blk.n_dst, d}), 0, &am, ds, false);
      // L(src) = sum G * agg(src)
      expect_fd(
          fmt::format("aggregate {} d={}", agg_kind_name(kind), d),
          [&](const std::vector<double>& s) { return dot_d(agg_forward_d(kind, blk, s, d), G); },
          to_d(src), down<float>(ds));
    }
  }
}

TEST(NnGradCpuTest, SageLayerBackwardMatchesFiniteDifferences) {
  GNNREC_SEED_TRACE();
  for (AggKind kind : kAggKinds) {
    for (bool relu : {false, true}) {
      const int64_t d_in = 5, d_out = 7;
      const Block blk = make_block(9, 14, 6, 2);
      const std::vector<float> h = rand_vec(blk.n_src * d_in), W = rand_vec(2 * d_in * d_out),
                               bias = rand_vec(d_out), G = rand_vec(blk.n_dst * d_out);
      BlockT b = to_device(blk, Device::cpu());
      Tensor hs = Tensor::from_vector(h, {blk.n_src, d_in}),
             w = Tensor::from_vector(W, {2 * d_in, d_out});
      Tensor bb = Tensor::from_vector(bias), out = Tensor::empty({blk.n_dst, d_out}, DType::kF32);
      SageCache cache;
      sage_layer_forward(kind, b.indptr, b.indices, hs, w, bb, relu, out, cache);
      Tensor dW = Tensor::empty(w.shape(), DType::kF32), db = Tensor::empty({d_out}, DType::kF32);
      Tensor dh = Tensor::empty({blk.n_src, d_in}, DType::kF32);
      sage_layer_backward(kind, b.indptr, b.t_indptr, b.t_indices, w, cache,
                          Tensor::from_vector(G, {blk.n_dst, d_out}), relu, dW, db, dh);
      const std::string tag = fmt::format("sage {} relu={}", agg_kind_name(kind), relu);
      const auto Hd = to_d(h), Wd = to_d(W), Bd = to_d(bias);
      expect_fd(
          tag + " d_h_src",
          [&](const std::vector<double>& x) {
            return dot_d(sage_forward_d(kind, blk, x, d_in, Wd, Bd, d_out, relu).out, G);
          },
          Hd, down<float>(dh));
      expect_fd(
          tag + " dW",
          [&](const std::vector<double>& x) {
            return dot_d(sage_forward_d(kind, blk, Hd, d_in, x, Bd, d_out, relu).out, G);
          },
          Wd, down<float>(dW));
      expect_fd(
          tag + " db",
          [&](const std::vector<double>& x) {
            return dot_d(sage_forward_d(kind, blk, Hd, d_in, Wd, x, d_out, relu).out, G);
          },
          Bd, down<float>(db));
    }
  }
}

TEST(NnGradCpuTest, LinkLossBackwardMatchesFiniteDifferences) {
  GNNREC_SEED_TRACE();
  for (LossKind kind : {LossKind::kBpr, LossKind::kBce}) {
    // 6 rows for 8 users x (1 + 3) pairs: every row is used many times, some as u and as item.
    const LinkBatch L = make_link_batch(6, 5, 8, 3);
    const float t = 2.0f;
    Tensor dZ = Tensor::empty({L.n, L.d}, DType::kF32), loss = Tensor::zeros({1}, DType::kF32);
    link_loss(kind, Tensor::from_vector(L.Z, {L.n, L.d}), ints(L.u), ints(L.pos),
              ints(L.neg, {L.B, L.k}), t, dZ, loss);
    EXPECT_NEAR(down<float>(loss)[0], link_loss_d(kind, L, to_d(L.Z), t, nullptr), 1e-5);
    expect_fd(
        fmt::format("link_loss {}", loss_kind_name(kind)),
        [&](const std::vector<double>& z) { return link_loss_d(kind, L, z, t, nullptr); },
        to_d(L.Z), down<float>(dZ));
  }
}

TEST(NnGradCpuTest, MlpHeadBackwardMatchesFiniteDifferences) {
  GNNREC_SEED_TRACE();
  const int64_t n = 6, P = 11, d = 4, H = 5;
  const std::vector<float> Z = rand_vec(n * d), G = rand_vec(P);
  const std::vector<int32_t> a = testing::random_ints(P, 0, n - 1),
                             b = testing::random_ints(P, 0, n - 1);
  const MlpParams m = make_mlp(d, H);
  const MlpRun r = run_mlp(Device::cpu(), Z, n, a, b, m, G, std::vector<float>(n * d, 0.0f), false);
  const auto Zd = to_d(Z);
  auto loss_with = [&](const std::vector<double>& z, const MlpParams& mm) {
    return dot_d(mlp_forward_d(z, a, b, mm, nullptr, nullptr, n), G);
  };
  expect_fd(
      "mlp dZ", [&](const std::vector<double>& z) { return loss_with(z, m); }, Zd, r.dZ);
  auto param_fd = [&](const char* what, std::vector<double> MlpParams::*field,
                      const std::vector<float>& an) {
    expect_fd(
        what,
        [&](const std::vector<double>& x) {
          MlpParams mm = m;
          mm.*field = x;
          return loss_with(Zd, mm);
        },
        m.*field, an);
  };
  param_fd("mlp dW1", &MlpParams::W1, r.dW1);
  param_fd("mlp db1", &MlpParams::b1, r.db1);
  param_fd("mlp dW2", &MlpParams::W2, r.dW2);
  param_fd("mlp db2", &MlpParams::b2, r.db2);
}

// ---- Behaviour ----------------------------------------------------------------------------------

TEST(NnOpsCpuTest, MaxAggregationTiesGoToTheFirstNeighbour) {
  // Row 0 lists src 2, 1, 2 where src 1 and 2 are equal in column 0: src 2 (first) wins; column 1
  // has a strict winner (src 1). Row 1 is empty: zeros and -1.
  Tensor indptr = ints({0, 3, 3}), indices = ints({2, 1, 2});
  Tensor src = Tensor::from_vector<float>({9, 9, 0.5f, 3.0f, 0.5f, 1.0f}, {3, 2});
  Tensor out = Tensor::empty({2, 2}, DType::kF32), am = Tensor::empty({2, 2}, DType::kI32);
  aggregate_forward(AggKind::kMax, indptr, indices, src, out, 0, &am);
  EXPECT_EQ(down<float>(out), (std::vector<float>{0.5f, 3.0f, 0.0f, 0.0f}));
  EXPECT_EQ(down<int32_t>(am), (std::vector<int32_t>{2, 1, -1, -1}));
  // Backward: src 2 gets column 0 once although row 0 lists it twice.
  Tensor t_indptr = ints({0, 0, 1, 3}), t_indices = ints({0, 0, 0});
  Tensor g = Tensor::from_vector<float>({1.0f, 2.0f, 5.0f, 5.0f}, {2, 2});
  Tensor ds = Tensor::empty({3, 2}, DType::kF32);
  aggregate_backward(AggKind::kMax, indptr, t_indptr, t_indices, g, 0, &am, ds, false);
  EXPECT_EQ(down<float>(ds), (std::vector<float>{0, 0, 0, 2, 1, 0}));
}

TEST(NnOpsCpuTest, SparseAdamLeavesUntouchedRowsAndMomentsExactlyUnchanged) {
  const int64_t n = 12, d = 7;
  Tensor T = testing::random_tensor({n, d}), M = testing::random_tensor({n, d}, 0, 1),
         V = testing::random_tensor({n, d}, 0, 1);
  const auto t0 = down<float>(T), m0 = down<float>(M), v0 = down<float>(V);
  const std::vector<int32_t> rows = {3, 0, 10};
  AdamConfig cfg;
  cfg.weight_decay = 0.1f;
  for (int step = 1; step <= 3; ++step) {
    sparse_adam_step(T, M, V, ints(rows), testing::random_tensor({3, d}), cfg, step, 0.01f);
  }
  const auto t1 = down<float>(T), m1 = down<float>(M), v1 = down<float>(V);
  for (int64_t r = 0; r < n; ++r) {
    const bool touched = std::find(rows.begin(), rows.end(), r) != rows.end();
    const size_t off = r * d;
    const bool same = std::memcmp(&t0[off], &t1[off], d * 4) == 0 &&
                      std::memcmp(&m0[off], &m1[off], d * 4) == 0 &&
                      std::memcmp(&v0[off], &v1[off], d * 4) == 0;
    EXPECT_EQ(same, !touched) << "row " << r;
  }
}

TEST(NnOpsCpuTest, LossAccumulatesAcrossBatches) {
  const LinkBatch L = make_link_batch(10, 8, 4, 2);
  Tensor Z = Tensor::from_vector(L.Z, {L.n, L.d}), dZ = Tensor::empty({L.n, L.d}, DType::kF32);
  Tensor loss = Tensor::zeros({1}, DType::kF32);
  for (int i = 0; i < 3; ++i) {
    link_loss(LossKind::kBpr, Z, ints(L.u), ints(L.pos), ints(L.neg, {L.B, L.k}), 1.0f, dZ, loss);
  }
  EXPECT_NEAR(down<float>(loss)[0], 3 * link_loss_d(LossKind::kBpr, L, to_d(L.Z), 1.0, nullptr),
              1e-5);
}

TEST(NnOpsCpuTest, SoftplusIsStableForLargeScores) {
  // Scores of +-1e4 (huge temperature): no inf or NaN in the loss or the gradient.
  Tensor Z = Tensor::from_vector<float>({100, 0, 0, 100, -100, 0}, {3, 2});
  Tensor dZ = Tensor::empty({3, 2}, DType::kF32), loss = Tensor::zeros({1}, DType::kF32);
  for (LossKind kind : {LossKind::kBpr, LossKind::kBce}) {
    link_loss(kind, Z, ints({0}), ints({2}), ints({0}, {1, 1}), 1.0f, dZ, loss);
    for (float v : down<float>(dZ)) EXPECT_TRUE(std::isfinite(v));
    EXPECT_TRUE(std::isfinite(down<float>(loss)[0]));
  }
  EXPECT_GT(down<float>(loss)[0], 1e4f);  // softplus(1e4) = 1e4, not inf
}

TEST(NnOpsCpuTest, RejectsBadArguments) {
  Tensor indptr = ints({0, 2, 3}), indices = ints({0, 5, 1});
  Tensor src = Tensor::zeros({3, 4}, DType::kF32), out = Tensor::zeros({2, 4}, DType::kF32);
  EXPECT_THROW(aggregate_forward(AggKind::kMean, indptr, indices, src, out, 0, nullptr),
               Error);  // 5 >= 3
  Tensor good = ints({0, 2, 1});
  EXPECT_THROW(aggregate_forward(AggKind::kMax, indptr, good, src, out, 0, nullptr),
               Error);  // no argmax
  EXPECT_THROW(aggregate_forward(AggKind::kMean, indptr, good, src, out, 1, nullptr),
               Error);  // too wide
  EXPECT_THROW(aggregate_forward(AggKind::kMean, ints({0, 3, 2}), good, src, out, 0, nullptr),
               Error);
  Tensor Z = Tensor::zeros({4, 2}, DType::kF32), dZ = Tensor::zeros({4, 2}, DType::kF32);
  Tensor loss = Tensor::zeros({1}, DType::kF32);
  EXPECT_THROW(link_loss(LossKind::kBpr, Z, ints({0}), ints({1}), ints({}, {1, 0}), 1, dZ, loss),
               Error);
  EXPECT_THROW(link_loss(LossKind::kBce, Z, ints({0}), ints({4}), ints({1}, {1, 1}), 1, dZ, loss),
               Error);
  Tensor T = Tensor::zeros({4, 2}, DType::kF32), M = T.clone(), V = T.clone();
  EXPECT_THROW(sparse_adam_step(T, M, V, ints({1, 1}), Tensor::zeros({2, 2}, DType::kF32),
                                AdamConfig{}, 1, 0),
               Error);
  EXPECT_THROW(
      sparse_adam_step(T, M, V, ints({1}), Tensor::zeros({1, 2}, DType::kF32), AdamConfig{}, 0, 0),
      Error);  // step is 1-based
}

}  // namespace
}  // namespace gnnrec
