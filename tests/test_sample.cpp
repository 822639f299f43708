// Graph sampling ops (runtime/graph.h): the device graph, neighbour sampling into blocks,
// negatives, unique-with-inverse, permutations, SpMM. CPU ops are checked against plain
// reimplementations of the documented algorithms and by their invariants and distributions;
// the *Cuda* tests compare CUDA with CPU (exactly, except SpMM) and skip without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "kernels/negative.h"
#include "runtime/dispatch.h"
#include "runtime/graph.h"
#include "testing/testing.h"

namespace gnnrec {
namespace {

// SpMM tolerances: the CPU sums in CSR order in float, the reference in double; with <= ~60
// terms of magnitude <= 1 the float error stays below 60 * 2^-24 * sum|terms| ~ 1e-5. The GPU
// contracts products into FMAs, a comparable difference.
constexpr double kSpmmAtol = 2e-5, kSpmmRtol = 1e-5;
// Chi-square tests reject at p = 1e-4 (z = 3.719): a correct sampler fails one seed in 10^4.
constexpr double kChiSquareZ = 3.719;

// Wilson-Hilferty approximation of the chi-square quantile with `dof` degrees of freedom.
double chi2_critical(int dof, double z = kChiSquareZ) {
  const double k = dof, c = 2.0 / (9.0 * k);
  return k * std::pow(1.0 - c + z * std::sqrt(c), 3.0);
}

double chi2_stat(const std::vector<double>& observed, const std::vector<double>& expected) {
  double s = 0;
  for (size_t i = 0; i < observed.size(); ++i) {
    if (expected[i] == 0) {
      EXPECT_EQ(observed[i], 0) << "category " << i << " has probability 0 but was drawn";
      continue;
    }
    s += (observed[i] - expected[i]) * (observed[i] - expected[i]) / expected[i];
  }
  return s;
}

template <typename T>
std::vector<T> host(const Tensor& t) {
  return t.to(Device::cpu(), detail::stream_of(t.device())).template to_vector<T>();
}

RngKey key_of(uint32_t step, uint32_t epoch = 0) {
  RngKey k;
  k.seed = testing::test_seed();
  k.purpose = static_cast<uint32_t>(RngPurpose::kTest);
  k.epoch = epoch;
  k.step = step;
  return k;
}

// A test-local CSR builder (rows sorted by column, ties by edge id), so these tests do not
// depend on runtime/data's build_csr.
Csr csr_of(int64_t rows, const std::vector<int32_t>& row, const std::vector<int32_t>& col) {
  Csr c;
  c.indptr.assign(rows + 1, 0);
  for (int32_t r : row) ++c.indptr[r + 1];
  for (int64_t r = 0; r < rows; ++r) c.indptr[r + 1] += c.indptr[r];
  std::vector<int64_t> order(row.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return row[a] != row[b] ? row[a] < row[b] : col[a] < col[b];
  });
  for (int64_t e : order) {
    c.indices.push_back(col[e]);
    c.edge_ids.push_back(e);
  }
  return c;
}

Dataset make_dataset(int32_t num_users, int32_t num_items, const std::vector<int32_t>& users,
                     const std::vector<int32_t>& items) {
  Dataset ds;
  ds.num_users = num_users;
  ds.num_items = num_items;
  ds.train.user = users;
  ds.train.item = items;
  ds.train.rating.assign(users.size(), 1.0f);
  ds.train.timestamp.assign(users.size(), 0);
  ds.user_items = csr_of(num_users, users, items);
  ds.item_users = csr_of(num_items, items, users);
  return ds;
}

struct EdgeList2 {
  int32_t num_users = 0, num_items = 0;
  std::vector<int32_t> users, items;
};

// Random bipartite graph without repeated pairs. User 0 has degree 0, user 1 degree 1, user 2
// degree `big`; the last item has degree 0; other users get 0..max_deg items. Shuffled edge ids.
EdgeList2 random_graph(int32_t num_users, int32_t num_items, int max_deg, int big) {
  EdgeList2 g;
  g.num_users = num_users;
  g.num_items = num_items;
  std::vector<int32_t> pool(num_items - 1);
  std::iota(pool.begin(), pool.end(), 0);
  for (int32_t u = 0; u < num_users; ++u) {
    int deg = u == 0 ? 0 : u == 1 ? 1 : u == 2 ? big : testing::random_ints(1, 0, max_deg)[0];
    deg = std::min<int>(deg, num_items - 1);
    std::shuffle(pool.begin(), pool.end(), testing::rng());
    for (int j = 0; j < deg; ++j) {
      g.users.push_back(u);
      g.items.push_back(pool[j]);
    }
  }
  std::vector<size_t> perm(g.users.size());
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), testing::rng());
  EdgeList2 s = g;
  for (size_t e = 0; e < perm.size(); ++e) {
    s.users[e] = g.users[perm[e]];
    s.items[e] = g.items[perm[e]];
  }
  return s;
}

// Power-law-ish graph for the bigger CUDA comparisons (repeated pairs allowed).
EdgeList2 skewed_graph(int32_t num_users, int32_t num_items, int64_t num_edges) {
  EdgeList2 g;
  g.num_users = num_users;
  g.num_items = num_items;
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  for (int64_t e = 0; e < num_edges; ++e) {
    // Squaring a uniform concentrates mass on low ids: a few popular users and items.
    const double a = u01(testing::rng()), b = u01(testing::rng());
    g.users.push_back(static_cast<int32_t>(a * a * num_users));
    g.items.push_back(static_cast<int32_t>(b * b * b * num_items));
  }
  return g;
}

struct HostGraph {
  int64_t U = 0, I = 0, N = 0, E = 0;
  std::vector<int64_t> indptr, edge_ids, user_pos, item_pos;
  std::vector<int32_t> indices;
  explicit HostGraph(const DeviceGraph& g)
      : U(g.num_users),
        I(g.num_items),
        N(g.num_nodes),
        E(g.num_edges),
        indptr(host<int64_t>(g.indptr)),
        edge_ids(host<int64_t>(g.edge_ids)),
        user_pos(host<int64_t>(g.user_pos)),
        item_pos(host<int64_t>(g.item_pos)),
        indices(host<int32_t>(g.indices)) {}
};

