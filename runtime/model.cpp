#include "runtime/model.h"

#include "kernels/philox.h"
#include "runtime/comm.h"
#include "runtime/context.h"
#include "runtime/nvtx.h"
#include "runtime/ops.h"
#include "runtime/ops_index.h"
#include "runtime/ops_nn.h"

namespace gnnrec {

Param& Model::param(const std::string& name) {
  for (Param& p : params_)
    if (p.name == name) return p;
  GNNREC_FAIL("model has no parameter '{}'", name);
}

namespace {

Tensor uniform_init(const Shape& shape, float bound, const RngKey& key, uint64_t first,
                    Device dev) {
  Tensor t = Tensor::empty(shape, DType::kF32, dev);
  rng_uniform(key, first, -bound, bound, t);
  return t;
}

void add_param(std::vector<Param>& ps, const std::string& name, Tensor value, bool row_sparse) {
  Param p;
  p.name = name;
  p.m = Tensor::zeros(value.shape(), DType::kF32, value.device());
  p.v = Tensor::zeros(value.shape(), DType::kF32, value.device());
  p.value = std::move(value);
  p.row_sparse = row_sparse;
  ps.push_back(std::move(p));
}

AdamConfig adam_config(const TrainConfig& cfg, float lr) {
  AdamConfig a;
  a.lr = lr;
  a.weight_decay = cfg.weight_decay;
  a.decoupled = true;
  return a;
}

// The training edges on the device and the negative sampler: turns a batch of training edge
// ids into the unified node ids [users | U + positives | U + negatives (b x k, row-major)],
// which both model families index their outputs with.
class EdgeBatcher {
 public:
  EdgeBatcher(const TrainConfig& cfg, const Dataset& ds, const DeviceGraph& g, Device dev)
      : g_(g), dev_(dev), seed_(cfg.seed), k_(cfg.negatives), num_users_(ds.num_users) {
    train_user_ = Tensor::from_vector(ds.train.user).to(dev);
    train_item_ = Tensor::from_vector(ds.train.item).to(dev);
    ns_ = make_negative_sampler(ds, cfg.neg_alpha, dev);
  }

  int negatives() const { return k_; }

  Tensor node_ids(const Tensor& edge_ids, uint32_t epoch, uint32_t step) const {
    const int64_t b = edge_ids.numel();
    Tensor users = Tensor::empty({b}, DType::kI32, dev_), pos = Tensor::empty({b}, DType::kI32, dev_);
    gather_ids(train_user_, edge_ids, users);
    gather_ids(train_item_, edge_ids, pos);
    Tensor negs = Tensor::empty({b, k_}, DType::kI32, dev_);
    sample_negatives(ns_, g_, users, k_,
                     RngKey{seed_, static_cast<uint32_t>(RngPurpose::kNegative), epoch, step}, negs);
    Tensor all = Tensor::empty({b * (2 + k_)}, DType::kI32, dev_);
    Tensor a = all.rows(0, b), p = all.rows(b, 2 * b), n = all.rows(2 * b, b * (2 + k_));
    add_offset(users, 0, a);
    add_offset(pos, num_users_, p);
    add_offset(negs.reshape({-1}), num_users_, n);
    return all;
  }

