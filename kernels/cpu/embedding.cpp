// CPU row gathers and the deterministic scatter-add (kernels/embedding.h). OpenMP over output
// rows; memory bound (one d-float row read per slot). group_by_row is a sequential counting sort:
// O(count + n_rows), small next to the gathers it enables, and trivially stable.
#include "kernels/embedding.h"

#include <algorithm>

#include "kernels/nn_math.h"

namespace gnnrec {

void embedding_gather_cpu(int64_t r, int64_t d, const float* table, const int32_t* ids, float* out,
                          bool accumulate) {
#pragma omp parallel for schedule(static) if (r * d > 65536)
  for (int64_t i = 0; i < r; ++i) {
    const float* s = table + static_cast<int64_t>(ids[i]) * d;
    float* o = out + i * d;
    if (accumulate) {
#pragma omp simd
      for (int64_t c = 0; c < d; ++c) o[c] += s[c];
    } else {
      std::copy(s, s + d, o);
    }
  }
}

void group_by_row_cpu(const int32_t* keys, int64_t count, int64_t n_rows, int32_t* row_ptr,
                      int32_t* order) {
  std::fill(row_ptr, row_ptr + n_rows + 1, 0);
  for (int64_t s = 0; s < count; ++s) ++row_ptr[keys[s] + 1];
  for (int64_t k = 0; k < n_rows; ++k) row_ptr[k + 1] += row_ptr[k];
  // Place with row_ptr[k] as the cursor of row k, then shift the cursors back into offsets.
  for (int64_t s = 0; s < count; ++s) order[row_ptr[keys[s]]++] = static_cast<int32_t>(s);
  for (int64_t k = n_rows; k > 0; --k) row_ptr[k] = row_ptr[k - 1];
  row_ptr[0] = 0;
}

void csr_gather_rows_cpu(int64_t n_rows, int64_t d, const int32_t* row_ptr, const int32_t* order,
                         const int32_t* col, const float* w, const float* X, int64_t ld_x,
                         float* out, int64_t ld_out, bool accumulate) {
  constexpr int64_t kColChunk = 256;
#pragma omp parallel for schedule(dynamic, 64) if (n_rows * d > 65536)
  for (int64_t i = 0; i < n_rows; ++i) {
    float* o = out + i * ld_out;
    for (int64_t c0 = 0; c0 < d; c0 += kColChunk) {
      const int64_t width = std::min(kColChunk, d - c0);
      float acc[kColChunk];
      for (int64_t c = 0; c < width; ++c) acc[c] = 0.0f;
      for (int64_t q = row_ptr[i]; q < row_ptr[i + 1]; ++q) {
        const int64_t s = order[q];
        const float* x = X + (col != nullptr ? col[s] : s) * ld_x + c0;
        if (w != nullptr) {
          const float ws = w[s];
#pragma omp simd
          for (int64_t c = 0; c < width; ++c) acc[c] = nn_add(acc[c], nn_mul(x[c], ws));
        } else {
#pragma omp simd
          for (int64_t c = 0; c < width; ++c) acc[c] += x[c];
        }
      }
      if (accumulate) {
        for (int64_t c = 0; c < width; ++c) o[c0 + c] += acc[c];
      } else {
        std::copy(acc, acc + width, o + c0);
      }
    }
  }
}

}  // namespace gnnrec
