// SHA-256 (FIPS 180-4), used to record the inputs a dataset or run was made from.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace gnnrec {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t n);
  std::array<uint8_t, 32> finish();  // the object must not be updated afterwards
  std::string finish_hex();

 private:
  void blocks(const uint8_t* p, size_t n);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

std::string sha256_hex(const std::string& data);
// The x86 SHA extensions are used when the CPU has them (about 10x the portable code).
bool sha256_hardware_available();
// Tests and benchmarks: false forces the portable implementation in this process.
void sha256_use_hardware(bool on);
// Hashes a file's bytes as stored (streamed in chunks); *bytes gets its size when non-null.
std::string sha256_file(const std::string& path, uint64_t* bytes = nullptr);

}  // namespace gnnrec
