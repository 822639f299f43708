// CPU neighbour aggregation (reference for the CUDA kernels), contract in kernels/aggregate.h.
//
// Variants:
//  1. aggregate_forward_cpu: OpenMP over dst rows (dynamic chunks: degrees vary), the output row
//     itself is the accumulator; the column loop vectorises. Rows a few neighbours ahead are
//     prefetched because the gather is a stream of random 4*d-byte reads: memory (latency and
//     bandwidth) bound, ~1 flop per 4 bytes loaded.
//  2. aggregate_backward_cpu: OpenMP over src rows, gathering d_out rows through the transposed
//     block into a stack buffer (columns in chunks of kColChunk), then one store per element.
//  3. *_naive_cpu: plain loops in double, the test reference; the backward scatters over the
//     forward CSR instead of gathering over the transpose.
#include "kernels/aggregate.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/nn_math.h"

namespace gnnrec {
namespace {

constexpr int64_t kRowsPerTask = 32;   // dynamic-schedule chunk: amortises scheduling overhead
constexpr int64_t kPrefetchAhead = 4;  // neighbours ahead: enough in flight to cover DRAM latency
constexpr int64_t kColChunk = 256;     // backward accumulator on the stack (1 KiB)

inline void prefetch_row(const float* p, int64_t d) {
  for (int64_t c = 0; c < d; c += 16) __builtin_prefetch(p + c, 0, 1);
}

// nb[0, deg) are this row's neighbours; nb[0, avail) are valid entries of the index array (the
// next rows' follow), so prefetching runs ahead across row boundaries.
void forward_sum_row(int64_t d, const int32_t* nb, int64_t deg, int64_t avail, const float* src,
                     int64_t ld_src, float* o, bool mean) {
  for (int64_t c = 0; c < d; ++c) o[c] = 0.0f;
  for (int64_t j = 0; j < deg; ++j) {
    if (j + kPrefetchAhead < avail) prefetch_row(src + nb[j + kPrefetchAhead] * ld_src, d);
    const float* s = src + static_cast<int64_t>(nb[j]) * ld_src;
#pragma omp simd
    for (int64_t c = 0; c < d; ++c) o[c] += s[c];
  }
  if (mean && deg > 0) {
    const float inv = 1.0f / static_cast<float>(deg);
#pragma omp simd
    for (int64_t c = 0; c < d; ++c) o[c] *= inv;
  }
}

// One neighbour of a max row. Restrict-qualified so the compare/select loop vectorises.
inline void max_step(int64_t d, const float* __restrict s, int32_t id, float* __restrict o,
                     int32_t* __restrict a) {
#pragma omp simd
  for (int64_t c = 0; c < d; ++c) {
    const float sv = s[c], ov = o[c];
    const int32_t win = -static_cast<int32_t>(sv > ov);  // all ones on a strict win: ties keep
    o[c] = sv > ov ? sv : ov;                            // the earlier neighbour
    a[c] = (id & win) | (a[c] & ~win);
  }
}

void forward_max_row(int64_t d, const int32_t* nb, int64_t deg, int64_t avail, const float* src,
                     int64_t ld_src, float* o, int32_t* a) {
  if (deg == 0) {
    for (int64_t c = 0; c < d; ++c) {
      o[c] = 0.0f;
      a[c] = -1;
    }
    return;
  }
  const float* s0 = src + static_cast<int64_t>(nb[0]) * ld_src;
  for (int64_t c = 0; c < d; ++c) {
    o[c] = s0[c];
    a[c] = nb[0];
  }
  for (int64_t j = 1; j < deg; ++j) {
    if (j + kPrefetchAhead < avail) prefetch_row(src + nb[j + kPrefetchAhead] * ld_src, d);
    max_step(d, src + static_cast<int64_t>(nb[j]) * ld_src, nb[j], o, a);
  }
}

// acc[c] += g[c] where the forward's winner a[c] is this src row. Adding +0.0f elsewhere keeps
// acc's bits (acc starts at +0.0f, so it is never -0.0f), which lets the loop vectorise and still
// matches the CUDA kernel's conditional add exactly.
inline void max_grad_step(int64_t w, const float* __restrict g, const int32_t* __restrict a,
                          int32_t j, float* __restrict acc) {
#pragma omp simd
  for (int64_t c = 0; c < w; ++c) {
    int32_t bits;  // g[c] or +0.0f, selected with a mask so the loop has no branch
    std::memcpy(&bits, g + c, sizeof(bits));
    bits &= -static_cast<int32_t>(a[c] == j);
    float v;
    std::memcpy(&v, &bits, sizeof(v));
    acc[c] += v;
  }
}

}  // namespace

void aggregate_forward_cpu(AggKind kind, int64_t n_dst, int64_t d, const int32_t* indptr,
                           const int32_t* indices, const float* src, int64_t ld_src, float* out,
                           int64_t ld_out, int32_t* argmax) {
  if (n_dst == 0 || d == 0) return;
  const int64_t nnz = indptr[n_dst];
#pragma omp parallel for schedule(dynamic, kRowsPerTask) if (n_dst * d > 16384)
  for (int64_t r = 0; r < n_dst; ++r) {
    const int64_t begin = indptr[r], deg = indptr[r + 1] - begin;
    float* o = out + r * ld_out;
    if (kind == AggKind::kMax) {
      forward_max_row(d, indices + begin, deg, nnz - begin, src, ld_src, o, argmax + r * d);
    } else {
      forward_sum_row(d, indices + begin, deg, nnz - begin, src, ld_src, o, kind == AggKind::kMean);
    }
  }
}

void aggregate_backward_cpu(AggKind kind, int64_t n_src, int64_t d, const int32_t* indptr,
                            const int32_t* t_indptr, const int32_t* t_indices, const float* d_out,
                            int64_t ld_dout, const int32_t* argmax, float* d_src, int64_t ld_dsrc,
                            bool accumulate) {
  if (n_src == 0 || d == 0) return;
  const int64_t nnz = t_indptr[n_src];
#pragma omp parallel for schedule(dynamic, kRowsPerTask) if (n_src * d > 16384)
  for (int64_t j = 0; j < n_src; ++j) {
    const int64_t begin = t_indptr[j], end = t_indptr[j + 1];
    float* o = d_src + j * ld_dsrc;
    for (int64_t c0 = 0; c0 < d; c0 += kColChunk) {
      const int64_t w = std::min(kColChunk, d - c0);
      float acc[kColChunk];
      for (int64_t c = 0; c < w; ++c) acc[c] = 0.0f;
      for (int64_t p = begin; p < end; ++p) {
        const int64_t r = t_indices[p];
        const float* g = d_out + r * ld_dout + c0;
        if (p + kPrefetchAhead < nnz) {
          prefetch_row(d_out + t_indices[p + kPrefetchAhead] * ld_dout + c0, w);
        }
        if (kind == AggKind::kSum) {
#pragma omp simd
          for (int64_t c = 0; c < w; ++c) acc[c] += g[c];
        } else if (kind == AggKind::kMean) {
          const float inv = 1.0f / static_cast<float>(indptr[r + 1] - indptr[r]);
#pragma omp simd
          for (int64_t c = 0; c < w; ++c) acc[c] = nn_add(acc[c], nn_mul(g[c], inv));
        } else {
          if (p > begin && t_indices[p - 1] == r) continue;  // duplicate: counted once
          max_grad_step(w, g, argmax + r * d + c0, static_cast<int32_t>(j), acc);
        }
      }
      if (accumulate) {
        for (int64_t c = 0; c < w; ++c) o[c0 + c] += acc[c];
      } else {
        for (int64_t c = 0; c < w; ++c) o[c0 + c] = acc[c];
      }
    }
  }
}

void copy_rows_2d_cpu(int64_t rows, int64_t d, const float* src, int64_t ld_src, float* dst,
                      int64_t ld_dst, bool accumulate) {
#pragma omp parallel for schedule(static) if (rows * d > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const float* s = src + r * ld_src;
    float* o = dst + r * ld_dst;
    if (accumulate) {
#pragma omp simd
      for (int64_t c = 0; c < d; ++c) o[c] += s[c];
    } else {
      std::copy(s, s + d, o);
    }
  }
}

