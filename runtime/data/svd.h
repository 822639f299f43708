// Small dense linear algebra for feature fitting: a CSR float matrix, a cyclic Jacobi
// eigensolver for small symmetric matrices, orthonormalisation of tall matrices, and a
// randomised truncated SVD (Halko, Martinsson & Tropp 2011, algorithms 4.4 + 5.1) of a sparse
// matrix. The big products (sparse x dense) are OpenMP loops written here, one output row per
// iteration (so the result does not depend on the thread count); the dense tall-skinny products
// go through OpenBLAS (cblas_dgemm); the small l x l eigenproblems are solved by Jacobi below.
// Everything is double precision internally.
#pragma once
#include <cstdint>
#include <vector>

namespace gnnrec {

// Compressed sparse rows; column indices within a row are strictly increasing.
struct SparseMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<int64_t> indptr{0};  // rows + 1
  std::vector<int32_t> indices;
  std::vector<float> values;
  int64_t nnz() const { return static_cast<int64_t>(indices.size()); }
};

// The transpose as another CSR (rows sorted by column index, deterministic).
SparseMatrix sparse_transpose(const SparseMatrix& a);

// Eigen-decomposition of the symmetric n x n row-major matrix `a` by cyclic Jacobi rotations
// (sweeps until the off-diagonal mass is below 1e-15 of the total, at most 100 sweeps).
// values: n eigenvalues in descending order. vectors: n x n row-major, column j is the unit
// eigenvector of values[j]; its entry of largest magnitude (first on ties) is made positive so
// the output is unique for distinct eigenvalues.
void jacobi_eigen(std::vector<double> a, int n, std::vector<double>* values,
                  std::vector<double>* vectors);

// Replaces the columns of the row-major rows x cols matrix `a` by an orthonormal basis of their
// span, by two passes of Gram-matrix orthonormalisation (G = AᵀA via BLAS, G = W Λ Wᵀ by Jacobi,
// A <- A W Λ^-1/2). Directions with eigenvalue below 1e-12 of the largest are numerically
// absent and come out as zero columns. Returns the number of non-zero columns (the rank found).
// The span is kept; the basis is not the one Gram-Schmidt would give.
int orthonormalize_columns(std::vector<double>* a, int64_t rows, int cols);

struct RandomizedSvdOptions {
  int oversample = 10;  // extra random directions beyond k (Halko et al. suggest 5-10)
  int power_iters = 4;  // subspace iterations; each sharpens a slowly decaying spectrum
  uint64_t seed = 0;    // Philox seed of the Gaussian test matrix (purpose kInit)
};

struct TruncatedSvd {
  int k = 0;
  std::vector<double> singular_values;  // k values, descending
  std::vector<double> components;       // cols x k row-major: right singular vectors as columns
};

// The top-k singular triplets (right vectors only) of `a`. k is clipped to min(rows, cols).
// Singular vectors of (numerically) zero singular values are returned as zero columns. Each
// column's entry of largest magnitude is positive. Deterministic for a given seed.
TruncatedSvd randomized_svd(const SparseMatrix& a, int k, const RandomizedSvdOptions& opt);

}  // namespace gnnrec
