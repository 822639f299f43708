// The pieces of the optional MLP scoring head that are not GEMMs:
//   score(a, b) = w2 · relu(W1^T [z_a || z_b || z_a * z_b] + b1) + b2
// The runtime (runtime/ops_nn.h mlp_head_forward/backward) composes these with gemm() (bias and
// ReLU fused in its epilogue), column_sum and the deterministic scatter of kernels/embedding.h.
// Both kernels are elementwise over P*d and memory bound; CPU and CUDA give the same bits.
#pragma once
#include "kernels/common.h"

namespace gnnrec {

// x[p] = [Z[a[p]] || Z[b[p]] || Z[a[p]] * Z[b[p]]]: x [P, 3d] dense, Z [n, d] dense.
void mlp_head_input_cpu(int64_t P, int64_t d, const float* Z, const int32_t* a_idx,
                        const int32_t* b_idx, float* x);
void mlp_head_input_cuda(int64_t P, int64_t d, const float* Z, const int32_t* a_idx,
                         const int32_t* b_idx, float* x, Stream stream);

// Backward of mlp_head_input as gradient slots for the deterministic scatter into dZ:
//   slot 2p   (key a[p]): dx[p, 0:d]  + dx[p, 2d:3d] * Z[b[p]]
//   slot 2p+1 (key b[p]): dx[p, d:2d] + dx[p, 2d:3d] * Z[a[p]]
// slot_grad [2P, d] and keys [2P] are overwritten.
void mlp_head_input_backward_cpu(int64_t P, int64_t d, const float* Z, const int32_t* a_idx,
                                 const int32_t* b_idx, const float* dx, float* slot_grad,
                                 int32_t* keys);
void mlp_head_input_backward_cuda(int64_t P, int64_t d, const float* Z, const int32_t* a_idx,
                                  const int32_t* b_idx, const float* dx, float* slot_grad,
                                  int32_t* keys, Stream stream);

}  // namespace gnnrec