 private:
  const DeviceGraph& g_;
  Device dev_;
  uint64_t seed_;
  int k_;
  int32_t num_users_;
  Tensor train_user_, train_item_;
  NegativeSampler ns_;
};

// ---------------------------------------------------------------------------------------------
// GraphSAGE (and MF as its 0-layer, feature-free case).
class SageModel final : public Model {
 public:
  SageModel(const TrainConfig& cfg, const Dataset& ds, const DeviceGraph& g, Device dev)
      : cfg_(cfg), g_(g), dev_(dev), batcher_(cfg, ds, g, dev) {
    lr_ = cfg.lr;
    const bool mf = cfg.model == "mf";
    layers_ = mf ? 0 : cfg.layers;
    use_features_ = !mf && cfg.use_features &&
                    (ds.user_features.numel() > 0 || ds.item_features.numel() > 0);
    use_id_ = mf || cfg.use_id_embedding;
    combine_mean_ = !mf && layers_ > 0 && cfg.layer_combination == "mean";
    residual_ = !mf && cfg.residual && layers_ > 0 && !combine_mean_;
    normalize_ = cfg.normalize;
    agg_ = cfg.aggregator == "max" ? AggKind::kMax : AggKind::kMean;
    loss_ = cfg.loss == "bce" ? LossKind::kBce : LossKind::kBpr;
    for (int l = 0; l < layers_; ++l) fanouts_.push_back(cfg.fanouts[l]);
    GNNREC_EXPECTS(use_id_ || use_features_,
                   "graphsage with use_id_embedding=false needs node features, and dataset {} "
                   "has none",
                   ds.dir);
    U_ = ds.num_users;
    N_ = static_cast<int64_t>(ds.num_users) + ds.num_items;
    const int d = cfg.dim;
    const RngKey init{cfg.seed, static_cast<uint32_t>(RngPurpose::kInit), 0, 0};
    uint64_t offset = 0;
    auto next = [&](const Shape& s) {
      uint64_t at = offset;
      int64_t n = 1;
      for (auto x : s) n *= x;
      offset += static_cast<uint64_t>(n);
      return at;
    };
    if (use_id_) {
      // Uniform with the configured std: bound = std * sqrt(3).
      const float bound = cfg.init_std * 1.7320508f;
      add_param(params_, "embedding", uniform_init({N_, d}, bound, init, next({N_, d}), dev), true);
    }
    if (use_features_) {
      xu_ = (ds.user_features.numel() > 0 ? ds.user_features
                                          : Tensor::zeros({ds.num_users, 0}, DType::kF32))
                .to(dev);
      xi_ = (ds.item_features.numel() > 0 ? ds.item_features
                                          : Tensor::zeros({ds.num_items, 0}, DType::kF32))
                .to(dev);
      const int64_t f = xu_.dim(1) + xi_.dim(1);
      const float bound = std::sqrt(6.0f / static_cast<float>(f + d));  // Glorot uniform
      add_param(params_, "feature_proj", uniform_init({f, d}, bound, init, next({f, d}), dev),
                false);
    }
    relu_ = cfg.activation == "relu";
    for (int l = 0; l < layers_; ++l) {
      const float bound = std::sqrt(6.0f / static_cast<float>(3 * d));
      // The Philox offset advances either way, so the other parameters' draws do not depend
      // on weight_init.
      const uint64_t at = next({2 * d, d});
      Tensor w;
      if (cfg.weight_init == "identity") {
        // [I/2; I/2]: out = (h_self + agg) / 2 before training.
        std::vector<float> id(static_cast<size_t>(2 * d * d), 0.0f);
        for (int i = 0; i < d; ++i) id[i * d + i] = id[(d + i) * d + i] = 0.5f;
        w = Tensor::from_vector(id, {2 * d, d}).to(dev);
      } else {
        w = uniform_init({2 * d, d}, bound, init, at, dev);
      }
      add_param(params_, fmt::format("layer{}.weight", l), std::move(w), false);
      add_param(params_, fmt::format("layer{}.bias", l), Tensor::zeros({d}, DType::kF32, dev),
                false);
    }
    // Dense gradients, one per dense parameter, in params_ order.
    for (Param& p : params_)
      if (!p.row_sparse) grads_.push_back(Tensor::zeros(p.value.shape(), DType::kF32, dev));
    loss_accum_ = Tensor::zeros({1}, DType::kF32, dev);
    // Nodes without training edges: their id rows never learnt anything useful, so inference
    // drops them and a cold item's embedding comes from its features alone.
    std::vector<int32_t> cold;
    for (int32_t u = 0; u < ds.num_users; ++u)
      if (ds.user_items.degree(u) == 0) cold.push_back(u);
    for (int32_t i = 0; i < ds.num_items; ++i)
      if (ds.item_users.degree(i) == 0) cold.push_back(ds.num_users + i);
    cold_nodes_ = Tensor::from_vector(cold).to(dev);
  }