// ---- Naive reference of the sampler (std::set based), written from the documented algorithm.
std::vector<int32_t> ref_sample_row(const HostGraph& g, const std::set<int64_t>& excl, int32_t v,
                                    int hop, int fanout, const RngKey& key) {
  std::vector<int64_t> allowed;
  for (int64_t p = g.indptr[v]; p < g.indptr[v + 1]; ++p)
    if (!excl.count(p)) allowed.push_back(p);
  const int64_t de = static_cast<int64_t>(allowed.size());
  const int64_t k = (fanout <= 0 || de <= fanout) ? de : fanout;
  std::set<int64_t> chosen;
  if (k == de) {
    for (int64_t t = 0; t < de; ++t) chosen.insert(t);
  } else {
    for (int64_t s = 0; s < k; ++s) {
      const uint64_t index = (static_cast<uint64_t>(v) << 32) | (static_cast<uint64_t>(hop) << 24) |
                             static_cast<uint64_t>(s / 4);
      const uint32_t w = rng_draw(key, index).v[s % 4];
      const int64_t j = de - k + s;
      const int64_t t = rng_below(w, static_cast<uint32_t>(j + 1));
      chosen.insert(chosen.count(t) ? j : t);
    }
  }
  std::vector<int32_t> out;
  for (int64_t t : chosen) out.push_back(g.indices[allowed[t]]);
  return out;
}

struct RefBlock {
  std::vector<int32_t> src_nodes, indptr, indices, t_indptr, t_indices;
};

RefBlock ref_block(const HostGraph& g, const std::set<int64_t>& excl,
                   const std::vector<int32_t>& dst, int hop, int fanout, const RngKey& key) {
  RefBlock b;
  std::vector<std::vector<int32_t>> rows;
  std::map<int32_t, int32_t> local;
  for (size_t i = 0; i < dst.size(); ++i) local.emplace(dst[i], static_cast<int32_t>(i));
  std::set<int32_t> fresh;
  for (int32_t v : dst) {
    rows.push_back(ref_sample_row(g, excl, v, hop, fanout, key));
    for (int32_t u : rows.back())
      if (!local.count(u)) fresh.insert(u);
  }
  b.src_nodes = dst;
  for (int32_t u : fresh) {
    local[u] = static_cast<int32_t>(b.src_nodes.size());
    b.src_nodes.push_back(u);
  }
  b.indptr.push_back(0);
  std::vector<std::vector<int32_t>> trows(b.src_nodes.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    for (int32_t u : rows[i]) {
      b.indices.push_back(local[u]);
      trows[local[u]].push_back(static_cast<int32_t>(i));
    }
    b.indptr.push_back(static_cast<int32_t>(b.indices.size()));
  }
  b.t_indptr.push_back(0);
  for (auto& r : trows) {
    for (int32_t i : r) b.t_indices.push_back(i);
    b.t_indptr.push_back(static_cast<int32_t>(b.t_indices.size()));
  }
  return b;
}

std::set<int64_t> excluded_positions(const HostGraph& g, const std::vector<int64_t>& edges) {
  std::set<int64_t> s;
  for (int64_t e : edges) {
    s.insert(g.user_pos[e]);
    s.insert(g.item_pos[e]);
  }
  return s;
}

void expect_block_eq(const Block& b, const RefBlock& r, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(b.num_dst + 1, static_cast<int64_t>(r.indptr.size()));
  EXPECT_EQ(b.num_src, static_cast<int64_t>(r.src_nodes.size()));
  EXPECT_EQ(b.nnz, static_cast<int64_t>(r.indices.size()));
  EXPECT_EQ(host<int32_t>(b.src_nodes), r.src_nodes);
  EXPECT_EQ(host<int32_t>(b.indptr), r.indptr);
  EXPECT_EQ(host<int32_t>(b.indices), r.indices);
  EXPECT_EQ(host<int32_t>(b.t_indptr), r.t_indptr);
  EXPECT_EQ(host<int32_t>(b.t_indices), r.t_indices);
}

void expect_blocks_eq(const std::vector<Block>& a, const std::vector<Block>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t l = 0; l < a.size(); ++l) {
    SCOPED_TRACE("block " + std::to_string(l));
    EXPECT_EQ(a[l].num_dst, b[l].num_dst);
    EXPECT_EQ(a[l].num_src, b[l].num_src);
    EXPECT_EQ(a[l].nnz, b[l].nnz);
    EXPECT_EQ(host<int32_t>(a[l].src_nodes), host<int32_t>(b[l].src_nodes));
    EXPECT_EQ(host<int32_t>(a[l].indptr), host<int32_t>(b[l].indptr));
    EXPECT_EQ(host<int32_t>(a[l].indices), host<int32_t>(b[l].indices));
    EXPECT_EQ(host<int32_t>(a[l].t_indptr), host<int32_t>(b[l].t_indptr));
    EXPECT_EQ(host<int32_t>(a[l].t_indices), host<int32_t>(b[l].t_indices));
  }
}

std::vector<int32_t> random_subset(int32_t n, int32_t k, std::vector<int32_t> must = {}) {
  std::vector<int32_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), testing::rng());
  std::vector<int32_t> out = must;
  for (int32_t v : all) {
    if (static_cast<int32_t>(out.size()) >= k) break;
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  std::shuffle(out.begin(), out.end(), testing::rng());
  return out;
}

// ---------------------------------------------------------------------------------------------

TEST(DeviceGraphCpuTest, BuildsUnifiedSortedCsr) {
  GNNREC_SEED_TRACE();
  const EdgeList2 el = random_graph(30, 20, 8, 15);
  const Dataset ds = make_dataset(el.num_users, el.num_items, el.users, el.items);
  const DeviceGraph g = make_device_graph(ds, Device::cpu());
  const int64_t E = static_cast<int64_t>(el.users.size());
  ASSERT_EQ(g.num_nodes, 50);
  ASSERT_EQ(g.num_edges, E);
  const HostGraph h(g);
  const std::vector<float> deg = host<float>(g.degree_f);
  for (int64_t n = 0; n < g.num_nodes; ++n) {
    EXPECT_EQ(deg[n], static_cast<float>(h.indptr[n + 1] - h.indptr[n]));
    for (int64_t p = h.indptr[n] + 1; p < h.indptr[n + 1]; ++p)
      EXPECT_LE(h.indices[p - 1], h.indices[p]) << "row " << n << " unsorted";
  }
  EXPECT_EQ(h.indptr[30] - h.indptr[0], E);  // user rows hold E entries
  for (int64_t e = 0; e < E; ++e) {
    EXPECT_EQ(h.indices[h.user_pos[e]], 30 + el.items[e]);
    EXPECT_EQ(h.edge_ids[h.user_pos[e]], e);
    EXPECT_GE(h.user_pos[e], h.indptr[el.users[e]]);
    EXPECT_LT(h.user_pos[e], h.indptr[el.users[e] + 1]);
    EXPECT_EQ(h.indices[h.item_pos[e]], el.users[e]);
    EXPECT_EQ(h.edge_ids[h.item_pos[e]], e);
    EXPECT_GE(h.item_pos[e], h.indptr[30 + el.items[e]]);
  }
  // The edge-list overload builds the same graph.
  const DeviceGraph g2 = make_device_graph(30, 20, el.users, el.items, Device::cpu());
  const HostGraph h2(g2);
  EXPECT_EQ(h2.indptr, h.indptr);
  EXPECT_EQ(h2.indices, h.indices);
  EXPECT_EQ(h2.edge_ids, h.edge_ids);
}

