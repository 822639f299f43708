#include "runtime/ops_index.h"

#include "kernels/index.h"
#include "runtime/dispatch.h"

namespace gnnrec {

using detail::expect_device;
using detail::expect_dtype;
using detail::stream_of;

void add_offset(const Tensor& src, int32_t offset, Tensor& out) {
  expect_dtype(src, DType::kI32, "add_offset", "src");
  expect_dtype(out, DType::kI32, "add_offset", "out");
  expect_device(src, out.device(), "add_offset", "src");
  GNNREC_EXPECTS(out.numel() == src.numel(), "add_offset: {} vs {} elements", src.numel(),
                 out.numel());
  GNNREC_DISPATCH(out.device(),
                  add_offset_i32_cpu(src.numel(), src.data<int32_t>(), offset, out.data<int32_t>()),
                  add_offset_i32_cuda(src.numel(), src.data<int32_t>(), offset,
                                      out.data<int32_t>(), stream_of(out.device())));
}

void gather_ids(const Tensor& table, const Tensor& idx, Tensor& out) {
  expect_dtype(table, DType::kI32, "gather_ids", "table");
  expect_dtype(idx, DType::kI64, "gather_ids", "idx");
  expect_dtype(out, DType::kI32, "gather_ids", "out");
  expect_device(table, out.device(), "gather_ids", "table");
  expect_device(idx, out.device(), "gather_ids", "idx");
  GNNREC_EXPECTS(out.numel() == idx.numel(), "gather_ids: {} indices, {} outputs", idx.numel(),
                 out.numel());
  GNNREC_DISPATCH(out.device(),
                  gather_i32_cpu(idx.numel(), table.data<int32_t>(), idx.data<int64_t>(),
                                 out.data<int32_t>()),
                  gather_i32_cuda(idx.numel(), table.data<int32_t>(), idx.data<int64_t>(),
                                  out.data<int32_t>(), stream_of(out.device())));
}

void gather_node_features(const Tensor& nodes, int32_t num_users, const Tensor& xu,
                          const Tensor& xi, Tensor& out) {
  expect_dtype(nodes, DType::kI32, "gather_node_features", "nodes");
  expect_dtype(xu, DType::kF32, "gather_node_features", "xu");
  expect_dtype(xi, DType::kF32, "gather_node_features", "xi");
  expect_dtype(out, DType::kF32, "gather_node_features", "out");
  const int64_t fu = xu.ndim() == 2 ? xu.dim(1) : 0, fi = xi.ndim() == 2 ? xi.dim(1) : 0;
  GNNREC_EXPECTS(out.ndim() == 2 && out.dim(0) == nodes.numel() && out.dim(1) == fu + fi,
                 "gather_node_features: out {} should be [{}, {}]", shape_str(out.shape()),
                 nodes.numel(), fu + fi);
  const Device d = out.device();
  expect_device(nodes, d, "gather_node_features", "nodes");
  expect_device(xu, d, "gather_node_features", "xu");
  expect_device(xi, d, "gather_node_features", "xi");
  const float* pu = fu ? xu.data<float>() : nullptr;
  const float* pi = fi ? xi.data<float>() : nullptr;
  GNNREC_DISPATCH(d,
                  gather_node_features_cpu(nodes.numel(), nodes.data<int32_t>(), num_users, pu, fu,
                                           pi, fi, out.data<float>()),
                  gather_node_features_cuda(nodes.numel(), nodes.data<int32_t>(), num_users, pu,
                                            fu, pi, fi, out.data<float>(), stream_of(d)));
}

void scatter_rows(const Tensor& src, const Tensor& ids, Tensor& dst) {
  expect_dtype(src, DType::kF32, "scatter_rows", "src");
  expect_dtype(ids, DType::kI32, "scatter_rows", "ids");
  expect_dtype(dst, DType::kF32, "scatter_rows", "dst");
  GNNREC_EXPECTS(src.ndim() == 2 && dst.ndim() == 2 && src.dim(1) == dst.dim(1) &&
                     src.dim(0) == ids.numel(),
                 "scatter_rows: src {}, ids {}, dst {}", shape_str(src.shape()),
                 shape_str(ids.shape()), shape_str(dst.shape()));
  expect_device(src, dst.device(), "scatter_rows", "src");
  expect_device(ids, dst.device(), "scatter_rows", "ids");
  GNNREC_DISPATCH(dst.device(),
                  scatter_rows_cpu(src.dim(0), src.dim(1), src.data<float>(), ids.data<int32_t>(),
                                   dst.data<float>()),
                  scatter_rows_cuda(src.dim(0), src.dim(1), src.data<float>(),
                                    ids.data<int32_t>(), dst.data<float>(),
                                    stream_of(dst.device())));
}

void zero_rows(const Tensor& ids, Tensor& x) {
  expect_dtype(ids, DType::kI32, "zero_rows", "ids");
  expect_dtype(x, DType::kF32, "zero_rows", "x");
  expect_device(ids, x.device(), "zero_rows", "ids");
  GNNREC_EXPECTS(x.ndim() == 2, "zero_rows: x must be 2-D");
  GNNREC_DISPATCH(x.device(),
                  zero_rows_cpu(ids.numel(), x.dim(1), ids.data<int32_t>(), x.data<float>()),
                  zero_rows_cuda(ids.numel(), x.dim(1), ids.data<int32_t>(), x.data<float>(),
                                 stream_of(x.device())));
}

}  // namespace gnnrec