  float inv_temp() const override { return normalize_ ? 1.0f / cfg_.temperature : 1.0f; }
  bool normalized() const override { return normalize_; }

  void train_step(const Tensor& edge_ids, uint32_t epoch, uint32_t step,
                  int64_t global_step) override {
    GNNREC_NVTX_RANGE("sage.train_step");
    const int64_t b = edge_ids.numel();
    const int k = batcher_.negatives();
    UniqueResult uq = unique_with_inverse(batcher_.node_ids(edge_ids, epoch, step));
    const Tensor& seeds = uq.unique;
    const int64_t ns = seeds.numel();
    Tensor u_idx = uq.inverse.rows(0, b), p_idx = uq.inverse.rows(b, 2 * b);
    Tensor n_idx = uq.inverse.rows(2 * b, 2 * b + b * k).reshape({b, k});

    std::vector<Block> blocks;
    if (layers_ > 0) {
      GNNREC_NVTX_RANGE("sample_blocks");
      blocks = sample_blocks(g_, seeds, fanouts_, edge_ids,
                             RngKey{cfg_.seed, static_cast<uint32_t>(RngPurpose::kSample), epoch, step});
    }
    const Tensor& nodes = layers_ > 0 ? blocks[0].src_nodes : seeds;

    // Forward.
    Tensor xb;
    Tensor h0 = input_forward(nodes, &xb);
    std::vector<SageCache> caches(layers_);
    std::vector<Tensor> hs{h0};
    // Dropout on each layer's input; layer l's mask is Philox stream (kDropout, epoch, step)
    // from l << 40, redrawn in the backward.
    const float p_drop = cfg_.dropout;
    const RngKey drop_key{cfg_.seed, static_cast<uint32_t>(RngPurpose::kDropout), epoch, step};
    auto drop_first = [](int l) { return static_cast<uint64_t>(l) << 40; };
    for (int l = 0; l < layers_; ++l) {
      const Block& bl = blocks[l];
      Tensor in = hs.back();
      if (p_drop > 0) {
        in = Tensor::empty(hs.back().shape(), DType::kF32, dev_);
        dropout(drop_key, drop_first(l), p_drop, hs.back(), in);
      }
      Tensor out = Tensor::empty({bl.num_dst, cfg_.dim}, DType::kF32, dev_);
      sage_layer_forward(agg_, bl.indptr, bl.indices, in, weight(l), bias(l), act(l), out,
                         caches[l]);
      hs.push_back(out);
    }
    // Every hs[l] starts with the ns seed rows (blocks list dst nodes first), so the seeds'
    // layer outputs are hs[l].rows(0, ns).
    Tensor zpre = hs.back();
    const float combine = 1.0f / static_cast<float>(layers_ + 1);
    if (combine_mean_) {
      zpre = zpre.clone();
      for (int l = 0; l < layers_; ++l) axpy(1.0f, hs[l].rows(0, ns), zpre);
      scale(zpre, combine);
    } else if (residual_) {
      zpre = zpre.clone();
      axpy(1.0f, h0.rows(0, ns), zpre);
    }
    Tensor z = zpre, norms;
    if (normalize_) {
      z = Tensor::empty(zpre.shape(), DType::kF32, dev_);
      norms = Tensor::empty({ns}, DType::kF32, dev_);
      l2_normalize_forward(zpre, z, norms);
    }
    Tensor dz = Tensor::empty(z.shape(), DType::kF32, dev_);
    link_loss(loss_, z, u_idx, p_idx, n_idx, inv_temp(), dz, loss_accum_);

    // Backward.
    Tensor dzpre = dz;
    if (normalize_) {
      dzpre = Tensor::empty(z.shape(), DType::kF32, dev_);
      l2_normalize_backward(z, norms, dz, dzpre);
    }
    Tensor dh = dzpre;
    if (combine_mean_) {
      dh = dzpre.clone();
      scale(dh, combine);
    }
    size_t gi = use_features_ ? 1 : 0;  // dense grads: [feature_proj], then W/b per layer
    for (int l = layers_ - 1; l >= 0; --l) {
      const Block& bl = blocks[l];
      Tensor dsrc = Tensor::empty({bl.num_src, cfg_.dim}, DType::kF32, dev_);
      sage_layer_backward(agg_, bl.indptr, bl.t_indptr, bl.t_indices, weight(l), caches[l], dh,
                          act(l), grads_[gi + 2 * l], grads_[gi + 2 * l + 1], dsrc);
      if (p_drop > 0) dropout(drop_key, drop_first(l), p_drop, dsrc, dsrc);
      if (combine_mean_) {
        Tensor seeds_rows = dsrc.rows(0, ns);
        axpy(combine, dzpre, seeds_rows);
      }
      dh = dsrc;
    }
    if (residual_) {
      Tensor head = dh.rows(0, ns);
      axpy(1.0f, dzpre, head);
    }
    const AdamConfig acfg = adam_config(cfg_, lr_);
    if (use_features_) {
      gemm(xb, true, dh, false, grads_[0]);
    }
    std::vector<Tensor*> dense_params, dense_grads, dense_m, dense_v;
    size_t j = 0;
    for (Param& p : params_) {
      if (p.row_sparse) continue;
      dense_params.push_back(&p.value);
      dense_grads.push_back(&grads_[j++]);
      dense_m.push_back(&p.m);
      dense_v.push_back(&p.v);
    }
    if (comm_) comm_->allreduce_mean(dense_grads);
    if (!dense_params.empty()) {
      std::vector<const Tensor*> cg(dense_grads.begin(), dense_grads.end());
      adam_step(dense_params, cg, dense_m, dense_v, acfg, global_step);
    }
    if (use_id_) {
      Param& e = params_[0];
      // LightGCN's decay: loss += emb_l2 * ||E_batch||^2 / (2B), i.e. emb_l2 / B per row.
      sparse_adam_step(e.value, e.m, e.v, nodes, dh, acfg, global_step,
                       cfg_.emb_l2 / static_cast<float>(b));
    }
  }