TEST(DeviceGraphCpuTest, RejectsInconsistentCsrs) {
  Dataset ds = make_dataset(3, 3, {0, 1, 2}, {0, 1, 2});
  ds.item_users.indices[0] = 2;  // item 0 now claims user 2 for edge 0
  EXPECT_THROW(make_device_graph(ds, Device::cpu()), Error);
  Dataset ds2 = make_dataset(3, 3, {0, 1, 2}, {0, 1, 2});
  ds2.user_items.edge_ids[1] = 0;  // edge 0 twice
  EXPECT_THROW(make_device_graph(ds2, Device::cpu()), Error);
  EXPECT_THROW(make_device_graph(2, 2, {0, 2}, {0, 1}, Device::cpu()), Error);  // user 2 of 2
}

TEST(SampleCpuTest, MatchesNaiveReference) {
  GNNREC_SEED_TRACE();
  const EdgeList2 el = random_graph(80, 50, 12, 40);
  const DeviceGraph g = make_device_graph(80, 50, el.users, el.items, Device::cpu());
  const HostGraph h(g);
  // Seeds: users 0 (degree 0), 1 (degree 1), 2 (degree 40), the degree-0 item, others.
  const std::vector<int32_t> seeds = random_subset(130, 24, {0, 1, 2, 129, 85});
  std::vector<int64_t> excl;
  for (int i = 0; i < 30; ++i) excl.push_back(testing::random_ints(1, 0, h.E - 1)[0]);
  excl.push_back(excl[0]);  // a repeated id
  for (int64_t p = h.indptr[2]; p < h.indptr[2] + 5; ++p) excl.push_back(h.edge_ids[p]);
  const std::set<int64_t> xs = excluded_positions(h, excl);
  for (const std::vector<int>& fanouts :
       {std::vector<int>{3}, std::vector<int>{5, 2}, std::vector<int>{4, 0, 2},
        std::vector<int>{-1, 3}, std::vector<int>{1000}}) {
    for (bool with_excl : {false, true}) {
      const RngKey key = key_of(7);
      const Tensor ex = with_excl ? Tensor::from_vector(excl) : Tensor();
      const std::vector<Block> blocks =
          sample_blocks(g, Tensor::from_vector(seeds), fanouts, ex, key);
      ASSERT_EQ(blocks.size(), fanouts.size());
      std::vector<int32_t> dst = seeds;
      for (size_t hop = 0; hop < fanouts.size(); ++hop) {
        const RefBlock r = ref_block(h, with_excl ? xs : std::set<int64_t>{}, dst,
                                     static_cast<int>(hop), fanouts[hop], key);
        const Block& b = blocks[fanouts.size() - 1 - hop];
        expect_block_eq(
            b, r,
            fmt::format("hop {} fanouts {} excl {}", hop, fmt::join(fanouts, ","), with_excl));
        dst = r.src_nodes;
      }
    }
  }
}

// Invariants checked directly on the graph (independent of the reference's algorithm).
TEST(SampleCpuTest, Invariants) {
  GNNREC_SEED_TRACE();
  const EdgeList2 el = random_graph(120, 60, 15, 50);
  const DeviceGraph g = make_device_graph(120, 60, el.users, el.items, Device::cpu());
  const HostGraph h(g);
  std::map<std::pair<int32_t, int32_t>, int64_t> edge_of;  // (node, neighbour) -> edge id
  for (int64_t e = 0; e < h.E; ++e) {
    edge_of[{el.users[e], static_cast<int32_t>(h.U + el.items[e])}] = e;
    edge_of[{static_cast<int32_t>(h.U + el.items[e]), el.users[e]}] = e;
  }
  std::vector<int64_t> excl;
  for (int i = 0; i < 60; ++i) excl.push_back(testing::random_ints(1, 0, h.E - 1)[0]);
  const std::set<int64_t> xset(excl.begin(), excl.end());
  const std::vector<int32_t> seeds = random_subset(180, 40, {0, 1, 2});
  const std::vector<int> fanouts = {4, 3, -1};
  const std::vector<Block> blocks =
      sample_blocks(g, Tensor::from_vector(seeds), fanouts, Tensor::from_vector(excl), key_of(3));
  ASSERT_EQ(blocks.size(), 3u);
  for (size_t l = 0; l < blocks.size(); ++l) {
    SCOPED_TRACE("block " + std::to_string(l));
    const Block& b = blocks[l];
    const int fanout = fanouts[blocks.size() - 1 - l];
    const auto src = host<int32_t>(b.src_nodes), ip = host<int32_t>(b.indptr),
               ix = host<int32_t>(b.indices), tp = host<int32_t>(b.t_indptr),
               tx = host<int32_t>(b.t_indices);
    ASSERT_EQ(static_cast<int64_t>(ip.size()), b.num_dst + 1);
    ASSERT_EQ(static_cast<int64_t>(src.size()), b.num_src);
    ASSERT_EQ(ip.back(), b.nnz);
    // The dst nodes are the previous block's src prefix (the seeds for the last block).
    if (l + 1 < blocks.size()) {
      EXPECT_EQ(b.num_dst, blocks[l + 1].num_src);
      EXPECT_EQ(std::vector<int32_t>(src.begin(), src.begin() + b.num_dst),
                host<int32_t>(blocks[l + 1].src_nodes));
    } else {
      EXPECT_EQ(std::vector<int32_t>(src.begin(), src.begin() + b.num_dst), seeds);
    }
    EXPECT_EQ(std::set<int32_t>(src.begin(), src.end()).size(), src.size()) << "src not unique";
    EXPECT_TRUE(std::is_sorted(src.begin() + b.num_dst, src.end()));
    for (int64_t i = 0; i < b.num_dst; ++i) {
      const int32_t v = src[i];
      int64_t deg_eff = 0;
      for (int64_t p = h.indptr[v]; p < h.indptr[v + 1]; ++p) deg_eff += !xset.count(h.edge_ids[p]);
      const int64_t want = fanout <= 0 ? deg_eff : std::min<int64_t>(fanout, deg_eff);
      EXPECT_EQ(ip[i + 1] - ip[i], want) << "row " << i << " node " << v;
      std::set<int32_t> nbrs;
      for (int32_t j = ip[i]; j < ip[i + 1]; ++j) {
        ASSERT_GE(ix[j], 0);
        ASSERT_LT(ix[j], b.num_src);
        const int32_t u = src[ix[j]];
        auto it = edge_of.find({v, u});
        ASSERT_NE(it, edge_of.end()) << "sampled (" << v << ", " << u << ") is not an edge";
        EXPECT_FALSE(xset.count(it->second)) << "excluded edge " << it->second << " sampled";
        EXPECT_TRUE(nbrs.insert(u).second) << "duplicate neighbour " << u;
        if (j > ip[i]) {
          EXPECT_LT(src[ix[j - 1]], u) << "row not in ascending id order";
        }
      }
    }
    // The transposed block is exactly the transpose, dst rows ascending within each src row.
    ASSERT_EQ(static_cast<int64_t>(tp.size()), b.num_src + 1);
    std::vector<std::vector<int32_t>> t(b.num_src);
    for (int64_t i = 0; i < b.num_dst; ++i)
      for (int32_t j = ip[i]; j < ip[i + 1]; ++j) t[ix[j]].push_back(static_cast<int32_t>(i));
    for (int64_t s = 0; s < b.num_src; ++s)
      EXPECT_EQ(std::vector<int32_t>(tx.begin() + tp[s], tx.begin() + tp[s + 1]), t[s]);
  }
}