void aggregate_forward_naive_cpu(AggKind kind, int64_t n_dst, int64_t d, const int32_t* indptr,
                                 const int32_t* indices, const float* src, int64_t ld_src,
                                 float* out, int64_t ld_out, int32_t* argmax) {
  for (int64_t r = 0; r < n_dst; ++r) {
    const int64_t begin = indptr[r], end = indptr[r + 1];
    for (int64_t c = 0; c < d; ++c) {
      if (kind == AggKind::kMax) {
        float best = 0.0f;
        int32_t arg = -1;
        for (int64_t j = begin; j < end; ++j) {
          const float v = src[static_cast<int64_t>(indices[j]) * ld_src + c];
          if (arg < 0 || v > best) {
            best = v;
            arg = indices[j];
          }
        }
        out[r * ld_out + c] = best;
        argmax[r * d + c] = arg;
      } else {
        double acc = 0.0;
        for (int64_t j = begin; j < end; ++j)
          acc += src[static_cast<int64_t>(indices[j]) * ld_src + c];
        if (kind == AggKind::kMean && end > begin) acc /= static_cast<double>(end - begin);
        out[r * ld_out + c] = static_cast<float>(acc);
      }
    }
  }
}

void aggregate_backward_naive_cpu(AggKind kind, int64_t n_dst, int64_t n_src, int64_t d,
                                  const int32_t* indptr, const int32_t* indices, const float* d_out,
                                  int64_t ld_dout, const int32_t* argmax, float* d_src,
                                  int64_t ld_dsrc, bool accumulate) {
  std::vector<double> acc(static_cast<size_t>(n_src * d), 0.0);
  for (int64_t r = 0; r < n_dst; ++r) {
    const int64_t begin = indptr[r], end = indptr[r + 1];
    const double w = kind == AggKind::kMean ? 1.0 / static_cast<double>(end - begin) : 1.0;
    if (kind == AggKind::kMax) {
      // The winning src row gets the whole gradient, once, however often the row lists it.
      for (int64_t c = 0; c < d; ++c) {
        const int32_t a = argmax[r * d + c];
        if (a >= 0) acc[a * d + c] += d_out[r * ld_dout + c];
      }
      continue;
    }
    for (int64_t j = begin; j < end; ++j) {
      for (int64_t c = 0; c < d; ++c) acc[indices[j] * d + c] += w * d_out[r * ld_dout + c];
    }
  }
  for (int64_t j = 0; j < n_src; ++j) {
    for (int64_t c = 0; c < d; ++c) {
      float& o = d_src[j * ld_dsrc + c];
      o = static_cast<float>(accumulate ? o + acc[j * d + c] : acc[j * d + c]);
    }
  }
}

}  // namespace gnnrec
