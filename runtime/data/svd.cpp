#include "runtime/data/svd.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/philox.h"
#include "runtime/error.h"

namespace gnnrec {
namespace {

// out (a.rows x l) = a * x, x is a.cols x l row-major. One output row per iteration, summed in
// the row's index order, so the result is the same for any thread count.
void spmm(const SparseMatrix& a, const std::vector<double>& x, int l, std::vector<double>* out) {
  out->assign(static_cast<size_t>(a.rows) * l, 0.0);
  double* o = out->data();
#pragma omp parallel for schedule(dynamic, 256) if (a.nnz() > 100000)
  for (int64_t r = 0; r < a.rows; ++r) {
    double* row = o + r * l;
    for (int64_t p = a.indptr[r]; p < a.indptr[r + 1]; ++p) {
      const double v = a.values[p];
      const double* xr = x.data() + static_cast<int64_t>(a.indices[p]) * l;
      for (int j = 0; j < l; ++j) row[j] += v * xr[j];
    }
  }
}

// C (n x n) = Aᵀ A for the row-major rows x n matrix A.
void gram(const std::vector<double>& a, int64_t rows, int n, std::vector<double>* c) {
  c->assign(static_cast<size_t>(n) * n, 0.0);
  if (rows == 0 || n == 0) return;
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, n, static_cast<int>(rows), 1.0, a.data(),
              n, a.data(), n, 0.0, c->data(), n);
  // Symmetrise exactly so Jacobi sees a symmetric matrix whatever the BLAS kernel did.
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) {
      const double m = 0.5 * ((*c)[i * n + j] + (*c)[j * n + i]);
      (*c)[i * n + j] = (*c)[j * n + i] = m;
    }
}

// out (rows x n) = A (rows x m) * B (m x n), all row-major.
void matmul(const std::vector<double>& a, int64_t rows, int m, const std::vector<double>& b, int n,
            std::vector<double>* out) {
  out->assign(static_cast<size_t>(rows) * n, 0.0);
  if (rows == 0 || m == 0 || n == 0) return;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows), n, m, 1.0,
              a.data(), m, b.data(), n, 0.0, out->data(), n);
}

// Makes the entry of largest magnitude of each column positive (first one on ties).
void fix_column_signs(std::vector<double>* a, int64_t rows, int cols) {
  for (int j = 0; j < cols; ++j) {
    double best = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const double v = (*a)[r * cols + j];
      if (std::fabs(v) > std::fabs(best)) best = v;
    }
    if (best < 0)
      for (int64_t r = 0; r < rows; ++r) (*a)[r * cols + j] = -(*a)[r * cols + j];
  }
}

void orthonormalize_pass(std::vector<double>* a, int64_t rows, int cols) {
  std::vector<double> g, lambda, w;
  gram(*a, rows, cols, &g);
  jacobi_eigen(std::move(g), cols, &lambda, &w);
  // Relative cut: below it the direction is rounding noise of the Gram product.
  constexpr double kRankTol = 1e-12;
  const double lmax = cols > 0 ? lambda[0] : 0.0;
  for (int j = 0; j < cols; ++j) {
    const bool keep = lmax > 0 && lambda[j] > kRankTol * lmax;
    const double scale = keep ? 1.0 / std::sqrt(lambda[j]) : 0.0;
    for (int i = 0; i < cols; ++i) w[i * cols + j] *= scale;
  }
  std::vector<double> out;
  matmul(*a, rows, cols, w, cols, &out);
  a->swap(out);
}

}  // namespace

SparseMatrix sparse_transpose(const SparseMatrix& a) {
  SparseMatrix t;
  t.rows = a.cols;
  t.cols = a.rows;
  t.indptr.assign(static_cast<size_t>(t.rows) + 1, 0);
  for (int32_t c : a.indices) t.indptr[c + 1]++;
  for (int64_t r = 0; r < t.rows; ++r) t.indptr[r + 1] += t.indptr[r];
  t.indices.resize(a.indices.size());
  t.values.resize(a.values.size());
  std::vector<int64_t> pos(t.indptr.begin(), t.indptr.end() - 1);
  // Rows of `a` are visited in order, so each transposed row comes out sorted.
  for (int64_t r = 0; r < a.rows; ++r)
    for (int64_t p = a.indptr[r]; p < a.indptr[r + 1]; ++p) {
      const int64_t q = pos[a.indices[p]]++;
      t.indices[q] = static_cast<int32_t>(r);
      t.values[q] = a.values[p];
    }
  return t;
}