TEST(SampleCpuTest, SmallCasesAndEmptySeeds) {
  // user 0: no edges; user 1: item 0; user 2: items 0..4. Items are nodes 3..8.
  const DeviceGraph g =
      make_device_graph(3, 6, {1, 2, 2, 2, 2, 2}, {0, 0, 1, 2, 3, 4}, Device::cpu());
  auto one = [&](std::vector<int32_t> seeds, int fanout, std::vector<int64_t> excl = {}) {
    return sample_blocks(g, Tensor::from_vector(seeds), {fanout},
                         excl.empty() ? Tensor() : Tensor::from_vector(excl), key_of(1))[0];
  };
  Block b = one({0, 1}, 2);
  EXPECT_EQ(host<int32_t>(b.indptr), (std::vector<int32_t>{0, 0, 1}));
  EXPECT_EQ(host<int32_t>(b.src_nodes), (std::vector<int32_t>{0, 1, 3}));
  EXPECT_EQ(host<int32_t>(b.indices), (std::vector<int32_t>{2}));
  EXPECT_EQ(host<int32_t>(b.t_indptr), (std::vector<int32_t>{0, 0, 0, 1}));
  EXPECT_EQ(host<int32_t>(b.t_indices), (std::vector<int32_t>{1}));
  // Degree 5 with fanout 2: two distinct items of user 2; fanout 0: all five.
  b = one({2}, 2);
  EXPECT_EQ(b.nnz, 2);
  EXPECT_EQ(b.num_src, 3);
  b = one({2}, 0);
  EXPECT_EQ(host<int32_t>(b.src_nodes), (std::vector<int32_t>{2, 3, 4, 5, 6, 7}));
  // Excluding edges 1 and 3 (user 2 - items 0 and 2) from both directions.
  b = one({2, 3}, -1, {1, 3});
  EXPECT_EQ(host<int32_t>(b.src_nodes), (std::vector<int32_t>{2, 3, 1, 4, 6, 7}));
  EXPECT_EQ(host<int32_t>(b.indptr), (std::vector<int32_t>{0, 3, 4}));
  EXPECT_EQ(host<int32_t>(b.indices), (std::vector<int32_t>{3, 4, 5, 2}));
  // A dst that is also another dst's neighbour keeps its dst position.
  b = one({3, 1}, 5);
  EXPECT_EQ(host<int32_t>(b.src_nodes), (std::vector<int32_t>{3, 1, 2}));
  EXPECT_EQ(host<int32_t>(b.indices), (std::vector<int32_t>{1, 2, 0}));
  // No seeds.
  const std::vector<Block> empty =
      sample_blocks(g, Tensor::from_vector(std::vector<int32_t>{}), {3, 3}, Tensor(), key_of(1));
  ASSERT_EQ(empty.size(), 2u);
  for (const Block& e : empty) {
    EXPECT_EQ(e.num_dst, 0);
    EXPECT_EQ(e.num_src, 0);
    EXPECT_EQ(e.nnz, 0);
    EXPECT_EQ(host<int32_t>(e.indptr), std::vector<int32_t>{0});
    EXPECT_EQ(host<int32_t>(e.t_indptr), std::vector<int32_t>{0});
  }
}

TEST(SampleCpuTest, RejectsBadArguments) {
  const DeviceGraph g = make_device_graph(2, 2, {0, 1}, {0, 1}, Device::cpu());
  const Tensor ok = Tensor::from_vector(std::vector<int32_t>{0, 3});
  EXPECT_THROW(
      sample_blocks(g, Tensor::from_vector(std::vector<int32_t>{4}), {2}, Tensor(), key_of(0)),
      Error);
  EXPECT_THROW(sample_blocks(g, ok, {}, Tensor(), key_of(0)), Error);
  EXPECT_THROW(sample_blocks(g, ok, {2}, Tensor::from_vector(std::vector<int64_t>{2}), key_of(0)),
               Error);
  EXPECT_THROW(sample_blocks(g, ok, {2}, Tensor::from_vector(std::vector<int32_t>{0}), key_of(0)),
               Error);
  EXPECT_THROW(
      sample_blocks(g, Tensor::from_vector(std::vector<int64_t>{0}), {2}, Tensor(), key_of(0)),
      Error);
}

TEST(SampleCpuTest, DependsOnKeyAndNodeNotBatchOrder) {
  GNNREC_SEED_TRACE();
  const EdgeList2 el = random_graph(40, 60, 30, 50);
  const DeviceGraph g = make_device_graph(40, 60, el.users, el.items, Device::cpu());
  const std::vector<int32_t> seeds = random_subset(40, 20, {2});
  const Block a = sample_blocks(g, Tensor::from_vector(seeds), {3}, Tensor(), key_of(5))[0];
  const Block a2 = sample_blocks(g, Tensor::from_vector(seeds), {3}, Tensor(), key_of(5))[0];
  const Block c = sample_blocks(g, Tensor::from_vector(seeds), {3}, Tensor(), key_of(6))[0];
  EXPECT_EQ(host<int32_t>(a.src_nodes), host<int32_t>(a2.src_nodes));
  EXPECT_EQ(host<int32_t>(a.indices), host<int32_t>(a2.indices));
  EXPECT_NE(host<int32_t>(a.src_nodes), host<int32_t>(c.src_nodes));
  // Node 2 alone gets the same neighbours as within the batch.
  auto nbrs_of = [&](const Block& b, int32_t v) {
    const auto src = host<int32_t>(b.src_nodes), ip = host<int32_t>(b.indptr),
               ix = host<int32_t>(b.indices);
    std::vector<int32_t> out;
    for (int64_t i = 0; i < b.num_dst; ++i)
      if (src[i] == v)
        for (int32_t j = ip[i]; j < ip[i + 1]; ++j) out.push_back(src[ix[j]]);
    return out;
  };
  const Block alone =
      sample_blocks(g, Tensor::from_vector(std::vector<int32_t>{2}), {3}, Tensor(), key_of(5))[0];
  EXPECT_EQ(nbrs_of(alone, 2), nbrs_of(a, 2));
  EXPECT_EQ(nbrs_of(a, 2).size(), 3u);
}