  void infer(Tensor& user_emb, Tensor& item_emb) override {
    GNNREC_NVTX_RANGE("sage.infer");
    if (!all_nodes_.defined()) {
      std::vector<int32_t> ids(static_cast<size_t>(N_));
      for (int64_t i = 0; i < N_; ++i) ids[i] = static_cast<int32_t>(i);
      all_nodes_ = Tensor::from_vector(ids).to(dev_);
      // The full graph as one block: dst = src = every node, positions = node ids.
      std::vector<int64_t> ip = g_.indptr.to_vector<int64_t>();
      GNNREC_EXPECTS(ip.back() < (int64_t{1} << 31),
                     "graph has {} adjacency entries; full-graph inference needs < 2^31",
                     ip.back());
      std::vector<int32_t> ip32(ip.begin(), ip.end());
      full_indptr_ = Tensor::from_vector(ip32).to(dev_);
    }
    Tensor h0 = input_forward(all_nodes_, nullptr);
    Tensor h = h0;
    Tensor sum;  // layer_combination = mean: the running sum of h0 .. h_L
    if (combine_mean_) sum = h0.clone(detail_stream());
    for (int l = 0; l < layers_; ++l) {
      Tensor out = Tensor::empty({N_, cfg_.dim}, DType::kF32, dev_);
      SageCache cache;
      sage_layer_forward(agg_, full_indptr_, g_.indices, h, weight(l), bias(l), act(l), out,
                         cache);
      h = out;
      if (combine_mean_) axpy(1.0f, h, sum);
    }
    if (combine_mean_) {
      scale(sum, 1.0f / static_cast<float>(layers_ + 1));
      h = sum;
    } else if (residual_) {
      h = h.clone();
      axpy(1.0f, h0, h);
    }
    Tensor z = h;
    if (normalize_) {
      z = Tensor::empty(h.shape(), DType::kF32, dev_);
      Tensor norms = Tensor::empty({N_}, DType::kF32, dev_);
      l2_normalize_forward(h, z, norms);
    }
    user_emb = z.rows(0, U_);
    item_emb = z.rows(U_, N_);
  }

