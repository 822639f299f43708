// Backend dispatch used by the runtime/ops*.cpp files (the only places that know both
// backends). The CUDA branch exists only when CUDA is compiled in.
#pragma once
#include "runtime/context.h"
#include "runtime/tensor.h"

#ifdef GNNREC_WITH_CUDA
#define GNNREC_DISPATCH(device, cpu_stmt, cuda_stmt) \
  do {                                               \
    if ((device).is_cuda()) {                        \
      cuda_stmt;                                     \
    } else {                                         \
      cpu_stmt;                                      \
    }                                                \
  } while (0)
#else
#define GNNREC_DISPATCH(device, cpu_stmt, cuda_stmt)                                     \
  do {                                                                                   \
    GNNREC_EXPECTS((device).is_cpu(), "{} requested but gnnrec was built without CUDA", \
                   (device).str());                                                      \
    cpu_stmt;                                                                            \
  } while (0)
#endif

namespace gnnrec::detail {

inline void expect_dtype(const Tensor& t, DType dt, const char* op, const char* name) {
  GNNREC_EXPECTS(t.defined(), "{}: {} is undefined", op, name);
  GNNREC_EXPECTS(t.dtype() == dt, "{}: {} must be {}, got {}", op, name, dtype_name(dt),
                 dtype_name(t.dtype()));
}

inline void expect_device(const Tensor& t, Device d, const char* op, const char* name) {
  GNNREC_EXPECTS(t.device() == d, "{}: {} is on {}, expected {}", op, name, t.device().str(),
                 d.str());
}

inline void expect_shape(const Tensor& t, const Shape& s, const char* op, const char* name) {
  GNNREC_EXPECTS(t.shape() == s, "{}: {} has shape {}, expected {}", op, name,
                 shape_str(t.shape()), shape_str(s));
}

inline Stream stream_of(Device d) { return d.is_cuda() ? context_for(d).stream : nullptr; }

}  // namespace gnnrec::detail
