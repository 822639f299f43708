#include "runtime/context.h"

#include <map>
#include <memory>
#include <mutex>

#ifdef GNNREC_WITH_CUDA
#include "runtime/cuda_check.h"
#endif

namespace gnnrec {

#ifdef GNNREC_WITH_CUDA
namespace detail {
const char* cublas_status_name(cublasStatus_t s) { return cublasGetStatusName(s); }
}  // namespace detail
#endif

DeviceContext& context_for(Device device) {
  static std::mutex mu;
  static std::map<int, std::unique_ptr<DeviceContext>> cuda_contexts;
  static DeviceContext cpu_context;
  if (device.is_cpu()) return cpu_context;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cuda_contexts[device.index];
  if (slot) return *slot;
#ifdef GNNREC_WITH_CUDA
  GNNREC_EXPECTS(device.index < cuda_device_count(), "no GPU {} (found {})", device.str(),
                 cuda_device_count());
  auto ctx = std::make_unique<DeviceContext>();
  ctx->device = device;
  GNNREC_CUDA_CHECK(cudaSetDevice(device.index));
  cudaStream_t st;
  GNNREC_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
  ctx->stream = reinterpret_cast<Stream>(st);
  cublasLtHandle_t lt;
  GNNREC_CUBLAS_CHECK(cublasLtCreate(&lt));
  ctx->cublaslt = lt;
  cublasHandle_t bl;
  GNNREC_CUBLAS_CHECK(cublasCreate(&bl));
  GNNREC_CUBLAS_CHECK(cublasSetStream(bl, st));
  ctx->cublas = bl;
  ctx->gemm_workspace_bytes = 32u << 20;  // cuBLASLt's recommendation for Hopper
  GNNREC_CUDA_CHECK(cudaMalloc(&ctx->gemm_workspace, ctx->gemm_workspace_bytes));
  // Keep freed blocks in the pool: per-batch tensors are then reused without driver calls.
  cudaMemPool_t pool;
  GNNREC_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device.index));
  uint64_t threshold = UINT64_MAX;
  GNNREC_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
  slot = std::move(ctx);
  return *slot;
#else
  GNNREC_FAIL("device {} requested but gnnrec was built without CUDA", device.str());
#endif
}

Workspace::~Workspace() {
  try {
    device_free(ptr_, device_, stream_);
  } catch (...) {
  }
}

void* Workspace::get(size_t bytes) {
  if (bytes <= bytes_ && ptr_ != nullptr) return ptr_;
  device_free(ptr_, device_, stream_);
  ptr_ = nullptr;
  bytes_ = 0;
  ptr_ = device_malloc(bytes, device_, stream_);
  bytes_ = bytes;
  return ptr_;
}

std::vector<DeviceInfo> list_devices() {
  std::vector<DeviceInfo> out;
#ifdef GNNREC_WITH_CUDA
  for (int i = 0; i < cuda_device_count(); ++i) {
    cudaDeviceProp p{};
    GNNREC_CUDA_CHECK(cudaGetDeviceProperties(&p, i));
    out.push_back({i, p.name, p.totalGlobalMem, p.multiProcessorCount, p.major, p.minor});
  }
#endif
  return out;
}

namespace {
[[maybe_unused]] std::string version_str(int v) {
  return fmt::format("{}.{}", v / 1000, (v % 1000) / 10);
}
}  // namespace

std::string cuda_runtime_version() {
#ifdef GNNREC_WITH_CUDA
  int v = 0;
  if (cudaRuntimeGetVersion(&v) == cudaSuccess && v > 0) return version_str(v);
#endif
  return "none";
}

std::string cuda_driver_version() {
#ifdef GNNREC_WITH_CUDA
  int v = 0;
  if (cudaDriverGetVersion(&v) == cudaSuccess && v > 0) return version_str(v);
  cudaGetLastError();
#endif
  return "none";
}

}  // namespace gnnrec