TEST(SampleCpuTest, UniformChiSquare) {
  GNNREC_SEED_TRACE();
  // User 0 with 20 items, 3 of them excluded; fanout 5 over 17 candidates, many keys.
  std::vector<int32_t> users(20, 0), items(20);
  std::iota(items.begin(), items.end(), 0);
  const DeviceGraph g = make_device_graph(1, 20, users, items, Device::cpu());
  const Tensor excl = Tensor::from_vector(std::vector<int64_t>{4, 11, 19});
  const Tensor seeds = Tensor::from_vector(std::vector<int32_t>{0});
  constexpr int kKeys = 3000, kFanout = 5;
  std::vector<double> count(20, 0);
  for (int s = 0; s < kKeys; ++s) {
    const Block b = sample_blocks(g, seeds, {kFanout}, excl, key_of(s, 1))[0];
    const auto src = host<int32_t>(b.src_nodes);
    for (int32_t x : host<int32_t>(b.indices)) count[src[x] - 1] += 1;
  }
  std::vector<double> expected(20, kKeys * kFanout / 17.0);
  expected[4] = expected[11] = expected[19] = 0;
  const double stat = chi2_stat(count, expected);
  EXPECT_LT(stat, chi2_critical(16)) << "chi-square " << stat;
}

// ---- Negatives

// The documented rule, reimplemented with a std::set of positives.
int32_t ref_negative(const std::set<int32_t>& positives, int64_t num_items,
                     const std::vector<float>& prob, const std::vector<int32_t>& alias,
                     uint64_t slot, const RngKey& key) {
  int32_t item = 0;
  for (int t = 0; t < 32; ++t) {
    const U32x4 r = rng_draw(key, slot * 32 + t);
    const int32_t c = static_cast<int32_t>((static_cast<uint64_t>(r.v[0]) * num_items) >> 32);
    item = c;
    if (!prob.empty()) {
      const float u = static_cast<float>(r.v[1] >> 8) / 16777216.0f;
      if (!(u < prob[c])) item = alias[c];
    }
    if (!positives.count(item)) break;
  }
  return item;
}

void check_negatives_against_reference(const EdgeList2& el, float alpha, int k) {
  const DeviceGraph g =
      make_device_graph(el.num_users, el.num_items, el.users, el.items, Device::cpu());
  const NegativeSampler ns = make_negative_sampler(g, alpha);
  std::vector<std::set<int32_t>> pos(el.num_users);
  for (size_t e = 0; e < el.users.size(); ++e) pos[el.users[e]].insert(el.items[e]);
  std::vector<int32_t> users(50);
  for (auto& u : users) u = testing::random_ints(1, 0, el.num_users - 1)[0];
  users[0] = el.num_users - 1;
  Tensor out = Tensor::empty({50, k}, DType::kI32);
  const RngKey key = key_of(9);
  sample_negatives(ns, g, Tensor::from_vector(users), k, key, out);
  const auto got = host<int32_t>(out);
  const std::vector<float> prob = alpha > 0 ? host<float>(ns.alias_prob) : std::vector<float>{};
  const std::vector<int32_t> alias =
      alpha > 0 ? host<int32_t>(ns.alias_idx) : std::vector<int32_t>{};
  for (int64_t b = 0; b < 50; ++b) {
    for (int j = 0; j < k; ++j) {
      const int32_t x = got[b * k + j];
      ASSERT_GE(x, 0);
      ASSERT_LT(x, el.num_items);
      EXPECT_EQ(x, ref_negative(pos[users[b]], el.num_items, prob, alias, b * k + j, key))
          << "b " << b << " j " << j;
    }
  }
}

TEST(NegativeCpuTest, InRangeNotPositiveAndMatchesReference) {
  GNNREC_SEED_TRACE();
  const EdgeList2 el = random_graph(40, 30, 14, 20);
  for (float alpha : {0.0f, 0.75f}) {
    SCOPED_TRACE(alpha);
    check_negatives_against_reference(el, alpha, 7);
    // With at most 20 positives of 30 items, 32 rejections in a row (p < 1e-5 per slot) never
    // happen here: no output is a positive.
    const DeviceGraph g = make_device_graph(40, 30, el.users, el.items, Device::cpu());
    std::set<std::pair<int32_t, int32_t>> pos;
    for (size_t e = 0; e < el.users.size(); ++e) pos.insert({el.users[e], el.items[e]});
    std::vector<int32_t> users(200);
    for (size_t b = 0; b < users.size(); ++b) users[b] = static_cast<int32_t>(b % 40);
    Tensor out = Tensor::empty({200, 5}, DType::kI32);
    sample_negatives(make_negative_sampler(g, alpha), g, Tensor::from_vector(users), 5, key_of(2),
                     out);
    const auto got = host<int32_t>(out);
    for (size_t q = 0; q < got.size(); ++q)
      EXPECT_FALSE(pos.count({users[q / 5], got[q]})) << "slot " << q;
  }
}

TEST(NegativeCpuTest, AcceptsAfter32FailedTries) {
  GNNREC_SEED_TRACE();
  // User 0 bought all 6 items; user 1 all but item 5. Item 5 still has a buyer (user 2).
  EdgeList2 el;
  el.num_users = 3;
  el.num_items = 6;
  for (int32_t i = 0; i < 6; ++i) {
    el.users.push_back(0);
    el.items.push_back(i);
    if (i < 5) {
      el.users.push_back(1);
      el.items.push_back(i);
    }
  }
  el.users.push_back(2);
  el.items.push_back(5);
  const DeviceGraph g = make_device_graph(3, 6, el.users, el.items, Device::cpu());
  const RngKey key = key_of(4);
  Tensor out = Tensor::empty({2, 64}, DType::kI32);
  sample_negatives(make_negative_sampler(g, 0.0f), g,
                   Tensor::from_vector(std::vector<int32_t>{0, 1}), 64, key, out);
  const auto got = host<int32_t>(out);
  for (int j = 0; j < 64; ++j) {
    // User 0: every try fails; the 32nd draw (t = 31) is returned.
    const U32x4 r = rng_draw(key, static_cast<uint64_t>(j) * 32 + 31);
    EXPECT_EQ(got[j], static_cast<int32_t>((static_cast<uint64_t>(r.v[0]) * 6) >> 32));
    // User 1: item 5 unless all 32 tries (p = (5/6)^32 ~ 0.3%) missed it.
    const std::set<int32_t> pos1 = {0, 1, 2, 3, 4};
    EXPECT_EQ(got[64 + j], ref_negative(pos1, 6, {}, {}, 64 + j, key));
  }
  int fives = 0;
  for (int j = 0; j < 64; ++j) fives += got[64 + j] == 5;
  EXPECT_GE(fives, 60);
  check_negatives_against_reference(el, 0.0f, 9);
}

