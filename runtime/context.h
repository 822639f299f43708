// Per-device execution context owned by the runtime: the stream ops run on, library handles
// and a scratch arena. Kernels never allocate; the runtime hands them workspace from here.
#pragma once
#include <cstddef>

#include "runtime/tensor.h"

namespace gnnrec {

struct DeviceContext {
  Device device;
  Stream stream = nullptr;          // default stream of this context (CUDA); null on the CPU
  void* cublaslt = nullptr;         // cublasLtHandle_t
  void* cublas = nullptr;           // cublasHandle_t
  void* gemm_workspace = nullptr;   // cuBLASLt workspace
  size_t gemm_workspace_bytes = 0;
  bool allow_tf32 = false;          // TF32 tensor cores for f32 GEMM (set by the trainer)
};

// The context for `device` (created on first use; CUDA contexts need a GPU).
DeviceContext& context_for(Device device);

// Scratch memory with a high-water mark: `get(bytes)` returns a buffer valid until the next call
// on the same arena; it grows (reallocating) only when a larger size is asked for.
class Workspace {
 public:
  explicit Workspace(Device device, Stream stream = nullptr) : device_(device), stream_(stream) {}
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  void* get(size_t bytes);
  size_t capacity() const { return bytes_; }

 private:
  Device device_;
  Stream stream_;
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

struct DeviceInfo {
  int index = 0;
  std::string name;
  size_t total_memory = 0;
  int sm_count = 0;
  int cc_major = 0, cc_minor = 0;
};
std::vector<DeviceInfo> list_devices();
// Versions as "13.0"; "none" when absent.
std::string cuda_runtime_version();
std::string cuda_driver_version();

}  // namespace gnnrec
