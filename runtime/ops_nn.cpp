#include "runtime/ops_nn.h"

#include <map>
#include <memory>
#include <utility>

#include "kernels/aggregate.h"
#include "kernels/embedding.h"
#include "kernels/loss.h"
#include "kernels/mlp.h"
#include "kernels/optim.h"
#include "runtime/context.h"
#include "runtime/dispatch.h"
#include "runtime/nvtx.h"
#include "runtime/ops.h"

namespace gnnrec {

using detail::expect_device;
using detail::expect_dtype;
using detail::expect_shape;
using detail::stream_of;

namespace {

// Per-thread, per-device scratch arena: reused across ops (stream-ordered on the GPU, so a buffer
// is only reused after the kernels that read it were queued before).
void* scratch(Device d, size_t bytes) {
  thread_local std::map<std::pair<int, int>, std::unique_ptr<Workspace>> arenas;
  auto& slot = arenas[{static_cast<int>(d.kind), d.index}];
  if (!slot) slot = std::make_unique<Workspace>(d, stream_of(d));
  return slot->get(bytes);
}

// Makes t a tensor of this shape/dtype/device, reusing it when it already is one.
void ensure(Tensor& t, const Shape& shape, DType dt, Device dev) {
  if (t.defined() && t.shape() == shape && t.dtype() == dt && t.device() == dev) return;
  t = Tensor::empty(shape, dt, dev, stream_of(dev));
}

void expect_matrix(const Tensor& t, const char* op, const char* name) {
  expect_dtype(t, DType::kF32, op, name);
  GNNREC_EXPECTS(t.ndim() == 2, "{}: {} must be 2-D, got {}", op, name, shape_str(t.shape()));
}

void expect_index(const Tensor& t, const char* op, const char* name) {
  expect_dtype(t, DType::kI32, op, name);
}

// Index range check on the host (CPU tensors only: CUDA kernels trust their inputs, which come
// from the sampler; checking them would cost a device-to-host copy per call).
void check_range(const Tensor& idx, int64_t bound, const char* op, const char* name) {
  if (!idx.device().is_cpu()) return;
  const int32_t* p = idx.data<int32_t>();
  for (int64_t i = 0; i < idx.numel(); ++i) {
    GNNREC_EXPECTS(p[i] >= 0 && p[i] < bound, "{}: {}[{}] = {} is outside [0, {})", op, name, i,
                   p[i], bound);
  }
}

// A CSR indptr [rows+1] over `nnz` entries: starts at 0, never decreases, ends at nnz.
void check_indptr(const Tensor& indptr, int64_t nnz, const char* op, const char* name) {
  expect_index(indptr, op, name);
  GNNREC_EXPECTS(indptr.ndim() == 1 && indptr.numel() >= 1, "{}: {} must be 1-D [rows+1], got {}",
                 op, name, shape_str(indptr.shape()));
  if (!indptr.device().is_cpu()) return;
  const int32_t* p = indptr.data<int32_t>();
  GNNREC_EXPECTS(p[0] == 0, "{}: {}[0] = {}, expected 0", op, name, p[0]);
  for (int64_t i = 1; i < indptr.numel(); ++i) {
    GNNREC_EXPECTS(p[i] >= p[i - 1], "{}: {} decreases at {} ({} < {})", op, name, i, p[i],
                   p[i - 1]);
  }
  GNNREC_EXPECTS(p[indptr.numel() - 1] == nnz, "{}: {} ends at {} but there are {} indices", op,
                 name, p[indptr.numel() - 1], nnz);
}

const int32_t* i32(const Tensor& t) { return t.data<int32_t>(); }
const float* f32(const Tensor& t) { return t.data<float>(); }
float* f32m(Tensor& t) { return t.data<float>(); }

}  // namespace

// ---- Aggregation --------------------------------------------------------------------------------

void aggregate_forward(AggKind kind, const Tensor& indptr, const Tensor& indices, const Tensor& src,
                       Tensor& out, int64_t col_off, Tensor* argmax) {
  constexpr const char* op = "aggregate_forward";
  GNNREC_NVTX_RANGE("aggregate_forward");
  expect_index(indices, op, "indices");
  GNNREC_EXPECTS(indices.ndim() == 1, "{}: indices must be 1-D, got {}", op,
                 shape_str(indices.shape()));
  check_indptr(indptr, indices.numel(), op, "indptr");
  expect_matrix(src, op, "src");
  expect_matrix(out, op, "out");
  const Device dev = out.device();
  expect_device(src, dev, op, "src");
  expect_device(indptr, dev, op, "indptr");
  expect_device(indices, dev, op, "indices");
  const int64_t n_dst = indptr.numel() - 1, d = src.dim(1);
  GNNREC_EXPECTS(out.dim(0) == n_dst, "{}: out has {} rows, the block has {} dst rows", op,
                 out.dim(0), n_dst);
  GNNREC_EXPECTS(col_off >= 0 && col_off + d <= out.dim(1),
                 "{}: columns [{}, {}) do not fit in out {}", op, col_off, col_off + d,
                 shape_str(out.shape()));
  check_range(indices, src.dim(0), op, "indices");
  int32_t* am = nullptr;
  if (kind == AggKind::kMax) {
    GNNREC_EXPECTS(argmax != nullptr, "{}: max aggregation needs an argmax tensor", op);
    expect_index(*argmax, op, "argmax");
    expect_device(*argmax, dev, op, "argmax");
    expect_shape(*argmax, {n_dst, d}, op, "argmax");
    am = argmax->data<int32_t>();
  }
  float* o = f32m(out) + col_off;
  GNNREC_DISPATCH(dev,
                  aggregate_forward_cpu(kind, n_dst, d, i32(indptr), i32(indices), f32(src), d, o,
                                        out.dim(1), am),
                  aggregate_forward_cuda(kind, n_dst, d, i32(indptr), i32(indices), f32(src), d, o,
                                         out.dim(1), am, stream_of(dev)));
}

void aggregate_backward(AggKind kind, const Tensor& indptr, const Tensor& t_indptr,
                        const Tensor& t_indices, const Tensor& d_out, int64_t col_off,
                        const Tensor* argmax, Tensor& d_src, bool accumulate) {
  constexpr const char* op = "aggregate_backward";
  GNNREC_NVTX_RANGE("aggregate_backward");
  expect_index(t_indices, op, "t_indices");
  GNNREC_EXPECTS(t_indices.ndim() == 1, "{}: t_indices must be 1-D, got {}", op,
                 shape_str(t_indices.shape()));
  check_indptr(indptr, t_indices.numel(), op, "indptr");
  check_indptr(t_indptr, t_indices.numel(), op, "t_indptr");
  expect_matrix(d_out, op, "d_out");
  expect_matrix(d_src, op, "d_src");
  const Device dev = d_src.device();
  for (const Tensor* t : {&indptr, &t_indptr, &t_indices, &d_out})
    expect_device(*t, dev, op, "input");
  const int64_t n_dst = indptr.numel() - 1, n_src = t_indptr.numel() - 1, d = d_src.dim(1);
  GNNREC_EXPECTS(d_src.dim(0) == n_src, "{}: d_src has {} rows, the block has {} src rows", op,
                 d_src.dim(0), n_src);
  GNNREC_EXPECTS(d_out.dim(0) == n_dst, "{}: d_out has {} rows, the block has {} dst rows", op,
                 d_out.dim(0), n_dst);
  GNNREC_EXPECTS(col_off >= 0 && col_off + d <= d_out.dim(1),
                 "{}: columns [{}, {}) do not fit in d_out {}", op, col_off, col_off + d,
                 shape_str(d_out.shape()));
  check_range(t_indices, n_dst, op, "t_indices");
  const int32_t* am = nullptr;
  if (kind == AggKind::kMax) {
    GNNREC_EXPECTS(argmax != nullptr && argmax->defined(),
                   "{}: max aggregation needs the forward's argmax", op);
    expect_index(*argmax, op, "argmax");
    expect_device(*argmax, dev, op, "argmax");
    expect_shape(*argmax, {n_dst, d}, op, "argmax");
    am = argmax->data<int32_t>();
  }
  const float* g = f32(d_out) + col_off;
  GNNREC_DISPATCH(
      dev,
      aggregate_backward_cpu(kind, n_src, d, i32(indptr), i32(t_indptr), i32(t_indices), g,
                             d_out.dim(1), am, f32m(d_src), d, accumulate),
      aggregate_backward_cuda(kind, n_src, d, i32(indptr), i32(t_indptr), i32(t_indices), g,
                              d_out.dim(1), am, f32m(d_src), d, accumulate, stream_of(dev)));
}

// ---- SAGE layer ---------------------------------------------------------------------------------

namespace {
// dst[:, 0:d] (= or +=) src[:, 0:d] for strided row-major matrices with `rows` rows.
void copy_cols(int64_t rows, int64_t d, const Tensor& src, Tensor& dst, bool accumulate) {
  GNNREC_DISPATCH(
      dst.device(),
      copy_rows_2d_cpu(rows, d, f32(src), src.dim(1), f32m(dst), dst.dim(1), accumulate),
      copy_rows_2d_cuda(rows, d, f32(src), src.dim(1), f32m(dst), dst.dim(1), accumulate,
                        stream_of(dst.device())));
}
}  // namespace

void sage_layer_forward(AggKind kind, const Tensor& indptr, const Tensor& indices,
                        const Tensor& h_src, const Tensor& W, const Tensor& b, bool relu,
                        Tensor& out, SageCache& cache) {
  constexpr const char* op = "sage_layer_forward";
  GNNREC_NVTX_RANGE("sage_layer_forward");
  expect_matrix(h_src, op, "h_src");
  expect_matrix(W, op, "W");
  expect_matrix(out, op, "out");
  const Device dev = out.device();
  const int64_t n_dst = indptr.numel() - 1, d_in = h_src.dim(1), d_out = W.dim(1);
  GNNREC_EXPECTS(n_dst <= h_src.dim(0), "{}: {} dst rows but only {} src rows", op, n_dst,
                 h_src.dim(0));
  expect_shape(W, {2 * d_in, d_out}, op, "W");
  expect_shape(out, {n_dst, d_out}, op, "out");
  expect_device(h_src, dev, op, "h_src");
  ensure(cache.x, {n_dst, 2 * d_in}, DType::kF32, dev);
  if (kind == AggKind::kMax) ensure(cache.argmax, {n_dst, d_in}, DType::kI32, dev);
  copy_cols(n_dst, d_in, h_src, cache.x, false);
  aggregate_forward(kind, indptr, indices, h_src, cache.x, d_in,
                    kind == AggKind::kMax ? &cache.argmax : nullptr);
  gemm(cache.x, false, W, false, out, 1.0f, 0.0f, &b, relu ? Epilogue::kBiasRelu : Epilogue::kBias);
  cache.out = out;
}

void sage_layer_backward(AggKind kind, const Tensor& indptr, const Tensor& t_indptr,
                         const Tensor& t_indices, const Tensor& W, const SageCache& cache,
                         const Tensor& d_out, bool relu, Tensor& dW, Tensor& db, Tensor& d_h_src) {
  constexpr const char* op = "sage_layer_backward";
  GNNREC_NVTX_RANGE("sage_layer_backward");
  expect_matrix(W, op, "W");
  expect_matrix(d_out, op, "d_out");
  expect_matrix(d_h_src, op, "d_h_src");
  GNNREC_EXPECTS(cache.x.defined() && cache.out.defined(),
                 "{}: the cache is empty (run sage_layer_forward first)", op);
  const Device dev = d_h_src.device();
  const int64_t n_dst = indptr.numel() - 1, d_in = W.dim(0) / 2, dim_out = W.dim(1);
  expect_shape(cache.x, {n_dst, 2 * d_in}, op, "cache.x");
  expect_shape(d_out, {n_dst, dim_out}, op, "d_out");
  expect_shape(dW, W.shape(), op, "dW");
  GNNREC_EXPECTS(db.numel() == dim_out, "{}: db has {} values, expected {}", op, db.numel(),
                 dim_out);
  GNNREC_EXPECTS(d_h_src.dim(1) == d_in && d_h_src.dim(0) >= n_dst,
                 "{}: d_h_src is {}, expected [n_src >= {}, {}]", op, shape_str(d_h_src.shape()),
                 n_dst, d_in);
  Tensor g = d_out;
  if (relu) {
    expect_shape(cache.out, d_out.shape(), op, "cache.out");
    g = Tensor::empty(d_out.shape(), DType::kF32, dev, stream_of(dev));
    relu_backward(cache.out, d_out, g);
  }
  gemm(cache.x, true, g, false, dW);
  Tensor db2 = db.reshape({dim_out});
  column_sum(g, db2);
  Tensor dX = Tensor::empty({n_dst, 2 * d_in}, DType::kF32, dev, stream_of(dev));
  gemm(g, false, W, true, dX);
  aggregate_backward(kind, indptr, t_indptr, t_indices, dX, d_in,
                     kind == AggKind::kMax ? &cache.argmax : nullptr, d_h_src, false);
  copy_cols(n_dst, d_in, dX, d_h_src, true);
}

// ---- Losses and scores --------------------------------------------------------------------------

void link_loss(LossKind kind, const Tensor& Z, const Tensor& u_idx, const Tensor& pos_idx,
               const Tensor& neg_idx, float inv_temp, Tensor& dZ, Tensor& loss_accum) {
  constexpr const char* op = "link_loss";
  GNNREC_NVTX_RANGE("link_loss");
  expect_matrix(Z, op, "Z");
  expect_matrix(dZ, op, "dZ");
  expect_index(u_idx, op, "u_idx");
  expect_index(pos_idx, op, "pos_idx");
  expect_index(neg_idx, op, "neg_idx");
  expect_dtype(loss_accum, DType::kF32, op, "loss_accum");
  const Device dev = dZ.device();
  for (const Tensor* t :
       {&Z, &u_idx, &pos_idx, &neg_idx, static_cast<const Tensor*>(&loss_accum)}) {
    expect_device(*t, dev, op, "input");
  }
  const int64_t n = Z.dim(0), d = Z.dim(1), B = u_idx.numel();
  GNNREC_EXPECTS(u_idx.ndim() == 1 && pos_idx.ndim() == 1 && pos_idx.numel() == B,
                 "{}: u_idx {} and pos_idx {} must both be [B]", op, shape_str(u_idx.shape()),
                 shape_str(pos_idx.shape()));
  GNNREC_EXPECTS(neg_idx.ndim() == 2 && neg_idx.dim(0) == B, "{}: neg_idx is {}, expected [{}, k]",
                 op, shape_str(neg_idx.shape()), B);
  const int64_t k = neg_idx.dim(1);
  GNNREC_EXPECTS(kind != LossKind::kBpr || k >= 1, "{}: BPR needs at least one negative", op);
  expect_shape(dZ, Z.shape(), op, "dZ");
  GNNREC_EXPECTS(loss_accum.numel() == 1, "{}: loss_accum must hold one value, has {}", op,
                 loss_accum.numel());
  check_range(u_idx, n, op, "u_idx");
  check_range(pos_idx, n, op, "pos_idx");
  check_range(neg_idx, n, op, "neg_idx");
  GNNREC_DISPATCH(
      dev,
      {
        const size_t bytes = link_loss_workspace_bytes_cpu(n, B, k);
        link_loss_cpu(kind, n, d, f32(Z), B, k, i32(u_idx), i32(pos_idx), i32(neg_idx), inv_temp,
                      f32m(dZ), f32m(loss_accum), scratch(dev, bytes), bytes);
      },
      {
        const size_t bytes = link_loss_workspace_bytes_cuda(n, B, k);
        link_loss_cuda(kind, n, d, f32(Z), B, k, i32(u_idx), i32(pos_idx), i32(neg_idx), inv_temp,
                       f32m(dZ), f32m(loss_accum), scratch(dev, bytes), bytes, stream_of(dev));
      });
}

void score_loss(LossKind kind, const Tensor& scores, Tensor& d_scores, Tensor& loss_accum) {
  constexpr const char* op = "score_loss";
  expect_matrix(scores, op, "scores");
  expect_dtype(d_scores, DType::kF32, op, "d_scores");
  expect_dtype(loss_accum, DType::kF32, op, "loss_accum");
  const Device dev = scores.device();
  expect_device(d_scores, dev, op, "d_scores");
  expect_device(loss_accum, dev, op, "loss_accum");
  expect_shape(d_scores, scores.shape(), op, "d_scores");
  GNNREC_EXPECTS(loss_accum.numel() == 1, "{}: loss_accum must hold one value", op);
  const int64_t B = scores.dim(0), k = scores.dim(1) - 1;
  GNNREC_EXPECTS(k >= 0 && (kind != LossKind::kBpr || k >= 1),
                 "{}: scores {} need a positive column and (BPR) at least one negative", op,
                 shape_str(scores.shape()));
  GNNREC_DISPATCH(dev, score_loss_cpu(kind, B, k, f32(scores), f32m(d_scores), f32m(loss_accum)), {
    const size_t bytes = score_loss_workspace_bytes_cuda(B);
    score_loss_cuda(kind, B, k, f32(scores), f32m(d_scores), f32m(loss_accum), scratch(dev, bytes),
                    bytes, stream_of(dev));
  });
}

void pair_scores(const Tensor& Za, const Tensor& a_idx, const Tensor& Zb, const Tensor& b_idx,
                 float inv_temp, Tensor& out) {
  constexpr const char* op = "pair_scores";
  expect_matrix(Za, op, "Za");
  expect_matrix(Zb, op, "Zb");
  expect_index(a_idx, op, "a_idx");
  expect_index(b_idx, op, "b_idx");
  expect_dtype(out, DType::kF32, op, "out");
  const Device dev = out.device();
  for (const Tensor* t : {&Za, &Zb, &a_idx, &b_idx}) expect_device(*t, dev, op, "input");
  const int64_t P = a_idx.numel(), d = Za.dim(1);
  GNNREC_EXPECTS(Zb.dim(1) == d, "{}: Za has {} columns, Zb {}", op, d, Zb.dim(1));
  GNNREC_EXPECTS(b_idx.numel() == P && out.numel() == P,
                 "{}: a_idx, b_idx and out must have the same length ({}, {}, {})", op, P,
                 b_idx.numel(), out.numel());
  check_range(a_idx, Za.dim(0), op, "a_idx");
  check_range(b_idx, Zb.dim(0), op, "b_idx");
  GNNREC_DISPATCH(
      dev, pair_scores_cpu(P, d, f32(Za), i32(a_idx), f32(Zb), i32(b_idx), inv_temp, f32m(out)),
      pair_scores_cuda(P, d, f32(Za), i32(a_idx), f32(Zb), i32(b_idx), inv_temp, f32m(out),
                       stream_of(dev)));
}

void expand_link_pairs(const Tensor& u_idx, const Tensor& pos_idx, const Tensor& neg_idx,
                       Tensor& a_idx, Tensor& b_idx) {
  constexpr const char* op = "expand_link_pairs";
  for (const Tensor* t :
       std::initializer_list<const Tensor*>{&u_idx, &pos_idx, &neg_idx, &a_idx, &b_idx}) {
    expect_index(*t, op, "index");
    expect_device(*t, a_idx.device(), op, "index");
  }
  const int64_t B = u_idx.numel();
  GNNREC_EXPECTS(pos_idx.numel() == B && neg_idx.ndim() == 2 && neg_idx.dim(0) == B,
                 "{}: u {}, pos {}, neg {} must be [B], [B], [B, k]", op, shape_str(u_idx.shape()),
                 shape_str(pos_idx.shape()), shape_str(neg_idx.shape()));
  const int64_t k = neg_idx.dim(1);
  GNNREC_EXPECTS(a_idx.numel() == B * (1 + k) && b_idx.numel() == B * (1 + k),
                 "{}: a_idx and b_idx need {} entries", op, B * (1 + k));
  GNNREC_DISPATCH(
      a_idx.device(),
      expand_link_pairs_cpu(B, k, i32(u_idx), i32(pos_idx), i32(neg_idx), a_idx.data<int32_t>(),
                            b_idx.data<int32_t>()),
      expand_link_pairs_cuda(B, k, i32(u_idx), i32(pos_idx), i32(neg_idx), a_idx.data<int32_t>(),
                             b_idx.data<int32_t>(), stream_of(a_idx.device())));
}

// ---- Embeddings ---------------------------------------------------------------------------------

void embedding_gather(const Tensor& table, const Tensor& ids, Tensor& out, bool accumulate) {
  constexpr const char* op = "embedding_gather";
  expect_matrix(table, op, "table");
  expect_matrix(out, op, "out");
  expect_index(ids, op, "ids");
  const Device dev = out.device();
  expect_device(table, dev, op, "table");
  expect_device(ids, dev, op, "ids");
  const int64_t r = ids.numel(), d = table.dim(1);
  expect_shape(out, {r, d}, op, "out");
  check_range(ids, table.dim(0), op, "ids");
  GNNREC_DISPATCH(
      dev, embedding_gather_cpu(r, d, f32(table), i32(ids), f32m(out), accumulate),
      embedding_gather_cuda(r, d, f32(table), i32(ids), f32m(out), accumulate, stream_of(dev)));
}

namespace {
// out[i] (= or +=) sum of rows[s] over slots s with keys[s] == i (slot order), through
// group_by_row + csr_gather_rows; scratch from the arena.
void scatter_rows(const int32_t* keys, int64_t count, int64_t n, int64_t d, const float* rows,
                  float* out, bool accumulate, Device dev) {
  GNNREC_DISPATCH(
      dev,
      {
        WorkspaceCarve c(nullptr);
        c.take<int32_t>(n + 1);
        c.take<int32_t>(count);
        WorkspaceCarve w(scratch(dev, c.used()));
        int32_t* row_ptr = w.take<int32_t>(n + 1);
        int32_t* order = w.take<int32_t>(count);
        group_by_row_cpu(keys, count, n, row_ptr, order);
        csr_gather_rows_cpu(n, d, row_ptr, order, nullptr, nullptr, rows, d, out, d, accumulate);
      },
      {
        const size_t group_bytes = group_by_row_workspace_bytes_cuda(count, n);
        WorkspaceCarve c(nullptr);
        c.take<int32_t>(n + 1);
        c.take<int32_t>(count);
        c.take_bytes(group_bytes);
        WorkspaceCarve w(scratch(dev, c.used()));
        int32_t* row_ptr = w.take<int32_t>(n + 1);
        int32_t* order = w.take<int32_t>(count);
        void* gws = w.take_bytes(group_bytes);
        group_by_row_cuda(keys, count, n, row_ptr, order, gws, group_bytes, stream_of(dev));
        csr_gather_rows_cuda(n, d, row_ptr, order, nullptr, nullptr, rows, d, out, d, accumulate,
                             stream_of(dev));
      });
}
}  // namespace

void embedding_scatter_add(const Tensor& ids, const Tensor& grad_rows, Tensor& out,
                           bool accumulate) {
  constexpr const char* op = "embedding_scatter_add";
  expect_index(ids, op, "ids");
  expect_matrix(grad_rows, op, "grad_rows");
  expect_matrix(out, op, "out");
  const Device dev = out.device();
  expect_device(ids, dev, op, "ids");
  expect_device(grad_rows, dev, op, "grad_rows");
  const int64_t r = ids.numel(), n = out.dim(0), d = out.dim(1);
  expect_shape(grad_rows, {r, d}, op, "grad_rows");
  check_range(ids, n, op, "ids");
  scatter_rows(i32(ids), r, n, d, f32(grad_rows), f32m(out), accumulate, dev);
}

// ---- MLP head -----------------------------------------------------------------------------------

namespace {
struct MlpDims {
  int64_t P, n, d, h;
};
MlpDims check_mlp(const char* op, const Tensor& Z, const Tensor& a_idx, const Tensor& b_idx,
                  const Tensor& W1, const Tensor& W2) {
  expect_matrix(Z, op, "Z");
  expect_matrix(W1, op, "W1");
  expect_matrix(W2, op, "W2");
  expect_index(a_idx, op, "a_idx");
  expect_index(b_idx, op, "b_idx");
  const Device dev = Z.device();
  for (const Tensor* t : {&a_idx, &b_idx, &W1, &W2}) expect_device(*t, dev, op, "input");
  MlpDims m{a_idx.numel(), Z.dim(0), Z.dim(1), W1.dim(1)};
  GNNREC_EXPECTS(m.d >= 1, "{}: Z needs at least one column", op);
  GNNREC_EXPECTS(b_idx.numel() == m.P, "{}: a_idx has {} entries, b_idx {}", op, m.P,
                 b_idx.numel());
  expect_shape(W1, {3 * m.d, m.h}, op, "W1");
  expect_shape(W2, {m.h, 1}, op, "W2");
  check_range(a_idx, m.n, op, "a_idx");
  check_range(b_idx, m.n, op, "b_idx");
  return m;
}
}  // namespace

void mlp_head_forward(const Tensor& Z, const Tensor& a_idx, const Tensor& b_idx, const Tensor& W1,
                      const Tensor& b1, const Tensor& W2, const Tensor& b2, Tensor& scores,
                      MlpHeadCache& cache) {
  constexpr const char* op = "mlp_head_forward";
  GNNREC_NVTX_RANGE("mlp_head_forward");
  const MlpDims m = check_mlp(op, Z, a_idx, b_idx, W1, W2);
  const Device dev = Z.device();
  expect_dtype(scores, DType::kF32, op, "scores");
  expect_device(scores, dev, op, "scores");
  GNNREC_EXPECTS(scores.numel() == m.P, "{}: scores has {} values, expected {}", op, scores.numel(),
                 m.P);
  ensure(cache.x, {m.P, 3 * m.d}, DType::kF32, dev);
  ensure(cache.h, {m.P, m.h}, DType::kF32, dev);
  GNNREC_DISPATCH(
      dev, mlp_head_input_cpu(m.P, m.d, f32(Z), i32(a_idx), i32(b_idx), f32m(cache.x)),
      mlp_head_input_cuda(m.P, m.d, f32(Z), i32(a_idx), i32(b_idx), f32m(cache.x), stream_of(dev)));
  gemm(cache.x, false, W1, false, cache.h, 1.0f, 0.0f, &b1, Epilogue::kBiasRelu);
  Tensor s2 = scores.reshape({m.P, 1});
  gemm(cache.h, false, W2, false, s2, 1.0f, 0.0f, &b2, Epilogue::kBias);
}

void mlp_head_backward(const Tensor& Z, const Tensor& a_idx, const Tensor& b_idx, const Tensor& W1,
                       const Tensor& W2, const MlpHeadCache& cache, const Tensor& d_scores,
                       Tensor& dW1, Tensor& db1, Tensor& dW2, Tensor& db2, Tensor& dZ,
                       bool accumulate) {
  constexpr const char* op = "mlp_head_backward";
  GNNREC_NVTX_RANGE("mlp_head_backward");
  const MlpDims m = check_mlp(op, Z, a_idx, b_idx, W1, W2);
  const Device dev = Z.device();
  GNNREC_EXPECTS(cache.x.defined() && cache.h.defined(),
                 "{}: the cache is empty (run mlp_head_forward first)", op);
  expect_shape(cache.x, {m.P, 3 * m.d}, op, "cache.x");
  expect_shape(cache.h, {m.P, m.h}, op, "cache.h");
  expect_dtype(d_scores, DType::kF32, op, "d_scores");
  GNNREC_EXPECTS(d_scores.numel() == m.P, "{}: d_scores has {} values, expected {}", op,
                 d_scores.numel(), m.P);
  expect_shape(dW1, W1.shape(), op, "dW1");
  expect_shape(dW2, W2.shape(), op, "dW2");
  GNNREC_EXPECTS(db1.numel() == m.h && db2.numel() == 1, "{}: db1 needs {} values, db2 one", op,
                 m.h);
  expect_matrix(dZ, op, "dZ");
  expect_shape(dZ, Z.shape(), op, "dZ");
  const Tensor ds = d_scores.reshape({m.P, 1});
  Tensor dh = Tensor::empty({m.P, m.h}, DType::kF32, dev, stream_of(dev));
  gemm(ds, false, W2, true, dh);
  relu_backward(cache.h, dh, dh);
  gemm(cache.h, true, ds, false, dW2);
  Tensor db2v = db2.reshape({1});
  column_sum(ds, db2v);
  gemm(cache.x, true, dh, false, dW1);
  Tensor db1v = db1.reshape({m.h});
  column_sum(dh, db1v);
  Tensor dx = Tensor::empty({m.P, 3 * m.d}, DType::kF32, dev, stream_of(dev));
  gemm(dh, false, W1, true, dx);
  Tensor slot_grad = Tensor::empty({2 * m.P, m.d}, DType::kF32, dev, stream_of(dev));
  Tensor keys = Tensor::empty({2 * m.P}, DType::kI32, dev, stream_of(dev));
  GNNREC_DISPATCH(
      dev,
      mlp_head_input_backward_cpu(m.P, m.d, f32(Z), i32(a_idx), i32(b_idx), f32(dx),
                                  f32m(slot_grad), keys.data<int32_t>()),
      mlp_head_input_backward_cuda(m.P, m.d, f32(Z), i32(a_idx), i32(b_idx), f32(dx),
                                   f32m(slot_grad), keys.data<int32_t>(), stream_of(dev)));
  scatter_rows(i32(keys), 2 * m.P, m.n, m.d, f32(slot_grad), f32m(dZ), accumulate, dev);
}

// ---- Optimisers ---------------------------------------------------------------------------------

void adam_step(const std::vector<Tensor*>& params, const std::vector<const Tensor*>& grads,
               const std::vector<Tensor*>& m, const std::vector<Tensor*>& v, const AdamConfig& cfg,
               int64_t step) {
  constexpr const char* op = "adam_step";
  GNNREC_NVTX_RANGE("adam_step");
  GNNREC_EXPECTS(step >= 1, "{}: step is 1-based, got {}", op, step);
  GNNREC_EXPECTS(
      grads.size() == params.size() && m.size() == params.size() && v.size() == params.size(),
      "{}: {} params, {} grads, {} m, {} v", op, params.size(), grads.size(), m.size(), v.size());
  if (params.empty()) return;
  const Device dev = params[0]->device();
  std::vector<AdamTensor> ts;
  for (size_t i = 0; i < params.size(); ++i) {
    for (const Tensor* t : {static_cast<const Tensor*>(params[i]), grads[i],
                            static_cast<const Tensor*>(m[i]), static_cast<const Tensor*>(v[i])}) {
      expect_dtype(*t, DType::kF32, op, "tensor");
      expect_device(*t, dev, op, "tensor");
      GNNREC_EXPECTS(t->numel() == params[i]->numel(),
                     "{}: parameter {} has {} values but its grad/m/v has {}", op, i,
                     params[i]->numel(), t->numel());
    }
    ts.push_back({params[i]->data<float>(), grads[i]->data<float>(), m[i]->data<float>(),
                  v[i]->data<float>(), params[i]->numel()});
  }
  const AdamStepScalars s = adam_step_scalars(cfg, step);
  const int n = static_cast<int>(ts.size());
  GNNREC_DISPATCH(dev, adam_step_cpu(ts.data(), n, s), {
    const size_t bytes = adam_step_workspace_bytes_cuda(ts.data(), n);
    adam_step_cuda(ts.data(), n, s, scratch(dev, bytes), bytes, stream_of(dev));
  });
}

void sparse_adam_step(Tensor& table, Tensor& m, Tensor& v, const Tensor& ids,
                      const Tensor& grad_rows, const AdamConfig& cfg, int64_t step, float l2) {
  constexpr const char* op = "sparse_adam_step";
  GNNREC_NVTX_RANGE("sparse_adam_step");
  GNNREC_EXPECTS(step >= 1, "{}: step is 1-based, got {}", op, step);
  expect_matrix(table, op, "table");
  expect_matrix(grad_rows, op, "grad_rows");
  expect_index(ids, op, "ids");
  const Device dev = table.device();
  for (const Tensor* t : {&m, &v}) {
    expect_dtype(*t, DType::kF32, op, "moment");
    expect_device(*t, dev, op, "moment");
    expect_shape(*t, table.shape(), op, "moment");
  }
  expect_device(ids, dev, op, "ids");
  expect_device(grad_rows, dev, op, "grad_rows");
  const int64_t r = ids.numel(), n = table.dim(0), d = table.dim(1);
  expect_shape(grad_rows, {r, d}, op, "grad_rows");
  check_range(ids, n, op, "ids");
  if (dev.is_cpu()) {
    std::vector<bool> seen(static_cast<size_t>(n), false);
    for (int64_t i = 0; i < r; ++i) {
      const int32_t id = ids.data<int32_t>()[i];
      GNNREC_EXPECTS(!seen[id], "{}: ids must be unique, row {} appears twice", op, id);
      seen[id] = true;
    }
  }
  const AdamStepScalars s = adam_step_scalars(cfg, step);
  GNNREC_DISPATCH(
      dev,
      sparse_adam_step_cpu(r, d, i32(ids), f32(grad_rows), f32m(table), f32m(m), f32m(v), s, l2),
      sparse_adam_step_cuda(r, d, i32(ids), f32(grad_rows), f32m(table), f32m(m), f32m(v), s, l2,
                            stream_of(dev)));
}

void sgd_step(Tensor& param, const Tensor& grad, float lr, float weight_decay) {
  constexpr const char* op = "sgd_step";
  expect_dtype(param, DType::kF32, op, "param");
  expect_dtype(grad, DType::kF32, op, "grad");
  expect_device(grad, param.device(), op, "grad");
  GNNREC_EXPECTS(grad.numel() == param.numel(), "{}: param has {} values, grad {}", op,
                 param.numel(), grad.numel());
  GNNREC_DISPATCH(param.device(),
                  sgd_step_cpu(param.numel(), f32m(param), f32(grad), lr, weight_decay),
                  sgd_step_cuda(param.numel(), f32m(param), f32(grad), lr, weight_decay,
                                stream_of(param.device())));
}

double sum_of_squares(const std::vector<const Tensor*>& ts) {
  constexpr const char* op = "sum_of_squares";
  if (ts.empty()) return 0.0;
  const Device dev = ts[0]->device();
  std::vector<const float*> ptrs;
  std::vector<int64_t> sizes;
  for (const Tensor* t : ts) {
    expect_dtype(*t, DType::kF32, op, "tensor");
    expect_device(*t, dev, op, "tensor");
    ptrs.push_back(t->data<float>());
    sizes.push_back(t->numel());
  }
  double total = 0.0;
  GNNREC_DISPATCH(
      dev,
      {
        for (size_t i = 0; i < ts.size(); ++i) total += sum_of_squares_cpu(ptrs[i], sizes[i]);
      },
      {
        const int n = static_cast<int>(ts.size());
        const size_t part = sum_of_squares_workspace_bytes_cuda(n);
        char* ws = static_cast<char*>(scratch(dev, part + sizeof(double)));
        auto* result = reinterpret_cast<double*>(ws + part);
        sum_of_squares_cuda(ptrs.data(), sizes.data(), n, result, ws, part, stream_of(dev));
        copy_bytes(&total, Device::cpu(), result, dev, sizeof(double), stream_of(dev));
      });
  return total;
}

}  // namespace gnnrec
