#include "runtime/tensor.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "runtime/context.h"
#include "runtime/log.h"

#ifdef GNNREC_WITH_CUDA
#include "runtime/cuda_check.h"
#endif

namespace gnnrec {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kF16: return 2;
    case DType::kBF16: return 2;
    case DType::kI32: return 4;
    case DType::kI64: return 8;
    case DType::kU8: return 1;
    case DType::kI8: return 1;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kBF16: return "bf16";
    case DType::kI32: return "i32";
    case DType::kI64: return "i64";
    case DType::kU8: return "u8";
    case DType::kI8: return "i8";
  }
  return "?";
}

DType dtype_from_name(const std::string& n) {
  if (n == "f32" || n == "float32" || n == "fp32") return DType::kF32;
  if (n == "f16" || n == "float16" || n == "fp16") return DType::kF16;
  if (n == "bf16" || n == "bfloat16") return DType::kBF16;
  if (n == "i32" || n == "int32") return DType::kI32;
  if (n == "i64" || n == "int64") return DType::kI64;
  if (n == "u8" || n == "uint8") return DType::kU8;
  if (n == "i8" || n == "int8") return DType::kI8;
  GNNREC_FAIL("unknown dtype '{}' (expected f32, f16, bf16, i32, i64, u8 or i8)", n);
}

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : fmt::format("cuda:{}", index);
}

Device Device::parse(const std::string& s) {
  if (s == "cpu") return cpu();
  if (s == "cuda" || s == "gpu") return cuda(0);
  if (s.rfind("cuda:", 0) == 0) {
    const std::string idx = s.substr(5);
    GNNREC_EXPECTS(!idx.empty() && std::all_of(idx.begin(), idx.end(), ::isdigit),
                   "bad device '{}' (expected cpu, cuda or cuda:N)", s);
    return cuda(std::stoi(idx));
  }
  GNNREC_FAIL("bad device '{}' (expected auto, cpu, cuda or cuda:N)", s);
}

bool cuda_compiled() {
#ifdef GNNREC_WITH_CUDA
  return true;
#else
  return false;
#endif
}

int cuda_device_count() {
#ifdef GNNREC_WITH_CUDA
  static int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // clear the sticky "no driver" error
      return 0;
    }
    return n;
  }();
  return count;
#else
  return 0;
#endif
}

Device resolve_device(const std::string& spec) {
  if (spec == "auto" || spec.empty()) {
    if (cuda_device_count() > 0) return Device::cuda(0);
    static std::once_flag once;
    std::call_once(once, [] {
      log_info("no usable GPU ({}); running on the CPU",
               cuda_compiled() ? "no device or driver found" : "built without CUDA");
    });
    return Device::cpu();
  }
  Device d = Device::parse(spec);
  if (d.is_cuda()) {
    GNNREC_EXPECTS(cuda_compiled(), "device {} requested but gnnrec was built without CUDA",
                   d.str());
    GNNREC_EXPECTS(d.index < cuda_device_count(), "device {} requested but {} GPU(s) are visible",
                   d.str(), cuda_device_count());
  }
  return d;
}

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

struct Storage {
  void* ptr = nullptr;
  size_t bytes = 0;
  Device device;
  bool pinned = false;
  Stream stream = nullptr;
  ~Storage() {
    if (ptr == nullptr) return;
#ifdef GNNREC_WITH_CUDA
    if (pinned) {
      cudaFreeHost(ptr);
      return;
    }
#endif
    try {
      device_free(ptr, device, stream);
    } catch (...) {
      // A destructor cannot report; the process is exiting or the context is gone.
    }
  }
};

namespace {
// A null stream on a CUDA device means that device's context stream, so tensors, copies and
// ops issued without an explicit stream are ordered with the ops (which run on it).
[[maybe_unused]] Stream on_stream(Stream stream, Device device) {
  if (stream != nullptr || device.is_cpu()) return stream;
  return context_for(device).stream;
}
}  // namespace

