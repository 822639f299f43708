// Tensor: a dtype, a shape and contiguous (C-order) storage on one device.
// Storage is reference counted; views (reshape, rows) share it. CUDA memory comes from the
// stream-ordered allocator (cudaMallocAsync pools); host memory is 64-byte aligned, optionally
// pinned for fast transfers.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "kernels/common.h"
#include "runtime/error.h"

namespace gnnrec {

enum class DType : uint8_t { kF32, kF16, kBF16, kI32, kI64, kU8, kI8 };

size_t dtype_size(DType t);
const char* dtype_name(DType t);
DType dtype_from_name(const std::string& name);  // "f32", "float16", "int8", ...

template <typename T>
constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::kF32; }
template <> constexpr DType dtype_of<int32_t>() { return DType::kI32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::kI64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::kU8; }
template <> constexpr DType dtype_of<int8_t>() { return DType::kI8; }

struct Device {
  enum class Kind : uint8_t { kCpu, kCuda };
  Kind kind = Kind::kCpu;
  int index = 0;

  static Device cpu() { return {}; }
  static Device cuda(int i = 0) { return {Kind::kCuda, i}; }
  bool is_cpu() const { return kind == Kind::kCpu; }
  bool is_cuda() const { return kind == Kind::kCuda; }
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const;
  static Device parse(const std::string& s);  // "cpu", "cuda", "cuda:1", "auto"
};

// Number of usable GPUs; 0 when CUDA is not compiled in or no device/driver is present.
int cuda_device_count();
bool cuda_compiled();
// "auto": cuda:0 when a GPU is usable, else the CPU (logging once that it fell back).
Device resolve_device(const std::string& spec);

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);

struct Storage;

class Tensor {
 public:
  Tensor() = default;

  static Tensor empty(const Shape& shape, DType dtype, Device device = Device::cpu(),
                      Stream stream = nullptr);
  static Tensor zeros(const Shape& shape, DType dtype, Device device = Device::cpu(),
                      Stream stream = nullptr);
  // Host tensor in page-locked memory (falls back to pageable memory without CUDA).
  static Tensor pinned(const Shape& shape, DType dtype);
  template <typename T>
  static Tensor from_vector(const std::vector<T>& v, const Shape& shape = {});

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const;
  int64_t numel() const;
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }

  void* raw() const;
  template <typename T>
  T* data() const {
    GNNREC_EXPECTS(dtype_of<T>() == dtype_, "tensor holds {}, accessed as {}", dtype_name(dtype_),
                   dtype_name(dtype_of<T>()));
    return static_cast<T*>(raw());
  }
  template <typename T>
  std::vector<T> to_vector() const;

  // A view sharing storage: same elements, new shape (-1 inferred once).
  Tensor reshape(const Shape& shape) const;
  // A view of rows [begin, end) along the first dimension.
  Tensor rows(int64_t begin, int64_t end) const;
  // A copy on `device`. Copies to the host are complete when this returns.
  Tensor to(Device device, Stream stream = nullptr) const;
  Tensor clone(Stream stream = nullptr) const { return to(device_, stream); }
  // Copies src's bytes into this tensor (same dtype and numel; devices may differ).
  void copy_from(const Tensor& src, Stream stream = nullptr);
  void fill_zero(Stream stream = nullptr);

 private:
  std::shared_ptr<Storage> storage_;
  size_t offset_ = 0;  // bytes into storage
  Shape shape_;
  DType dtype_ = DType::kF32;
  Device device_;
};

// Raw memory helpers used by Tensor and by the runtime's workspace arena. Everywhere, a null
// stream on a CUDA device means that device's context stream (runtime/context.h), the stream
// every op runs on, so work issued without a stream is ordered with the ops.
void* device_malloc(size_t bytes, Device device, Stream stream);
void device_free(void* p, Device device, Stream stream);
// Copies bytes between any two devices; synchronises the stream when the destination is host.
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes,
                Stream stream);
void stream_synchronize(Stream stream);

// Bytes moved between host and GPU through copy_bytes since the process started (the trainer
// reports the epoch loop's host-device traffic from these).
struct TransferCounters {
  uint64_t h2d_bytes = 0, d2h_bytes = 0, h2d_copies = 0, d2h_copies = 0;
};
TransferCounters transfer_counters();

// float <-> half / bfloat16 conversions on the host (round to nearest even).
uint16_t float_to_half(float f);
float half_to_float(uint16_t h);
uint16_t float_to_bf16(float f);
float bf16_to_float(uint16_t b);
// Converts a float32 tensor to f16/bf16/f32 (host). Other dtypes are refused.
Tensor convert_float(const Tensor& src, DType to);

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& v, const Shape& shape) {
  Shape s = shape.empty() ? Shape{static_cast<int64_t>(v.size())} : shape;
  Tensor t = empty(s, dtype_of<T>());
  GNNREC_EXPECTS(t.numel() == static_cast<int64_t>(v.size()), "shape {} does not hold {} values",
                 shape_str(s), v.size());
  std::copy(v.begin(), v.end(), t.data<T>());
  return t;
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  Tensor host = device_.is_cpu() ? *this : to(Device::cpu());
  const T* p = host.data<T>();
  return std::vector<T>(p, p + numel());
}

}  // namespace gnnrec
