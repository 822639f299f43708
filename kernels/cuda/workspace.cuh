// Carving one caller-provided workspace into typed, 256-byte aligned pieces. The same sequence
// of take() calls runs once with a null base (to measure) and once with the real buffer, so the
// size reported by <op>_workspace_bytes() and the layout used by the op cannot disagree.
#pragma once
#include <cstddef>
#include <cstdint>

#include "runtime/error.h"

namespace gnnrec::cuda {

class WorkspaceCarver {
 public:
  explicit WorkspaceCarver(void* base = nullptr, size_t capacity = SIZE_MAX)
      : base_(static_cast<char*>(base)), capacity_(capacity) {}

  template <typename T>
  T* take(int64_t count) {
    const size_t off = (used_ + 255) / 256 * 256;
    used_ = off + static_cast<size_t>(count < 0 ? 0 : count) * sizeof(T);
    GNNREC_EXPECTS(base_ == nullptr || used_ <= capacity_,
                   "workspace of {} bytes is too small (needs at least {})", capacity_, used_);
    return base_ ? reinterpret_cast<T*>(base_ + off) : nullptr;
  }
  void* take_bytes(size_t bytes) { return take<char>(static_cast<int64_t>(bytes)); }
  size_t used() const { return used_; }

 private:
  char* base_;
  size_t capacity_;
  size_t used_ = 0;
};

// Bits needed to hold every value in [0, max_value].
inline int bit_width_of(uint64_t max_value) {
  int b = 1;
  while (b < 64 && (max_value >> b) != 0) ++b;
  return b;
}

}  // namespace gnnrec::cuda