void* device_malloc(size_t bytes, Device device, Stream stream) {
  if (bytes == 0) bytes = 1;
  if (device.is_cpu()) {
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    GNNREC_EXPECTS(p != nullptr, "out of host memory allocating {} bytes", bytes);
    return p;
  }
#ifdef GNNREC_WITH_CUDA
  void* p = nullptr;
  GNNREC_CUDA_CHECK(cudaSetDevice(device.index));
  GNNREC_CUDA_CHECK(
      cudaMallocAsync(&p, bytes, reinterpret_cast<cudaStream_t>(on_stream(stream, device))));
  return p;
#else
  (void)stream;
  GNNREC_FAIL("CUDA allocation requested but gnnrec was built without CUDA");
#endif
}

void device_free(void* p, Device device, Stream stream) {
  if (p == nullptr) return;
  if (device.is_cpu()) {
    std::free(p);
    return;
  }
#ifdef GNNREC_WITH_CUDA
  GNNREC_CUDA_CHECK(cudaFreeAsync(p, reinterpret_cast<cudaStream_t>(on_stream(stream, device))));
#else
  (void)stream;
#endif
}

void stream_synchronize(Stream stream) {
#ifdef GNNREC_WITH_CUDA
  if (cuda_device_count() > 0) {
    GNNREC_CUDA_CHECK(cudaStreamSynchronize(
        reinterpret_cast<cudaStream_t>(on_stream(stream, Device::cuda(0)))));
  }
#else
  (void)stream;
#endif
}

namespace {
std::atomic<uint64_t> g_h2d_bytes{0}, g_d2h_bytes{0}, g_h2d_copies{0}, g_d2h_copies{0};
}  // namespace

TransferCounters transfer_counters() {
  return {g_h2d_bytes.load(), g_d2h_bytes.load(), g_h2d_copies.load(), g_d2h_copies.load()};
}

void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes,
                Stream stream) {
  if (bytes == 0) return;
  if (dst_dev.is_cpu() && src_dev.is_cpu()) {
    std::memcpy(dst, src, bytes);
    return;
  }
  if (dst_dev.is_cpu()) {
    g_d2h_bytes += bytes;
    ++g_d2h_copies;
  } else if (src_dev.is_cpu()) {
    g_h2d_bytes += bytes;
    ++g_h2d_copies;
  }
#ifdef GNNREC_WITH_CUDA
  const cudaStream_t st = reinterpret_cast<cudaStream_t>(
      on_stream(stream, dst_dev.is_cuda() ? dst_dev : src_dev));
  GNNREC_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, st));
  if (dst_dev.is_cpu() || src_dev.is_cpu()) {
    // Pageable host memory: the caller may reuse or read it right away.
    GNNREC_CUDA_CHECK(cudaStreamSynchronize(st));
  }
#else
  (void)stream;
  GNNREC_FAIL("copy to or from {} requires CUDA", dst_dev.is_cpu() ? src_dev.str() : dst_dev.str());
#endif
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device, Stream stream) {
  for (int64_t d : shape) GNNREC_EXPECTS(d >= 0, "negative dimension in shape {}", shape_str(shape));
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.device_ = device;
  t.storage_ = std::make_shared<Storage>();
  t.storage_->bytes = t.nbytes();
  t.storage_->device = device;
  t.storage_->stream = stream;
  t.storage_->ptr = device_malloc(t.storage_->bytes, device, stream);
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device, Stream stream) {
  Tensor t = empty(shape, dtype, device, stream);
  t.fill_zero(stream);
  return t;
}

Tensor Tensor::pinned(const Shape& shape, DType dtype) {
#ifdef GNNREC_WITH_CUDA
  if (cuda_device_count() > 0) {
    Tensor t;
    t.shape_ = shape;
    t.dtype_ = dtype;
    t.storage_ = std::make_shared<Storage>();
    t.storage_->bytes = std::max<size_t>(1, t.nbytes());
    t.storage_->pinned = true;
    GNNREC_CUDA_CHECK(cudaMallocHost(&t.storage_->ptr, t.storage_->bytes));
    return t;
  }
#endif
  return empty(shape, dtype);
}

int64_t Tensor::dim(int i) const {
  if (i < 0) i += ndim();
  GNNREC_EXPECTS(i >= 0 && i < ndim(), "dimension {} out of range for shape {}", i,
                 shape_str(shape_));
  return shape_[i];
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape_) n *= d;
  return n;
}

void* Tensor::raw() const {
  GNNREC_EXPECTS(defined(), "use of an undefined tensor");
  return static_cast<char*>(storage_->ptr) + offset_;
}