TEST(NegativeCpuTest, UniformChiSquare) {
  GNNREC_SEED_TRACE();
  // User 0 has no positives; 40 items (item 0 gives user 1 an edge so the graph is not empty).
  const DeviceGraph g = make_device_graph(2, 40, {1}, {0}, Device::cpu());
  constexpr int kDraws = 40000;
  Tensor out = Tensor::empty({1, kDraws}, DType::kI32);
  sample_negatives(make_negative_sampler(g, 0.0f), g, Tensor::from_vector(std::vector<int32_t>{0}),
                   kDraws, key_of(8), out);
  std::vector<double> count(40, 0);
  for (int32_t x : host<int32_t>(out)) count[x] += 1;
  const double stat = chi2_stat(count, std::vector<double>(40, kDraws / 40.0));
  EXPECT_LT(stat, chi2_critical(39)) << "chi-square " << stat;
}

TEST(NegativeCpuTest, PopularityAlphaChiSquare) {
  GNNREC_SEED_TRACE();
  // Item i has degree i (users 1..i), item 0 degree 0; user 0 has no positives.
  constexpr int kItems = 25;
  std::vector<int32_t> users, items;
  for (int32_t i = 0; i < kItems; ++i)
    for (int32_t u = 1; u <= i; ++u) {
      users.push_back(u);
      items.push_back(i);
    }
  const Dataset ds = make_dataset(kItems + 1, kItems, users, items);
  const DeviceGraph g = make_device_graph(ds, Device::cpu());
  const float alpha = 0.75f;
  const NegativeSampler ns = make_negative_sampler(ds, alpha, Device::cpu());
  std::vector<double> w(kItems);
  for (int i = 0; i < kItems; ++i) w[i] = std::pow(static_cast<double>(i), alpha);
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  // The alias table itself encodes exactly w / total (up to float rounding of prob).
  const auto prob = host<float>(ns.alias_prob);
  const auto alias = host<int32_t>(ns.alias_idx);
  std::vector<double> implied(kItems, 0);
  for (int c = 0; c < kItems; ++c) {
    implied[c] += prob[c] / kItems;
    implied[alias[c]] += (1.0 - prob[c]) / kItems;
  }
  for (int i = 0; i < kItems; ++i) EXPECT_NEAR(implied[i], w[i] / total, 1e-6) << "item " << i;
  constexpr int kDraws = 50000;
  Tensor out = Tensor::empty({1, kDraws}, DType::kI32);
  sample_negatives(ns, g, Tensor::from_vector(std::vector<int32_t>{0}), kDraws, key_of(10), out);
  std::vector<double> count(kItems, 0);
  for (int32_t x : host<int32_t>(out)) count[x] += 1;
  std::vector<double> expected(kItems);
  for (int i = 0; i < kItems; ++i) expected[i] = kDraws * w[i] / total;
  const double stat = chi2_stat(count, expected);
  EXPECT_LT(stat, chi2_critical(kItems - 2)) << "chi-square " << stat;
}

// ---- Unique, permutation

TEST(UniqueCpuTest, MatchesStd) {
  GNNREC_SEED_TRACE();
  for (size_t n : {0, 1, 7, 1000}) {
    std::vector<int32_t> ids = testing::random_ints(n, -50, 300);
    const UniqueResult r = unique_with_inverse(Tensor::from_vector(ids));
    std::vector<int32_t> want = ids;
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    const auto u = host<int32_t>(r.unique), inv = host<int32_t>(r.inverse);
    EXPECT_EQ(u, want);
    ASSERT_EQ(inv.size(), n);
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(u[inv[i]], ids[i]);
  }
}

TEST(PermutationCpuTest, IsPermutationKeyedAndUniform) {
  GNNREC_SEED_TRACE();
  for (int64_t n : {0, 1, 2, 1000}) {
    const auto p = host<int64_t>(random_permutation(n, key_of(1), Device::cpu()));
    std::vector<int64_t> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int64_t> iota(n);
    std::iota(iota.begin(), iota.end(), 0);
    EXPECT_EQ(sorted, iota) << "n " << n;
  }
  EXPECT_EQ(host<int64_t>(random_permutation(1000, key_of(1), Device::cpu())),
            host<int64_t>(random_permutation(1000, key_of(1), Device::cpu())));
  EXPECT_NE(host<int64_t>(random_permutation(1000, key_of(1), Device::cpu())),
            host<int64_t>(random_permutation(1000, key_of(2), Device::cpu())));
  EXPECT_NE(host<int64_t>(random_permutation(1000, key_of(1, 0), Device::cpu())),
            host<int64_t>(random_permutation(1000, key_of(1, 1), Device::cpu())));
  constexpr int kKeys = 5000, kN = 10;
  std::vector<double> first(kN, 0);
  for (int s = 0; s < kKeys; ++s)
    first[host<int64_t>(random_permutation(kN, key_of(s, 3), Device::cpu()))[0]] += 1;
  const double stat = chi2_stat(first, std::vector<double>(kN, kKeys / double(kN)));
  EXPECT_LT(stat, chi2_critical(kN - 1)) << "chi-square " << stat;
}

