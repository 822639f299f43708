// .npy files (format version 1.0/2.0/3.0 on read, 1.0 or 2.0 on write): little-endian, C order.
// bf16 has no numpy dtype; it is written as '<V2' (2-byte void, view it as uint16 in numpy).
#pragma once
#include <string>

#include "runtime/tensor.h"

namespace gnnrec {

// Reads a host tensor. Errors name the file and what was wrong (magic, header, dtype, order,
// truncation).
Tensor load_npy(const std::string& path);
// Writes atomically: to `path.tmp.<pid>` first, then renamed over `path`.
void save_npy(const std::string& path, const Tensor& t);

// Writes `data` to `path` atomically (temp file + rename); used for every output file.
void write_file_atomic(const std::string& path, const std::string& data);
std::string read_file(const std::string& path);

}  // namespace gnnrec
