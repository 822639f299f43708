#include "runtime/export.h"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "runtime/data/dataset.h"
#include "runtime/fsutil.h"
#include "runtime/graph.h"
#include "runtime/log.h"
#include "runtime/model.h"
#include "runtime/npy.h"
#include "runtime/trainer.h"

namespace gnnrec {

void quantize_rows_int8(const Tensor& x, Tensor& q, Tensor& scale) {
  GNNREC_EXPECTS(x.dtype() == DType::kF32 && x.ndim() == 2 && x.device().is_cpu(),
                 "quantize_rows_int8: expects a host f32 matrix");
  const int64_t n = x.dim(0), d = x.dim(1);
  q = Tensor::empty({n, d}, DType::kI8);
  scale = Tensor::empty({n}, DType::kF32);
  const float* px = x.data<float>();
  int8_t* pq = q.data<int8_t>();
  float* ps = scale.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n; ++r) {
    float mx = 0;
    for (int64_t j = 0; j < d; ++j) mx = std::max(mx, std::fabs(px[r * d + j]));
    const float s = mx > 0 ? mx / 127.0f : 1.0f;
    ps[r] = s;
    for (int64_t j = 0; j < d; ++j) {
      const float v = std::nearbyint(px[r * d + j] / s);
      pq[r * d + j] = static_cast<int8_t>(std::max(-127.0f, std::min(127.0f, v)));
    }
  }
}

std::string export_embeddings(const ExportOptions& opts) {
  namespace fs = std::filesystem;
  const TrainConfig cfg = load_run_config(opts.run_dir);
  const std::string out = opts.out_dir.empty() ? opts.run_dir + "/export" : opts.out_dir;
  GNNREC_EXPECTS(opts.force || !path_exists(out) || fs::is_empty(out),
                 "{} exists (use --force to replace it)", out);
  GNNREC_EXPECTS(path_exists(opts.run_dir + "/best"),
                 "{}: no best/ parameters (did training finish an epoch?)", opts.run_dir);
  const Device dev = resolve_device(opts.device);
  const Dataset ds = load_dataset(cfg.dataset);
  const DeviceGraph graph = make_device_graph(ds, dev);
  std::unique_ptr<Model> model = make_model(cfg, ds, graph, dev);
  load_params(opts.run_dir + "/best", model->params(), false);
  log_info("inference over {} users and {} items on {}", ds.num_users, ds.num_items, dev.str());
  Tensor ue, ie;
  model->infer(ue, ie);
  const Tensor u = ue.to(Device::cpu()), i = ie.to(Device::cpu());

  const std::string tmp = make_temp_dir_for(out);
  nlohmann::json files = nlohmann::json::array();
  auto put = [&](const std::string& name, const Tensor& t) {
    save_npy(tmp + "/" + name, t);
    files.push_back(name);
  };
  put("user_emb.npy", u);
  put("item_emb.npy", i);
  if (opts.f16) {
    put("user_emb_f16.npy", convert_float(u, DType::kF16));
    put("item_emb_f16.npy", convert_float(i, DType::kF16));
  }
  if (opts.int8) {
    for (const auto& [name, t] : {std::pair<std::string, Tensor>{"user_emb", u}, {"item_emb", i}}) {
      Tensor q, s;
      quantize_rows_int8(t, q, s);
      put(name + "_int8.npy", q);
      put(name + "_int8_scale.npy", s);
    }
  }
  const nlohmann::json manifest = {
      {"schema_version", kEmbeddingsSchemaVersion},
      {"kind", "gnnrec-embeddings"},
      {"model", cfg.model},
      {"run_dir", fs::absolute(opts.run_dir).lexically_normal().string()},
      {"dataset_dir", fs::absolute(cfg.dataset).lexically_normal().string()},
      {"dim", u.dim(1)},
      {"num_users", ds.num_users},
      {"num_items", ds.num_items},
      {"score", "dot"},
      {"inv_temp", model->inv_temp()},
      {"normalized", model->normalized()},
      {"files", files}};
  write_file_atomic(tmp + "/embeddings.json", manifest.dump(2));
  commit_dir(tmp, out);
  log_info("wrote {}", out);
  return out;
}

}  // namespace gnnrec
