// GNNREC_NVTX_RANGE("name"): a scoped NVTX range for nsys timelines; compiles away without CUDA.
#pragma once
#ifdef GNNREC_WITH_CUDA
#include <nvtx3/nvToolsExt.h>
namespace gnnrec {
class NvtxRange {
 public:
  explicit NvtxRange(const char* name) { nvtxRangePushA(name); }
  ~NvtxRange() { nvtxRangePop(); }
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};
}  // namespace gnnrec
#define GNNREC_NVTX_CAT2(a, b) a##b
#define GNNREC_NVTX_CAT(a, b) GNNREC_NVTX_CAT2(a, b)
#define GNNREC_NVTX_RANGE(name) ::gnnrec::NvtxRange GNNREC_NVTX_CAT(gnnrec_nvtx_, __LINE__)(name)
#else
#define GNNREC_NVTX_RANGE(name) static_cast<void>(0)
#endif