// Per-user edge draws (LightGCN's sampler): a naive rewrite of the documented rule from the
// edge list, then the distribution: users uniform among those with edges, edges uniform within
// a user (chi-square at p = 1e-4 each).
TEST(UserEdgesCpuTest, MatchesReferenceAndIsUniformPerUser) {
  GNNREC_SEED_TRACE();
  const EdgeList2 el = random_graph(60, 40, 12, 30);
  const DeviceGraph g = make_device_graph(el.num_users, el.num_items, el.users, el.items,
                                          Device::cpu());
  const UserEdgeSampler us = make_user_edge_sampler(g);
  // The reference: active users ascending; each user's edges ordered by (item, edge id), the
  // order of the CSR row.
  std::vector<std::vector<std::pair<int32_t, int64_t>>> rows(el.num_users);
  for (size_t e = 0; e < el.users.size(); ++e)
    rows[el.users[e]].push_back({el.items[e], static_cast<int64_t>(e)});
  std::vector<int32_t> active;
  for (int32_t u = 0; u < el.num_users; ++u) {
    std::sort(rows[u].begin(), rows[u].end());
    if (!rows[u].empty()) active.push_back(u);
  }
  ASSERT_EQ(us.num_active, static_cast<int64_t>(active.size()));
  ASSERT_FALSE(rows[0].size());  // user 0 has no edge and must never be drawn
  constexpr int64_t kDraws = 200000;
  const auto got = host<int64_t>(sample_user_uniform_edges(us, g, kDraws, key_of(4)));
  ASSERT_EQ(got.size(), static_cast<size_t>(kDraws));
  std::vector<double> per_user(active.size(), 0);
  std::map<int64_t, double> per_edge;
  for (int64_t i = 0; i < kDraws; ++i) {
    const U32x4 r = rng_draw(key_of(4), static_cast<uint64_t>(i));
    const size_t a = static_cast<size_t>((uint64_t{r.v[0]} * active.size()) >> 32);
    const auto& row = rows[active[a]];
    const size_t j = static_cast<size_t>((uint64_t{r.v[1]} * row.size()) >> 32);
    ASSERT_EQ(got[i], row[j].second) << "draw " << i;
    per_user[a] += 1;
    per_edge[got[i]] += 1;
  }
  EXPECT_LT(chi2_stat(per_user, std::vector<double>(active.size(), kDraws / double(active.size()))),
            chi2_critical(static_cast<int>(active.size()) - 1));
  // Within user 2 (30 edges): uniform over its edges.
  std::vector<double> within;
  for (const auto& [item, e] : rows[2]) within.push_back(per_edge[e]);
  const double n2 = std::accumulate(within.begin(), within.end(), 0.0);
  EXPECT_LT(chi2_stat(within, std::vector<double>(within.size(), n2 / double(within.size()))),
            chi2_critical(static_cast<int>(within.size()) - 1));
  // Keyed: same key, same draws; another epoch, others.
  EXPECT_EQ(host<int64_t>(sample_user_uniform_edges(us, g, 1000, key_of(4))),
            std::vector<int64_t>(got.begin(), got.begin() + 1000));
  EXPECT_NE(host<int64_t>(sample_user_uniform_edges(us, g, 1000, key_of(4, 1))),
            std::vector<int64_t>(got.begin(), got.begin() + 1000));
  EXPECT_TRUE(host<int64_t>(sample_user_uniform_edges(us, g, 0, key_of(4))).empty());
}

TEST(UserEdgesCpuTest, RejectsGraphWithoutEdges) {
  const DeviceGraph g = make_device_graph(3, 2, {}, {}, Device::cpu());
  const UserEdgeSampler us = make_user_edge_sampler(g);
  EXPECT_EQ(us.num_active, 0);
  EXPECT_TRUE(host<int64_t>(sample_user_uniform_edges(us, g, 0, key_of(1))).empty());
  testing::expect_error([&] { sample_user_uniform_edges(us, g, 5, key_of(1)); },
                        {"no user with a training edge"});
}

// ---- SpMM

struct RandomCsr {
  int64_t rows = 0, cols = 0;
  std::vector<int64_t> indptr;
  std::vector<int32_t> indices;
  std::vector<float> values;
};

RandomCsr random_csr(int64_t rows, int64_t cols, int max_deg) {
  RandomCsr c;
  c.rows = rows;
  c.cols = cols;
  c.indptr.push_back(0);
  for (int64_t r = 0; r < rows; ++r) {
    const int deg = (r % 5 == 0) ? 0 : testing::random_ints(1, 0, max_deg)[0];  // empty rows
    for (int j = 0; j < deg; ++j) c.indices.push_back(testing::random_ints(1, 0, cols - 1)[0]);
    c.indptr.push_back(static_cast<int64_t>(c.indices.size()));
  }
  c.values = testing::random_floats(c.indices.size(), -1.0f, 1.0f);
  return c;
}

std::vector<int32_t> to_i32(const std::vector<int64_t>& v) {
  return std::vector<int32_t>(v.begin(), v.end());
}

TEST(SpmmCpuTest, MatchesNaive) {
  GNNREC_SEED_TRACE();
  for (int64_t d : {1, 4, 7, 33, 64, 100}) {
    const RandomCsr c = random_csr(57, 41, 60);
    const Tensor x = testing::random_tensor({c.cols, d});
    for (bool with_values : {true, false}) {
      std::vector<float> ref(c.rows * d);
      spmm_csr_naive_cpu(c.rows, d, c.indptr.data(), c.indices.data(),
                         with_values ? c.values.data() : nullptr, x.data<float>(), ref.data());
      for (bool i64 : {true, false}) {
        SCOPED_TRACE(fmt::format("d {} values {} i64 {}", d, with_values, i64));
        Tensor y = Tensor::empty({c.rows, d}, DType::kF32);
        std::fill(y.data<float>(), y.data<float>() + y.numel(), NAN);  // must be overwritten
        const Tensor ip =
            i64 ? Tensor::from_vector(c.indptr) : Tensor::from_vector(to_i32(c.indptr));
        spmm(ip, Tensor::from_vector(c.indices),
             with_values ? Tensor::from_vector(c.values) : Tensor(), x, y);
        EXPECT_TRUE(testing::all_close(host<float>(y), ref, kSpmmAtol, kSpmmRtol));
      }
    }
  }
}

TEST(SpmmCpuTest, SymmetricNormValues) {
  GNNREC_SEED_TRACE();
  const EdgeList2 el = random_graph(20, 15, 8, 12);
  const DeviceGraph g = make_device_graph(20, 15, el.users, el.items, Device::cpu());
  const HostGraph h(g);
  const auto v = host<float>(symmetric_norm_values(g));
  ASSERT_EQ(static_cast<int64_t>(v.size()), 2 * h.E);
  for (int64_t r = 0; r < h.N; ++r)
    for (int64_t p = h.indptr[r]; p < h.indptr[r + 1]; ++p) {
      const int32_t c = h.indices[p];
      const double want = 1.0 / std::sqrt(double(h.indptr[r + 1] - h.indptr[r]) *
                                          double(h.indptr[c + 1] - h.indptr[c]));
      EXPECT_EQ(v[p], static_cast<float>(want));
    }
}

// ---- CUDA vs CPU