Tensor Tensor::reshape(const Shape& shape) const {
  Shape s = shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      GNNREC_EXPECTS(infer < 0, "reshape {}: more than one -1", shape_str(shape));
      infer = static_cast<int>(i);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    GNNREC_EXPECTS(known > 0 && numel() % known == 0, "cannot reshape {} to {}",
                   shape_str(shape_), shape_str(shape));
    s[infer] = numel() / known;
    known *= s[infer];
  }
  GNNREC_EXPECTS(known == numel(), "cannot reshape {} to {}", shape_str(shape_), shape_str(shape));
  Tensor t = *this;
  t.shape_ = s;
  return t;
}

Tensor Tensor::rows(int64_t begin, int64_t end) const {
  GNNREC_EXPECTS(ndim() >= 1 && 0 <= begin && begin <= end && end <= shape_[0],
                 "rows [{}, {}) out of range for shape {}", begin, end, shape_str(shape_));
  Tensor t = *this;
  const int64_t row_elems = shape_[0] == 0 ? 0 : numel() / shape_[0];
  t.offset_ += static_cast<size_t>(begin * row_elems) * dtype_size(dtype_);
  t.shape_[0] = end - begin;
  return t;
}

Tensor Tensor::to(Device device, Stream stream) const {
  Tensor t = empty(shape_, dtype_, device, stream);
  copy_bytes(t.raw(), device, raw(), device_, nbytes(), stream);
  return t;
}

void Tensor::copy_from(const Tensor& src, Stream stream) {
  GNNREC_EXPECTS(src.dtype_ == dtype_ && src.numel() == numel(),
                 "copy_from: {} {} into {} {}", dtype_name(src.dtype_), shape_str(src.shape_),
                 dtype_name(dtype_), shape_str(shape_));
  copy_bytes(raw(), device_, src.raw(), src.device_, nbytes(), stream);
}

void Tensor::fill_zero(Stream stream) {
  if (nbytes() == 0) return;
  if (device_.is_cpu()) {
    std::memset(raw(), 0, nbytes());
    return;
  }
#ifdef GNNREC_WITH_CUDA
  GNNREC_CUDA_CHECK(cudaMemsetAsync(raw(), 0, nbytes(),
                                    reinterpret_cast<cudaStream_t>(on_stream(stream, device_))));
#else
  (void)stream;
#endif
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t exp = (x >> 23) & 0xffu;
  uint32_t man = x & 0x7fffffu;
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (man ? 0x200u : 0));
  int e = static_cast<int>(exp) - 127 + 15;
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
  if (e <= 0) {
    if (e < -10) return static_cast<uint16_t>(sign);
    man |= 0x800000u;
    const int shift = 14 - e;
    uint32_t h = man >> shift;
    const uint32_t rem = man & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = (static_cast<uint32_t>(e) << 10) | (man >> 13);
  const uint32_t rem = man & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // may carry into the exponent: fine
  return static_cast<uint16_t>(sign | h);
}

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  uint32_t x;
  if (exp == 0) {
    if (man == 0) {
      x = sign;
    } else {
      int e = -1;
      do {
        ++e;
        man <<= 1;
      } while ((man & 0x400u) == 0);
      x = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    x = sign | 0x7f800000u | (man << 13);
  } else {
    x = sign | ((exp - 15 + 127) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

uint16_t float_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // NaN
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

float bf16_to_float(uint16_t b) {
  const uint32_t x = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

Tensor convert_float(const Tensor& src, DType to) {
  GNNREC_EXPECTS(src.dtype() == DType::kF32 && src.device().is_cpu(),
                 "convert_float takes a host f32 tensor, got {} on {}", dtype_name(src.dtype()),
                 src.device().str());
  if (to == DType::kF32) return src.clone();
  GNNREC_EXPECTS(to == DType::kF16 || to == DType::kBF16, "convert_float: cannot convert to {}",
                 dtype_name(to));
  Tensor out = Tensor::empty(src.shape(), to);
  const float* s = src.data<float>();
  auto* d = static_cast<uint16_t*>(out.raw());
  const int64_t n = src.numel();
  for (int64_t i = 0; i < n; ++i) d[i] = to == DType::kF16 ? float_to_half(s[i]) : float_to_bf16(s[i]);
  return out;
}

}  // namespace gnnrec