void jacobi_eigen(std::vector<double> a, int n, std::vector<double>* values,
                  std::vector<double>* vectors) {
  GNNREC_EXPECTS(n >= 0 && a.size() == static_cast<size_t>(n) * n,
                 "jacobi_eigen: matrix has {} entries, expected {}x{}", a.size(), n, n);
  std::vector<double> v(static_cast<size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) v[i * n + i] = 1.0;
  auto at = [&](int i, int j) -> double& { return a[static_cast<size_t>(i) * n + j]; };
  double total = 0;
  for (double x : a) total += x * x;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (int p = 0; p < n; ++p)
      for (int q = p + 1; q < n; ++q) off += 2 * at(p, q) * at(p, q);
    if (off <= 1e-30 * total || off == 0) break;
    for (int p = 0; p < n; ++p) {
      for (int q = p + 1; q < n; ++q) {
        const double apq = at(p, q);
        if (apq == 0) continue;
        // Rotation that zeroes a_pq (Golub & Van Loan, symmetric Schur decomposition):
        // t = tan(theta) is the smaller root of t^2 + 2 tau t - 1 = 0.
        const double tau = (at(q, q) - at(p, p)) / (2 * apq);
        const double t = (tau >= 0 ? 1.0 : -1.0) / (std::fabs(tau) + std::sqrt(1 + tau * tau));
        const double c = 1 / std::sqrt(1 + t * t), s = t * c;
        for (int k = 0; k < n; ++k) {  // columns p and q: A <- A J
          const double akp = at(k, p), akq = at(k, q);
          at(k, p) = c * akp - s * akq;
          at(k, q) = s * akp + c * akq;
        }
        for (int k = 0; k < n; ++k) {  // rows p and q: A <- Jᵀ A
          const double apk = at(p, k), aqk = at(q, k);
          at(p, k) = c * apk - s * aqk;
          at(q, k) = s * apk + c * aqk;
        }
        at(p, q) = at(q, p) = 0;
        for (int k = 0; k < n; ++k) {
          const double vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return at(x, x) > at(y, y); });
  values->resize(n);
  vectors->assign(static_cast<size_t>(n) * n, 0.0);
  for (int j = 0; j < n; ++j) {
    (*values)[j] = at(order[j], order[j]);
    for (int i = 0; i < n; ++i) (*vectors)[i * n + j] = v[i * n + order[j]];
  }
  fix_column_signs(vectors, n, n);
}

int orthonormalize_columns(std::vector<double>* a, int64_t rows, int cols) {
  GNNREC_EXPECTS(a->size() == static_cast<size_t>(rows) * cols,
                 "orthonormalize_columns: {} values for a {}x{} matrix", a->size(), rows, cols);
  // Two passes: the first is accurate to ~eps * cond(A)^2 in orthogonality, the second
  // starts from a nearly orthonormal basis and repairs that (like CholeskyQR2).
  orthonormalize_pass(a, rows, cols);
  orthonormalize_pass(a, rows, cols);
  int rank = 0;
  for (int j = 0; j < cols; ++j) {
    double s = 0;
    for (int64_t r = 0; r < rows; ++r) s += (*a)[r * cols + j] * (*a)[r * cols + j];
    if (s > 0.5) ++rank;
  }
  return rank;
}

TruncatedSvd randomized_svd(const SparseMatrix& a, int k, const RandomizedSvdOptions& opt) {
  GNNREC_EXPECTS(k >= 0, "randomized_svd: k = {} must be >= 0", k);
  GNNREC_EXPECTS(opt.oversample >= 0 && opt.power_iters >= 0,
                 "randomized_svd: oversample {} and power_iters {} must be >= 0", opt.oversample,
                 opt.power_iters);
  TruncatedSvd out;
  const int64_t small = std::min(a.rows, a.cols);
  k = static_cast<int>(std::min<int64_t>(k, small));
  out.k = k;
  if (k == 0) return out;
  const int l = static_cast<int>(std::min<int64_t>(k + opt.oversample, small));
  const int64_t m = a.cols;

  // Gaussian test matrix, Box-Muller on one Philox block per entry.
  const RngKey key{opt.seed, static_cast<uint32_t>(RngPurpose::kInit), 0, 0x5356u /* "SV" */};
  std::vector<double> omega(static_cast<size_t>(m) * l);
  for (size_t e = 0; e < omega.size(); ++e) {
    const U32x4 w = rng_draw(key, e);
    const double u1 = ((w.v[0] >> 8) + 1.0) * (1.0 / 16777216.0);  // (0, 1]
    const double u2 = (w.v[1] >> 8) * (1.0 / 16777216.0);
    omega[e] = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  const SparseMatrix at = sparse_transpose(a);
  std::vector<double> y, z;
  spmm(a, omega, l, &y);  // n x l
  orthonormalize_columns(&y, a.rows, l);
  for (int it = 0; it < opt.power_iters; ++it) {
    spmm(at, y, l, &z);  // m x l
    orthonormalize_columns(&z, m, l);
    spmm(a, z, l, &y);
    orthonormalize_columns(&y, a.rows, l);
  }
  // B = Qᵀ A is l x m; keep Bᵀ = Aᵀ Q (m x l). Its Gram matrix B Bᵀ = U Σ² Uᵀ gives the right
  // singular vectors as V = Bᵀ U Σ^-1.
  std::vector<double> bt, c, lambda, u, v;
  spmm(at, y, l, &bt);
  gram(bt, m, l, &c);
  jacobi_eigen(std::move(c), l, &lambda, &u);
  matmul(bt, m, l, u, l, &v);
  const double s0 = std::sqrt(std::max(lambda[0], 0.0));
  // Relative cut for "numerically zero" singular values (the Gram step squares them, so
  // 1e-7 relative in s is 1e-14 relative in lambda: at the rounding floor).
  constexpr double kZeroSingular = 1e-7;
  out.singular_values.resize(k);
  out.components.assign(static_cast<size_t>(m) * k, 0.0);
  for (int j = 0; j < k; ++j) {
    const double s = std::sqrt(std::max(lambda[j], 0.0));
    const bool zero = !(s0 > 0) || s <= kZeroSingular * s0;
    out.singular_values[j] = zero ? 0.0 : s;
    if (zero) continue;
    for (int64_t r = 0; r < m; ++r) out.components[r * k + j] = v[r * l + j] / s;
  }
  fix_column_signs(&out.components, m, k);
  return out;
}

}  // namespace gnnrec