TEST(SampleCudaTest, MatchesCpu) {
  GNNREC_REQUIRE_GPU();
  GNNREC_SEED_TRACE();
  const Device gpu = Device::cuda(0);
  for (int trial = 0; trial < 2; ++trial) {
    const EdgeList2 el =
        trial == 0 ? random_graph(80, 50, 12, 40) : skewed_graph(3000, 2000, 40000);
    const DeviceGraph g =
        make_device_graph(el.num_users, el.num_items, el.users, el.items, Device::cpu());
    const DeviceGraph gg = g.to(gpu);
    EXPECT_EQ(host<int32_t>(gg.indices), host<int32_t>(g.indices));
    const int32_t n = static_cast<int32_t>(g.num_nodes);
    const std::vector<int32_t> seeds = random_subset(n, trial == 0 ? 24 : 700, {0, 1, 2, n - 1});
    std::vector<int64_t> excl;
    for (int i = 0; i < (trial == 0 ? 30 : 500); ++i)
      excl.push_back(testing::random_ints(1, 0, static_cast<int32_t>(g.num_edges - 1))[0]);
    excl.push_back(excl[0]);
    for (const std::vector<int>& fanouts :
         {std::vector<int>{10, 10}, std::vector<int>{5, 2}, std::vector<int>{4, 0, 2},
          std::vector<int>{-1, 3}, std::vector<int>{1000}}) {
      for (bool with_excl : {false, true}) {
        SCOPED_TRACE(
            fmt::format("trial {} fanouts {} excl {}", trial, fmt::join(fanouts, ","), with_excl));
        const Tensor ex = with_excl ? Tensor::from_vector(excl) : Tensor();
        const auto cpu = sample_blocks(g, Tensor::from_vector(seeds), fanouts, ex, key_of(11));
        const auto cuda =
            sample_blocks(gg, Tensor::from_vector(seeds).to(gpu, detail::stream_of(gpu)), fanouts,
                          with_excl ? ex.to(gpu, detail::stream_of(gpu)) : Tensor(), key_of(11));
        expect_blocks_eq(cuda, cpu);
      }
    }
  }
}

TEST(NegativeCudaTest, MatchesCpu) {
  GNNREC_REQUIRE_GPU();
  GNNREC_SEED_TRACE();
  const Device gpu = Device::cuda(0);
  const Stream st = detail::stream_of(gpu);
  const EdgeList2 el = skewed_graph(500, 300, 8000);
  const DeviceGraph g = make_device_graph(500, 300, el.users, el.items, Device::cpu());
  const DeviceGraph gg = g.to(gpu);
  std::vector<int32_t> users = testing::random_ints(333, 0, 499);
  for (float alpha : {0.0f, 0.75f}) {
    Tensor a = Tensor::empty({333, 9}, DType::kI32);
    Tensor b = Tensor::empty({333, 9}, DType::kI32, gpu, st);
    sample_negatives(make_negative_sampler(g, alpha), g, Tensor::from_vector(users), 9, key_of(3),
                     a);
    sample_negatives(make_negative_sampler(gg, alpha), gg, Tensor::from_vector(users).to(gpu, st),
                     9, key_of(3), b);
    EXPECT_EQ(host<int32_t>(b), host<int32_t>(a)) << "alpha " << alpha;
  }
}

TEST(UniqueCudaTest, MatchesCpu) {
  GNNREC_REQUIRE_GPU();
  GNNREC_SEED_TRACE();
  const Device gpu = Device::cuda(0);
  for (size_t n : {0, 1, 1000, 100000}) {
    const std::vector<int32_t> ids = testing::random_ints(n, -100, 5000);
    const UniqueResult c = unique_with_inverse(Tensor::from_vector(ids));
    const UniqueResult g =
        unique_with_inverse(Tensor::from_vector(ids).to(gpu, detail::stream_of(gpu)));
    EXPECT_EQ(host<int32_t>(g.unique), host<int32_t>(c.unique));
    EXPECT_EQ(host<int32_t>(g.inverse), host<int32_t>(c.inverse));
  }
}

TEST(PermutationCudaTest, MatchesCpu) {
  GNNREC_REQUIRE_GPU();
  for (int64_t n : {0, 1, 1000, 300000}) {
    EXPECT_EQ(host<int64_t>(random_permutation(n, key_of(5), Device::cuda(0))),
              host<int64_t>(random_permutation(n, key_of(5), Device::cpu())))
        << "n " << n;
  }
}

TEST(UserEdgesCudaTest, MatchesCpu) {
  GNNREC_REQUIRE_GPU();
  GNNREC_SEED_TRACE();
  const EdgeList2 el = skewed_graph(3000, 2000, 40000);
  const DeviceGraph g = make_device_graph(el.num_users, el.num_items, el.users, el.items,
                                          Device::cpu());
  const DeviceGraph gg = g.to(Device::cuda(0));
  for (int64_t n : {0, 1, 1000, 300000}) {
    EXPECT_EQ(host<int64_t>(sample_user_uniform_edges(make_user_edge_sampler(gg), gg, n, key_of(6))),
              host<int64_t>(sample_user_uniform_edges(make_user_edge_sampler(g), g, n, key_of(6))))
        << "n " << n;
  }
}

TEST(SpmmCudaTest, MatchesCpu) {
  GNNREC_REQUIRE_GPU();
  GNNREC_SEED_TRACE();
  const Device gpu = Device::cuda(0);
  const Stream st = detail::stream_of(gpu);
  for (int64_t d : {1, 4, 7, 33, 64, 100, 256}) {
    const RandomCsr c = random_csr(300, 211, 40);
    const Tensor x = testing::random_tensor({c.cols, d});
    const Tensor ip64 = Tensor::from_vector(c.indptr), ip32 = Tensor::from_vector(to_i32(c.indptr));
    const Tensor ix = Tensor::from_vector(c.indices), vals = Tensor::from_vector(c.values);
    Tensor ref = Tensor::empty({c.rows, d}, DType::kF32);
    spmm(ip64, ix, vals, x, ref);
    const auto want = host<float>(ref);
    for (int v = 0; v < 4; ++v) {
      SCOPED_TRACE(fmt::format("d {} case {}", d, v));
      Tensor y = Tensor::empty({c.rows, d}, DType::kF32, gpu, st);
      const SpmmVariant var = v == 3 ? SpmmVariant::kCusparse : SpmmVariant::kRowGroup;
      spmm((v == 0 ? ip64 : ip32).to(gpu, st), ix.to(gpu, st), vals.to(gpu, st), x.to(gpu, st), y,
           var);
      EXPECT_TRUE(testing::all_close(host<float>(y), want, kSpmmAtol, kSpmmRtol));
    }
    // Without values (all ones).
    Tensor y1 = Tensor::empty({c.rows, d}, DType::kF32, gpu, st);
    spmm(ip64.to(gpu, st), ix.to(gpu, st), Tensor(), x.to(gpu, st), y1);
    spmm(ip64, ix, Tensor(), x, ref);
    EXPECT_TRUE(testing::all_close(host<float>(y1), host<float>(ref), kSpmmAtol, kSpmmRtol));
  }
}

TEST(SpmmCudaTest, SymmetricNormMatchesCpu) {
  GNNREC_REQUIRE_GPU();
  const EdgeList2 el = skewed_graph(400, 300, 5000);
  const DeviceGraph g = make_device_graph(400, 300, el.users, el.items, Device::cpu());
  EXPECT_EQ(host<float>(symmetric_norm_values(g.to(Device::cuda(0)))),
            host<float>(symmetric_norm_values(g)));
}

}  // namespace
}  // namespace gnnrec
