// Types and macros shared by every kernel contract. Host-only, no I/O, no state.
#pragma once
#include <cstddef>
#include <cstdint>

// cudaStream_t without including the CUDA headers: the same spelling as the toolkit's typedef.
struct CUstream_st;

namespace gnnrec {

using node_t = int32_t;
using edge_t = int64_t;
using Stream = CUstream_st*;

}  // namespace gnnrec

#if defined(__CUDACC__)
#define GNNREC_HD __host__ __device__ __forceinline__
#else
#define GNNREC_HD inline
#endif
