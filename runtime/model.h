// Recommendation models trained by link prediction. One interface for all three:
//  - graphsage: h0 = E[id] + [x_user | x_item] · [P_user; P_item]; L SAGE layers over sampled
//    blocks (mean or max), optional residual from h0, optional L2 normalisation; dot score.
//  - mf: the same model with 0 layers and no features (matrix factorisation, BPR).
//  - lightgcn: E propagated over the symmetric-normalised graph, layer mean, dot score.
// Parameters, gradients and optimiser state live on the model's device; a training step makes
// no host round trip except the sizes the sampler reads back.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "runtime/config.h"
#include "runtime/data/dataset.h"
#include "runtime/graph.h"
#include "runtime/tensor.h"

namespace gnnrec {

class Communicator;

// A learnable tensor with its Adam moments. Row-sparse parameters (embedding tables of
// graphsage/mf) are updated only at the rows a batch touched.
struct Param {
  std::string name;
  Tensor value, m, v;
  bool row_sparse = false;
};

class Model {
 public:
  virtual ~Model() = default;
  // One optimisation step on the training edges `edge_ids` (i64, on the model's device).
  // epoch/step key the random streams; global_step (1-based) drives Adam's bias correction.
  virtual void train_step(const Tensor& edge_ids, uint32_t epoch, uint32_t step,
                          int64_t global_step) = 0;
  // Embeddings of every user [U, d] and item [I, d] with full neighbourhoods.
  virtual void infer(Tensor& user_emb, Tensor& item_emb) = 0;
  // Score scale applied to dot products (1/temperature when outputs are normalised).
  virtual float inv_temp() const = 0;
  virtual bool normalized() const = 0;

  std::vector<Param>& params() { return params_; }
  Param& param(const std::string& name);
  // Sum of batch losses since the last reset (f32 [1] on the device).
  Tensor& loss_accum() { return loss_accum_; }
  void set_communicator(Communicator* c) { comm_ = c; }
  // Learning rate of the next steps (the trainer applies the schedule per epoch).
  void set_learning_rate(float lr) { lr_ = lr; }

 protected:
  std::vector<Param> params_;
  Tensor loss_accum_;
  Communicator* comm_ = nullptr;
  float lr_ = 1e-3f;
};

std::unique_ptr<Model> make_model(const TrainConfig& cfg, const Dataset& ds,
                                  const DeviceGraph& graph, Device device);

}  // namespace gnnrec
