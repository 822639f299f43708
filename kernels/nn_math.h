// Scalar helpers shared by the CPU and CUDA neural-network kernels (host and device inline).
//
// Why explicit rounding: nvcc contracts a*b+c into one FMA by default, the host compiler (x86-64
// baseline, no -mfma) does not. Where a kernel promises the same bits on both backends (Adam, the
// mean/sum aggregation and its backward) it spells multiplies and adds with nn_mul/nn_add, which
// are __fmul_rn/__fadd_rn on the device (never contracted) and plain operators on the host.
#pragma once
#include <cmath>

#include "kernels/common.h"

namespace gnnrec {

GNNREC_HD float nn_mul(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

GNNREC_HD float nn_add(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

GNNREC_HD float nn_div(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}

// softplus(x) = log(1 + e^x), stable for any x: max(x, 0) + log1p(e^-|x|).
GNNREC_HD float nn_softplus(float x) { return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))); }

// sigmoid(x) without overflow: e^-|x| is in (0, 1].
GNNREC_HD float nn_sigmoid(float x) {
  const float e = expf(-fabsf(x));
  return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

// Carves typed, 256-byte aligned pieces out of one workspace buffer. With base == nullptr it only
// counts, so an op's *_workspace_bytes and the op itself share one layout function.
class WorkspaceCarve {
 public:
  explicit WorkspaceCarve(void* base) : base_(static_cast<char*>(base)) {}
  template <typename T>
  T* take(int64_t n) {
    T* p = base_ == nullptr ? nullptr : reinterpret_cast<T*>(base_ + used_);
    used_ += (static_cast<size_t>(n) * sizeof(T) + 255) / 256 * 256;
    return p;
  }
  void* take_bytes(size_t bytes) { return take<char>(static_cast<int64_t>(bytes)); }
  size_t used() const { return used_; }

 private:
  char* base_;
  size_t used_ = 0;
};

}  // namespace gnnrec
