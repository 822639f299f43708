// The device graph and the tensor-level graph ops (see runtime/graph.h): argument checks, output
// and workspace allocation on the context stream, and backend dispatch. Algorithms live in the
// kernels (kernels/sample.h, negative.h, permute.h, spmm.h).
#include "runtime/graph.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>

#include "kernels/negative.h"
#include "kernels/permute.h"
#include "runtime/dispatch.h"
#include "runtime/nvtx.h"

namespace gnnrec {

using detail::expect_device;
using detail::expect_dtype;
using detail::stream_of;

namespace {

Tensor alloc(const Shape& shape, DType dtype, Device device) {
  return Tensor::empty(shape, dtype, device, stream_of(device));
}

// A scratch buffer of `bytes` on `device`, freed (stream-ordered) when it goes out of scope.
Tensor scratch(size_t bytes, Device device) {
  return alloc({static_cast<int64_t>(std::max<size_t>(bytes, 1))}, DType::kU8, device);
}

int32_t read_i32(const int32_t* p, Device device) {
  int32_t v = 0;
  copy_bytes(&v, Device::cpu(), p, device, sizeof(v), stream_of(device));
  return v;
}

void expect_1d(const Tensor& t, const char* op, const char* name) {
  GNNREC_EXPECTS(t.ndim() == 1, "{}: {} must be 1-D, got shape {}", op, name, shape_str(t.shape()));
}

// Host node map and bitmap kept between sample_build_cpu calls (all -1 / all 0 between calls),
// one set per thread so concurrent samplers do not share them.
struct CpuSampleScratch {
  std::vector<int32_t> node_map;
  std::vector<uint64_t> node_bits;
  void ensure(int64_t num_nodes) {
    if (static_cast<int64_t>(node_map.size()) < num_nodes) node_map.resize(num_nodes, -1);
    const int64_t words = (num_nodes + 63) / 64;
    if (static_cast<int64_t>(node_bits.size()) < words) node_bits.resize(words, 0);
  }
};

CpuSampleScratch& cpu_sample_scratch() {
  thread_local CpuSampleScratch s;
  return s;
}

// Sorts each row's (neighbour, edge id) entries; builds the unified CSR on the host.
DeviceGraph build_graph(int64_t num_users, int64_t num_items, const std::vector<int32_t>& users,
                        const std::vector<int32_t>& items) {
  const int64_t E = static_cast<int64_t>(users.size());
  const int64_t N = num_users + num_items;
  GNNREC_EXPECTS(num_users >= 0 && num_items >= 0 && N < std::numeric_limits<int32_t>::max(),
                 "make_device_graph: {} users + {} items do not fit int32 node ids", num_users,
                 num_items);
  GNNREC_EXPECTS(2 * E < std::numeric_limits<int32_t>::max(),
                 "make_device_graph: {} training edges exceed the sampler's int32 positions", E);
  DeviceGraph g;
  g.num_users = num_users;
  g.num_items = num_items;
  g.num_nodes = N;
  g.num_edges = E;
  g.device = Device::cpu();
  g.indptr = Tensor::zeros({N + 1}, DType::kI64);
  g.indices = Tensor::empty({2 * E}, DType::kI32);
  g.edge_ids = Tensor::empty({2 * E}, DType::kI64);
  g.user_pos = Tensor::empty({E}, DType::kI64);
  g.item_pos = Tensor::empty({E}, DType::kI64);
  g.degree_f = Tensor::empty({N}, DType::kF32);
  int64_t* indptr = g.indptr.data<int64_t>();
  for (int64_t e = 0; e < E; ++e) {
    GNNREC_EXPECTS(users[e] >= 0 && users[e] < num_users && items[e] >= 0 && items[e] < num_items,
                   "make_device_graph: edge {} = (user {}, item {}) is outside {} users, {} items",
                   e, users[e], items[e], num_users, num_items);
    ++indptr[users[e] + 1];
    ++indptr[num_users + items[e] + 1];
  }
  for (int64_t n = 0; n < N; ++n) indptr[n + 1] += indptr[n];
  std::vector<int64_t> cursor(indptr, indptr + N);
  int32_t* indices = g.indices.data<int32_t>();
  int64_t* edge_ids = g.edge_ids.data<int64_t>();
  // Edges in id order: rows come out sorted by edge id, then are sorted by neighbour (stable).
  for (int64_t e = 0; e < E; ++e) {
    const int64_t pu = cursor[users[e]]++, pi = cursor[num_users + items[e]]++;
    indices[pu] = static_cast<int32_t>(num_users + items[e]);
    edge_ids[pu] = e;
    indices[pi] = users[e];
    edge_ids[pi] = e;
  }
  int64_t* user_pos = g.user_pos.data<int64_t>();
  int64_t* item_pos = g.item_pos.data<int64_t>();
  float* degree = g.degree_f.data<float>();
#pragma omp parallel
  {
    std::vector<std::pair<int32_t, int64_t>> row;
#pragma omp for schedule(dynamic, 1024)
    for (int64_t n = 0; n < N; ++n) {
      const int64_t lo = indptr[n], hi = indptr[n + 1];
      degree[n] = static_cast<float>(hi - lo);
      bool sorted = true;
      for (int64_t p = lo + 1; p < hi && sorted; ++p) sorted = indices[p - 1] <= indices[p];
      if (!sorted) {
        row.clear();
        for (int64_t p = lo; p < hi; ++p) row.emplace_back(indices[p], edge_ids[p]);
        std::sort(row.begin(), row.end());
        for (int64_t p = lo; p < hi; ++p) {
          indices[p] = row[p - lo].first;
          edge_ids[p] = row[p - lo].second;
        }
      }
      for (int64_t p = lo; p < hi; ++p) (n < num_users ? user_pos : item_pos)[edge_ids[p]] = p;
    }
  }
  return g;
}

}  // namespace

GraphView DeviceGraph::view() const {
  GraphView v;
  v.num_nodes = num_nodes;
  v.num_edges = num_edges;
  v.indptr = indptr.data<int64_t>();
  v.indices = indices.data<int32_t>();
  return v;
}

DeviceGraph DeviceGraph::to(Device d) const {
  DeviceGraph g = *this;
  const Stream s = stream_of(d.is_cuda() ? d : device);
  g.device = d;
  for (Tensor* t : {&g.indptr, &g.indices, &g.edge_ids, &g.user_pos, &g.item_pos, &g.degree_f})
    *t = t->to(d, s);
  return g;
}

DeviceGraph make_device_graph(int64_t num_users, int64_t num_items,
                              const std::vector<int32_t>& users, const std::vector<int32_t>& items,
                              Device device) {
  GNNREC_EXPECTS(users.size() == items.size(), "make_device_graph: {} users vs {} items",
                 users.size(), items.size());
  DeviceGraph g = build_graph(num_users, num_items, users, items);
  return device.is_cpu() ? g : g.to(device);
}

DeviceGraph make_device_graph(const Dataset& ds, Device device) {
  const Csr& ui = ds.user_items;
  const Csr& iu = ds.item_users;
  GNNREC_EXPECTS(ui.rows() == ds.num_users && iu.rows() == ds.num_items,
                 "make_device_graph: CSR rows ({} user, {} item) differ from the dataset's {} "
                 "users and {} items",
                 ui.rows(), iu.rows(), ds.num_users, ds.num_items);
  const int64_t E = ui.nnz();
  GNNREC_EXPECTS(iu.nnz() == E && static_cast<int64_t>(ui.edge_ids.size()) == E &&
                     static_cast<int64_t>(iu.edge_ids.size()) == E,
                 "make_device_graph: user->item CSR has {} entries ({} edge ids), item->user CSR "
                 "{} ({} edge ids)",
                 E, ui.edge_ids.size(), iu.nnz(), iu.edge_ids.size());
  std::vector<int32_t> users(E, -1), items(E, -1);
  for (int64_t u = 0; u < ui.rows(); ++u) {
    for (int64_t p = ui.indptr[u]; p < ui.indptr[u + 1]; ++p) {
      const int64_t e = ui.edge_ids[p];
      GNNREC_EXPECTS(e >= 0 && e < E && users[e] < 0,
                     "make_device_graph: user->item CSR edge id {} (user {}) is out of range or "
                     "repeated",
                     e, u);
      users[e] = static_cast<int32_t>(u);
      items[e] = ui.indices[p];
    }
  }
  std::vector<char> seen(E, 0);
  for (int64_t i = 0; i < iu.rows(); ++i) {
    for (int64_t p = iu.indptr[i]; p < iu.indptr[i + 1]; ++p) {
      const int64_t e = iu.edge_ids[p];
      GNNREC_EXPECTS(e >= 0 && e < E && !seen[e] && items[e] == i && users[e] == iu.indices[p],
                     "make_device_graph: item->user CSR entry (item {}, user {}, edge {}) does "
                     "not match the user->item CSR",
                     i, iu.indices[p], e);
      seen[e] = 1;
    }
  }
  return make_device_graph(ds.num_users, ds.num_items, users, items, device);
}

// ---------------------------------------------------------------------------------------------
// Sampling

std::vector<Block> sample_blocks(const DeviceGraph& g, const Tensor& seeds,
                                 const std::vector<int>& fanouts, const Tensor& excluded_edges,
                                 const RngKey& key) {
  const char* op = "sample_blocks";
  GNNREC_NVTX_RANGE("sample_blocks");
  const Device dev = g.device;
  expect_dtype(seeds, DType::kI32, op, "seeds");
  expect_1d(seeds, op, "seeds");
  expect_device(seeds, dev, op, "seeds");
  GNNREC_EXPECTS(!fanouts.empty() && static_cast<int>(fanouts.size()) <= kMaxHops,
                 "{}: need 1..{} fanouts, got {}", op, kMaxHops, fanouts.size());
  for (int f : fanouts)
    GNNREC_EXPECTS(f < kMaxFanout, "{}: fanout {} is above the limit {}", op, f, kMaxFanout);
  const bool has_excl = excluded_edges.defined() && excluded_edges.numel() > 0;
  if (has_excl) {
    expect_dtype(excluded_edges, DType::kI64, op, "excluded_edges");
    expect_device(excluded_edges, dev, op, "excluded_edges");
  }
  if (dev.is_cpu()) {
    const int32_t* s = seeds.data<int32_t>();
    for (int64_t i = 0; i < seeds.numel(); ++i)
      GNNREC_EXPECTS(s[i] >= 0 && s[i] < g.num_nodes,
                     "{}: seed {} at position {} is not a node "
                     "id (0..{})",
                     op, s[i], i, g.num_nodes - 1);
    if (has_excl) {
      const int64_t* e = excluded_edges.data<int64_t>();
      for (int64_t i = 0; i < excluded_edges.numel(); ++i)
        GNNREC_EXPECTS(e[i] >= 0 && e[i] < g.num_edges,
                       "{}: excluded edge id {} at position {} "
                       "is outside 0..{}",
                       op, e[i], i, g.num_edges - 1);
    }
  }
  const Stream stream = stream_of(dev);
  const GraphView gv = g.view();

  // Excluded positions, shared by every hop.
  const int64_t m = has_excl ? excluded_edges.numel() : 0;
  Tensor excl_pos;
  Exclusions ex;
  if (m > 0) {
    excl_pos = alloc({2 * m}, DType::kI64, dev);
    const int64_t* eids = excluded_edges.data<int64_t>();
    const int64_t* up = g.user_pos.data<int64_t>();
    const int64_t* ip = g.item_pos.data<int64_t>();
    int64_t* out = excl_pos.data<int64_t>();
    GNNREC_DISPATCH(dev, sample_exclusions_cpu(m, eids, up, ip, g.num_edges, out), {
      const size_t bytes = sample_exclusions_workspace_bytes_cuda(m);
      Tensor ws = scratch(bytes, dev);
      sample_exclusions_cuda(m, eids, up, ip, g.num_edges, out, ws.raw(), bytes, stream);
    });
    ex.pos = out;
    ex.n = 2 * m;
  }

  std::vector<Block> blocks;
  Tensor dst = seeds;
  int64_t num_dst = seeds.numel();
  constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
  // Above this many entries the GPU reads nnz back instead of allocating num_dst * fanout.
  constexpr int64_t kMaxBoundCapacity = int64_t{1} << 24;
  for (size_t hop = 0; hop < fanouts.size(); ++hop) {
    const int fanout = fanouts[hop];
    Block b;
    b.num_dst = num_dst;
    b.indptr = alloc({num_dst + 1}, DType::kI32, dev);
    const int32_t* dst_ptr = dst.data<int32_t>();
    int32_t* indptr = b.indptr.data<int32_t>();
    GNNREC_DISPATCH(dev, sample_count_cpu(gv, ex, dst_ptr, num_dst, fanout, indptr), {
      const size_t bytes = sample_count_workspace_bytes_cuda(num_dst);
      Tensor ws = scratch(bytes, dev);
      sample_count_cuda(gv, ex, dst_ptr, num_dst, fanout, indptr, ws.raw(), bytes, stream);
    });
    int64_t cap;
    if (dev.is_cuda() && fanout > 0 && num_dst * fanout <= kMaxBoundCapacity) {
      cap = num_dst * fanout;
    } else {
      cap = dev.is_cpu() ? indptr[num_dst] : read_i32(indptr + num_dst, dev);
    }
    GNNREC_EXPECTS(num_dst + cap + 1 <= kInt32Max,
                   "{}: hop {} would hold {} dst nodes and up to {} sampled edges, beyond int32 "
                   "block indices",
                   op, hop, num_dst, cap);
    Tensor src = alloc({num_dst + cap}, DType::kI32, dev);
    Tensor indices = alloc({cap}, DType::kI32, dev);
    Tensor t_indptr = alloc({num_dst + cap + 1}, DType::kI32, dev);
    Tensor t_indices = alloc({cap}, DType::kI32, dev);
    Tensor sizes = alloc({2}, DType::kI32, dev);
    BlockOut out;
    out.indptr = indptr;
    out.src_nodes = src.data<int32_t>();
    out.indices = indices.data<int32_t>();
    out.t_indptr = t_indptr.data<int32_t>();
    out.t_indices = t_indices.data<int32_t>();
    out.sizes = sizes.data<int32_t>();
    const int h = static_cast<int>(hop);
    GNNREC_DISPATCH(
        dev,
        {
          CpuSampleScratch& s = cpu_sample_scratch();
          s.ensure(g.num_nodes);
          sample_build_cpu(gv, ex, dst_ptr, num_dst, fanout, h, key, cap, out, s.node_map.data(),
                           s.node_bits.data());
        },
        {
          const size_t bytes = sample_build_workspace_bytes_cuda(g.num_nodes, num_dst, cap);
          Tensor ws = scratch(bytes, dev);
          sample_build_cuda(gv, ex, dst_ptr, num_dst, fanout, h, key, cap, out, ws.raw(), bytes,
                            stream);
        });
    int32_t host_sizes[2];
    copy_bytes(host_sizes, Device::cpu(), out.sizes, dev, sizeof(host_sizes), stream);
    b.nnz = host_sizes[0];
    b.num_src = host_sizes[1];
    b.src_nodes = src.rows(0, b.num_src);
    b.indices = indices.rows(0, b.nnz);
    b.t_indptr = t_indptr.rows(0, b.num_src + 1);
    b.t_indices = t_indices.rows(0, b.nnz);
    dst = b.src_nodes;
    num_dst = b.num_src;
    blocks.push_back(std::move(b));
  }
  std::reverse(blocks.begin(), blocks.end());
  return blocks;
}

// ---------------------------------------------------------------------------------------------
// Unique, permutation

UniqueResult unique_with_inverse(const Tensor& ids) {
  const char* op = "unique_with_inverse";
  GNNREC_NVTX_RANGE("unique_with_inverse");
  expect_dtype(ids, DType::kI32, op, "ids");
  expect_1d(ids, op, "ids");
  const Device dev = ids.device();
  const int64_t n = ids.numel();
  GNNREC_EXPECTS(n < std::numeric_limits<int32_t>::max(), "{}: {} ids exceed int32 positions", op,
                 n);
  Tensor unique = alloc({n}, DType::kI32, dev);
  UniqueResult r;
  r.inverse = alloc({n}, DType::kI32, dev);
  int32_t count = 0;
  GNNREC_DISPATCH(
      dev,
      {
        Tensor ws = scratch(unique_workspace_bytes_cpu(n), dev);
        unique_with_inverse_cpu(n, ids.data<int32_t>(), unique.data<int32_t>(),
                                r.inverse.data<int32_t>(), &count, ws.raw());
      },
      {
        const size_t bytes = unique_workspace_bytes_cuda(n);
        Tensor ws = scratch(bytes, dev);
        Tensor num = alloc({1}, DType::kI32, dev);
        unique_with_inverse_cuda(n, ids.data<int32_t>(), unique.data<int32_t>(),
                                 r.inverse.data<int32_t>(), num.data<int32_t>(), ws.raw(), bytes,
                                 stream_of(dev));
        count = read_i32(num.data<int32_t>(), dev);
      });
  r.unique = unique.rows(0, count);
  return r;
}

Tensor random_permutation(int64_t n, const RngKey& key, Device device) {
  GNNREC_EXPECTS(n >= 0, "random_permutation: n = {} is negative", n);
  GNNREC_NVTX_RANGE("random_permutation");
  Tensor out = alloc({n}, DType::kI64, device);
  GNNREC_DISPATCH(
      device,
      {
        Tensor ws = scratch(random_permutation_workspace_bytes_cpu(n), device);
        random_permutation_cpu(n, key, out.data<int64_t>(), ws.raw());
      },
      {
        const size_t bytes = random_permutation_workspace_bytes_cuda(n);
        Tensor ws = scratch(bytes, device);
        random_permutation_cuda(n, key, out.data<int64_t>(), ws.raw(), bytes, stream_of(device));
      });
  return out;
}

namespace {

// g.indptr on the host (one copy from the device when g lives on a GPU).
std::vector<int64_t> host_indptr(const DeviceGraph& g) {
  return g.indptr.device().is_cpu()
             ? g.indptr.to_vector<int64_t>()
             : g.indptr.to(Device::cpu(), stream_of(g.device)).to_vector<int64_t>();
}

}  // namespace

UserEdgeSampler make_user_edge_sampler(const DeviceGraph& g) {
  const std::vector<int64_t> indptr = host_indptr(g);
  std::vector<int32_t> active;
  for (int64_t u = 0; u < g.num_users; ++u)
    if (indptr[u + 1] > indptr[u]) active.push_back(static_cast<int32_t>(u));
  UserEdgeSampler us;
  us.num_active = static_cast<int64_t>(active.size());
  us.active = Tensor::from_vector(active).to(g.device, stream_of(g.device));
  us.device = g.device;
  return us;
}

Tensor sample_user_uniform_edges(const UserEdgeSampler& us, const DeviceGraph& g, int64_t n,
                                 const RngKey& key) {
  GNNREC_EXPECTS(n >= 0, "sample_user_uniform_edges: n = {} is negative", n);
  GNNREC_EXPECTS(us.device == g.device, "sample_user_uniform_edges: sampler on {}, graph on {}",
                 us.device.str(), g.device.str());
  GNNREC_EXPECTS(n == 0 || us.num_active > 0,
                 "sample_user_uniform_edges: the graph has no user with a training edge");
  GNNREC_NVTX_RANGE("sample_user_uniform_edges");
  const Device device = g.device;
  Tensor out = alloc({n}, DType::kI64, device);
  const int32_t* active = us.num_active > 0 ? us.active.data<int32_t>() : nullptr;
  GNNREC_DISPATCH(
      device,
      {
        user_uniform_edges_cpu(n, key, active, us.num_active, g.indptr.data<int64_t>(),
                               g.edge_ids.data<int64_t>(), out.data<int64_t>());
      },
      {
        user_uniform_edges_cuda(n, key, active, us.num_active, g.indptr.data<int64_t>(),
                                g.edge_ids.data<int64_t>(), out.data<int64_t>(),
                                stream_of(device));
      });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Negatives

namespace {

// Vose's alias method in double: prob[i] is the chance of keeping column i, alias[i] the other
// outcome. Deterministic (index-ordered work lists), so every run builds the same table.
void build_alias(const std::vector<double>& w, std::vector<float>& prob,
                 std::vector<int32_t>& alias) {
  const int64_t n = static_cast<int64_t>(w.size());
  prob.assign(n, 1.0f);
  alias.resize(n);
  std::iota(alias.begin(), alias.end(), 0);
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  if (!(total > 0)) return;  // all zero: uniform
  std::vector<double> p(n);
  std::vector<int64_t> small, large;
  for (int64_t i = 0; i < n; ++i) {
    p[i] = w[i] * static_cast<double>(n) / total;
    (p[i] < 1.0 ? small : large).push_back(i);
  }
  while (!small.empty() && !large.empty()) {
    const int64_t s = small.back(), l = large.back();
    small.pop_back();
    large.pop_back();
    prob[s] = static_cast<float>(p[s]);
    alias[s] = static_cast<int32_t>(l);
    p[l] = (p[l] + p[s]) - 1.0;
    (p[l] < 1.0 ? small : large).push_back(l);
  }
  // Leftovers are 1 up to rounding.
  for (int64_t i : small) prob[i] = 1.0f;
  for (int64_t i : large) prob[i] = 1.0f;
}

NegativeSampler make_sampler_from_degrees(const std::vector<int64_t>& degree, float alpha,
                                          Device device) {
  GNNREC_EXPECTS(alpha >= 0 && std::isfinite(alpha),
                 "make_negative_sampler: alpha must be a finite number >= 0, got {}", alpha);
  GNNREC_EXPECTS(!degree.empty(), "make_negative_sampler: the dataset has no items");
  NegativeSampler ns;
  ns.num_items = static_cast<int64_t>(degree.size());
  ns.alpha = alpha;
  ns.device = device;
  if (alpha == 0) return ns;
  std::vector<double> w(degree.size());
  for (size_t i = 0; i < degree.size(); ++i)
    w[i] = degree[i] > 0 ? std::pow(static_cast<double>(degree[i]), static_cast<double>(alpha)) : 0;
  std::vector<float> prob;
  std::vector<int32_t> alias;
  build_alias(w, prob, alias);
  ns.alias_prob = Tensor::from_vector(prob).to(device, stream_of(device));
  ns.alias_idx = Tensor::from_vector(alias).to(device, stream_of(device));
  return ns;
}

}  // namespace

NegativeSampler make_negative_sampler(const Dataset& ds, float alpha, Device device) {
  GNNREC_EXPECTS(ds.item_users.rows() == ds.num_items,
                 "make_negative_sampler: item->user CSR has {} rows for {} items",
                 ds.item_users.rows(), ds.num_items);
  std::vector<int64_t> degree(ds.num_items);
  for (int64_t i = 0; i < ds.num_items; ++i) degree[i] = ds.item_users.degree(i);
  return make_sampler_from_degrees(degree, alpha, device);
}

NegativeSampler make_negative_sampler(const DeviceGraph& g, float alpha) {
  const std::vector<int64_t> indptr = host_indptr(g);
  std::vector<int64_t> degree(g.num_items);
  for (int64_t i = 0; i < g.num_items; ++i)
    degree[i] = indptr[g.num_users + i + 1] - indptr[g.num_users + i];
  return make_sampler_from_degrees(degree, alpha, g.device);
}

void sample_negatives(const NegativeSampler& ns, const DeviceGraph& g, const Tensor& users, int k,
                      const RngKey& key, Tensor& out) {
  const char* op = "sample_negatives";
  GNNREC_NVTX_RANGE("sample_negatives");
  const Device dev = g.device;
  GNNREC_EXPECTS(ns.device == dev, "{}: sampler on {}, graph on {}", op, ns.device.str(),
                 dev.str());
  GNNREC_EXPECTS(ns.num_items == g.num_items && ns.num_items > 0,
                 "{}: sampler has {} items, graph {}", op, ns.num_items, g.num_items);
  GNNREC_EXPECTS(k >= 0, "{}: k = {} is negative", op, k);
  expect_dtype(users, DType::kI32, op, "users");
  expect_1d(users, op, "users");
  expect_device(users, dev, op, "users");
  expect_dtype(out, DType::kI32, op, "out");
  expect_device(out, dev, op, "out");
  const int64_t batch = users.numel();
  GNNREC_EXPECTS(out.shape() == (Shape{batch, k}), "{}: out has shape {}, expected [{}, {}]", op,
                 shape_str(out.shape()), batch, k);
  if (dev.is_cpu()) {
    const int32_t* u = users.data<int32_t>();
    for (int64_t b = 0; b < batch; ++b)
      GNNREC_EXPECTS(u[b] >= 0 && u[b] < g.num_users, "{}: users[{}] = {} is not a user id (0..{})",
                     op, b, u[b], g.num_users - 1);
  }
  NegativeView nv;
  nv.num_users = g.num_users;
  nv.num_items = g.num_items;
  if (ns.alias_prob.defined()) {
    expect_device(ns.alias_prob, dev, op, "alias_prob");
    nv.alias_prob = ns.alias_prob.data<float>();
    nv.alias_idx = ns.alias_idx.data<int32_t>();
  }
  const GraphView gv = g.view();
  GNNREC_DISPATCH(
      dev, sample_negatives_cpu(gv, nv, users.data<int32_t>(), batch, k, key, out.data<int32_t>()),
      sample_negatives_cuda(gv, nv, users.data<int32_t>(), batch, k, key, out.data<int32_t>(),
                            stream_of(dev)));
}

// ---------------------------------------------------------------------------------------------
// SpMM

namespace {
#ifdef GNNREC_WITH_CUDA
void* cusparse_handle(Device dev) {
  static std::mutex mu;
  static std::map<int, void*> handles;  // kept for the process lifetime
  std::lock_guard<std::mutex> lock(mu);
  void*& h = handles[dev.index];
  if (h == nullptr) h = spmm_cusparse_create(stream_of(dev));
  return h;
}
#endif
}  // namespace

void spmm(const Tensor& indptr, const Tensor& indices, const Tensor& values, const Tensor& x,
          Tensor& y, SpmmVariant variant) {
  const char* op = "spmm";
  GNNREC_NVTX_RANGE("spmm");
  const Device dev = y.device();
  GNNREC_EXPECTS(
      indptr.defined() && (indptr.dtype() == DType::kI64 || indptr.dtype() == DType::kI32),
      "{}: indptr must be i64 or i32", op);
  expect_1d(indptr, op, "indptr");
  GNNREC_EXPECTS(indptr.numel() >= 1, "{}: indptr is empty (needs rows + 1 values)", op);
  expect_dtype(indices, DType::kI32, op, "indices");
  expect_dtype(x, DType::kF32, op, "x");
  expect_dtype(y, DType::kF32, op, "y");
  for (const Tensor* t : {&indptr, &indices, &x}) expect_device(*t, dev, op, "operand");
  const bool has_values = values.defined();
  if (has_values) {
    expect_dtype(values, DType::kF32, op, "values");
    expect_device(values, dev, op, "values");
    GNNREC_EXPECTS(values.numel() == indices.numel(), "{}: {} values for {} indices", op,
                   values.numel(), indices.numel());
  }
  GNNREC_EXPECTS(x.ndim() == 2 && y.ndim() == 2 && x.dim(1) == y.dim(1),
                 "{}: x {} and y {} must be 2-D with equal columns", op, shape_str(x.shape()),
                 shape_str(y.shape()));
  const int64_t rows = indptr.numel() - 1, d = y.dim(1);
  GNNREC_EXPECTS(y.dim(0) == rows, "{}: y has {} rows, indptr describes {}", op, y.dim(0), rows);
  const float* vp = has_values ? values.data<float>() : nullptr;
  const int32_t* ip = indices.data<int32_t>();
  const bool i64 = indptr.dtype() == DType::kI64;
  if (variant == SpmmVariant::kCusparse) {
    GNNREC_EXPECTS(dev.is_cuda() && !i64 && has_values,
                   "{}: the cuSPARSE variant needs a CUDA device, i32 indptr and values", op);
#ifdef GNNREC_WITH_CUDA
    void* h = cusparse_handle(dev);
    const int32_t* pp = indptr.data<int32_t>();
    const size_t bytes = spmm_cusparse_workspace_bytes(h, rows, x.dim(0), indices.numel(), d, pp,
                                                       ip, vp, x.data<float>(), y.data<float>());
    Tensor ws = scratch(bytes, dev);
    spmm_cusparse(h, rows, x.dim(0), indices.numel(), d, pp, ip, vp, x.data<float>(),
                  y.data<float>(), ws.raw());
#endif
    return;
  }
  if (i64) {
    GNNREC_DISPATCH(
        dev,
        spmm_csr_cpu(rows, d, indptr.data<int64_t>(), ip, vp, x.data<float>(), y.data<float>()),
        spmm_csr_cuda(rows, d, indptr.data<int64_t>(), ip, vp, x.data<float>(), y.data<float>(),
                      stream_of(dev)));
  } else {
    GNNREC_DISPATCH(
        dev,
        spmm_csr_cpu(rows, d, indptr.data<int32_t>(), ip, vp, x.data<float>(), y.data<float>()),
        spmm_csr_cuda(rows, d, indptr.data<int32_t>(), ip, vp, x.data<float>(), y.data<float>(),
                      stream_of(dev)));
  }
}

Tensor symmetric_norm_values(const DeviceGraph& g) {
  Tensor v = alloc({2 * g.num_edges}, DType::kF32, g.device);
  GNNREC_DISPATCH(
      g.device,
      symmetric_norm_cpu(g.num_nodes, g.indptr.data<int64_t>(), g.indices.data<int32_t>(),
                         v.data<float>()),
      symmetric_norm_cuda(g.num_nodes, g.indptr.data<int64_t>(), g.indices.data<int32_t>(),
                          v.data<float>(), stream_of(g.device)));
  return v;
}

}  // namespace gnnrec