 private:
  // ReLU after layer l: every layer but the last, unless activation = none.
  bool act(int l) const { return relu_ && l + 1 < layers_; }
  Tensor& weight(int l) { return params_[(use_id_ ? 1 : 0) + (use_features_ ? 1 : 0) + 2 * l].value; }
  Tensor& bias(int l) { return params_[(use_id_ ? 1 : 0) + (use_features_ ? 1 : 0) + 2 * l + 1].value; }

  // h0 = E[nodes] + X[nodes] · P. When xb_out is given it receives X[nodes] (for dP).
  // In inference (xb_out null) the id rows of cold nodes are left out.
  Tensor input_forward(const Tensor& nodes, Tensor* xb_out) {
    const int64_t n = nodes.numel();
    Tensor h0 = Tensor::empty({n, cfg_.dim}, DType::kF32, dev_);
    if (use_id_) {
      embedding_gather(params_[0].value, nodes, h0, false);
      if (xb_out == nullptr && use_features_ && cold_nodes_.numel() > 0) zero_rows(cold_nodes_, h0);
    } else {
      h0.fill_zero(detail_stream());
    }
    if (use_features_) {
      const int64_t f = xu_.dim(1) + xi_.dim(1);
      Tensor xb = Tensor::empty({n, f}, DType::kF32, dev_);
      gather_node_features(nodes, U_, xu_, xi_, xb);
      gemm(xb, false, param("feature_proj").value, false, h0, 1.0f, 1.0f);
      if (xb_out) *xb_out = xb;
    }
    return h0;
  }

  Stream detail_stream() { return dev_.is_cuda() ? context_for(dev_).stream : nullptr; }

  TrainConfig cfg_;
  const DeviceGraph& g_;
  Device dev_;
  int layers_ = 0;
  bool use_features_ = false, use_id_ = true, residual_ = false, normalize_ = true;
  bool combine_mean_ = false, relu_ = true;
  AggKind agg_ = AggKind::kMean;
  LossKind loss_ = LossKind::kBpr;
  std::vector<int> fanouts_;
  int32_t U_ = 0;
  int64_t N_ = 0;
  EdgeBatcher batcher_;
  Tensor xu_, xi_, cold_nodes_, all_nodes_, full_indptr_;
  std::vector<Tensor> grads_;
};

// ---------------------------------------------------------------------------------------------
// LightGCN: E_{l+1} = Â E_l over the whole training graph, output = mean_l E_l, dot score.
// Â is symmetric, so the backward of each propagation is the same SpMM.
class LightGcnModel final : public Model {
 public:
  LightGcnModel(const TrainConfig& cfg, const Dataset& ds, const DeviceGraph& g, Device dev)
      : cfg_(cfg), g_(g), dev_(dev), batcher_(cfg, ds, g, dev) {
    lr_ = cfg.lr;
    U_ = ds.num_users;
    N_ = static_cast<int64_t>(ds.num_users) + ds.num_items;
    norm_values_ = symmetric_norm_values(g);
    const RngKey init{cfg.seed, static_cast<uint32_t>(RngPurpose::kInit), 0, 0};
    add_param(params_, "embedding",
              uniform_init({N_, cfg.dim}, cfg.init_std * 1.7320508f, init, 0, dev), false);
    grad_ = Tensor::zeros({N_, cfg.dim}, DType::kF32, dev);
    loss_accum_ = Tensor::zeros({1}, DType::kF32, dev);
  }

  float inv_temp() const override { return 1.0f; }
  bool normalized() const override { return false; }

  void train_step(const Tensor& edge_ids, uint32_t epoch, uint32_t step,
                  int64_t global_step) override {
    GNNREC_NVTX_RANGE("lightgcn.train_step");
    const int64_t b = edge_ids.numel();
    const int k = batcher_.negatives();
    Tensor all = batcher_.node_ids(edge_ids, epoch, step);
    Tensor u_idx = all.rows(0, b), p_idx = all.rows(b, 2 * b);
    Tensor n_idx = all.rows(2 * b, 2 * b + b * k).reshape({b, k});

    Tensor z = propagate(params_[0].value);
    link_loss(LossKind::kBpr, z, u_idx, p_idx, n_idx, 1.0f, grad_, loss_accum_);
    if (cfg_.loss == "bce") {
      GNNREC_FAIL("lightgcn supports loss=bpr only");
    }
    Tensor de = propagate(grad_);  // Â symmetric: the backward is the same averaging
    if (cfg_.emb_l2 > 0) {
      // LightGCN's decay on the ego embeddings of the batch's distinct nodes:
      // loss += emb_l2 * ||E_batch||^2 / (2B).
      UniqueResult uq = unique_with_inverse(all);
      const int64_t m = uq.unique.numel();
      Tensor e_rows = Tensor::empty({m, cfg_.dim}, DType::kF32, dev_);
      Tensor g_rows = Tensor::empty({m, cfg_.dim}, DType::kF32, dev_);
      embedding_gather(params_[0].value, uq.unique, e_rows, false);
      embedding_gather(de, uq.unique, g_rows, false);
      axpy(cfg_.emb_l2 / static_cast<float>(b), e_rows, g_rows);
      scatter_rows(g_rows, uq.unique, de);
    }
    std::vector<Tensor*> grads{&de};
    if (comm_) comm_->allreduce_mean(grads);
    Param& e = params_[0];
    adam_step({&e.value}, {&de}, {&e.m}, {&e.v}, adam_config(cfg_, lr_), global_step);
  }

  void infer(Tensor& user_emb, Tensor& item_emb) override {
    Tensor z = propagate(params_[0].value);
    user_emb = z.rows(0, U_);
    item_emb = z.rows(U_, N_);
  }

 private:
  // mean over l = 0..L of Â^l x
  Tensor propagate(const Tensor& x) {
    GNNREC_NVTX_RANGE("lightgcn.propagate");
    Tensor acc = x.clone(dev_.is_cuda() ? context_for(dev_).stream : nullptr);
    Tensor cur = x;
    for (int l = 0; l < cfg_.layers; ++l) {
      Tensor next = Tensor::empty(x.shape(), DType::kF32, dev_);
      spmm(g_.indptr, g_.indices, norm_values_, cur, next);
      axpy(1.0f, next, acc);
      cur = next;
    }
    scale(acc, 1.0f / static_cast<float>(cfg_.layers + 1));
    return acc;
  }

  TrainConfig cfg_;
  const DeviceGraph& g_;
  Device dev_;
  int32_t U_ = 0;
  int64_t N_ = 0;
  EdgeBatcher batcher_;
  Tensor norm_values_, grad_;
};

}  // namespace

std::unique_ptr<Model> make_model(const TrainConfig& cfg, const Dataset& ds,
                                  const DeviceGraph& graph, Device device) {
  if (cfg.model == "lightgcn") return std::make_unique<LightGcnModel>(cfg, ds, graph, device);
  return std::make_unique<SageModel>(cfg, ds, graph, device);
}

}  // namespace gnnrec
