#include "runtime/serve/model.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/npy.h"
#include "runtime/ops_topk.h"

namespace gnnrec::serve {
namespace fs = std::filesystem;

std::optional<int32_t> Catalog::find_user(const std::string& raw) const {
  auto it = user_index.find(raw);
  if (it == user_index.end()) return std::nullopt;
  return it->second;
}

std::optional<int32_t> Catalog::find_item(const std::string& raw) const {
  auto it = item_index.find(raw);
  if (it == item_index.end()) return std::nullopt;
  return it->second;
}

std::shared_ptr<const Catalog> make_catalog(Dataset&& d) {
  auto c = std::make_shared<Catalog>();
  c->dir = d.dir;
  c->num_users = d.num_users;
  c->num_items = d.num_items;
  c->user_ids = std::move(d.user_ids);
  c->item_ids = std::move(d.item_ids);
  c->user_index.reserve(c->user_ids.size());
  for (size_t i = 0; i < c->user_ids.size(); ++i) {
    // First occurrence wins; prepare writes unique ids, so a duplicate is only a warning.
    if (!c->user_index.emplace(c->user_ids[i], static_cast<int32_t>(i)).second) {
      log_warn("{}/user_ids.txt: user id '{}' appears twice; line {} is unreachable", c->dir,
               c->user_ids[i], i + 1);
    }
  }
  c->item_index.reserve(c->item_ids.size());
  for (size_t i = 0; i < c->item_ids.size(); ++i) {
    c->item_index.emplace(c->item_ids[i], static_cast<int32_t>(i));
  }
  c->items = std::move(d.items);
  c->items.resize(c->num_items);  // metadata may be absent: empty strings, unknown price
  c->user_items = std::move(d.user_items);
  c->val_user_items = build_csr(c->num_users, d.val.user, d.val.item);
  c->timestamps = std::move(d.train.timestamp);
  c->ratings = std::move(d.train.rating);
  c->item_degree.assign(c->num_items, 0);
  for (int32_t i : c->user_items.indices) c->item_degree[i] += 1;
  c->popular.resize(c->num_items);
  std::iota(c->popular.begin(), c->popular.end(), 0);
  std::stable_sort(c->popular.begin(), c->popular.end(), [&](int32_t x, int32_t y) {
    return c->item_degree[x] > c->item_degree[y];  // stable: ties keep the smaller id first
  });
  return c;
}

namespace {

nlohmann::json read_manifest(const std::string& path, const char* kind, int version) {
  GNNREC_EXPECTS(fs::exists(path), "{}: missing", path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    GNNREC_FAIL("{}: not valid JSON ({})", path, e.what());
  }
  GNNREC_EXPECTS(j.is_object(), "{}: must be a JSON object", path);
  GNNREC_EXPECTS(j.contains("kind") && j["kind"] == kind, "{}: kind must be \"{}\"", path, kind);
  GNNREC_EXPECTS(j.contains("schema_version") && j["schema_version"].is_number_integer(),
                 "{}: no integer schema_version", path);
  GNNREC_EXPECTS(j["schema_version"].get<int>() == version,
                 "{}: schema_version {} is not supported (this build reads {})", path,
                 j["schema_version"].get<int>(), version);
  return j;
}

int64_t manifest_int(const nlohmann::json& j, const char* key, const std::string& path) {
  GNNREC_EXPECTS(j.contains(key) && j[key].is_number_integer() && j[key].get<int64_t>() >= 0,
                 "{}: field '{}' must be a non-negative integer", path, key);
  return j[key].get<int64_t>();
}

Tensor load_array(const std::string& path, DType dtype, const Shape& shape) {
  GNNREC_EXPECTS(fs::exists(path), "{}: missing", path);
  Tensor t = load_npy(path);
  GNNREC_EXPECTS(t.dtype() == dtype, "{}: dtype is {}, expected {}", path, dtype_name(t.dtype()),
                 dtype_name(dtype));
  GNNREC_EXPECTS(t.shape() == shape, "{}: shape is {}, expected {}", path, shape_str(t.shape()),
                 shape_str(shape));
  return t;
}

bool same_dir(const std::string& a, const std::string& b) {
  std::error_code ea, eb;
  const fs::path ca = fs::weakly_canonical(a, ea), cb = fs::weakly_canonical(b, eb);
  return !ea && !eb && ca == cb;
}

double now_unix() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

EmbeddingModel load_embedding_model(const std::string& export_dir,
                                    const std::string& recommendations_dir, const Catalog& cat) {
  EmbeddingModel m;
  m.export_dir = export_dir;
  const std::string mp = (fs::path(export_dir) / "embeddings.json").string();
  m.manifest = read_manifest(mp, "gnnrec-embeddings", kEmbeddingsSchemaVersion);
  const auto& j = m.manifest;
  m.name = j.contains("model") && j["model"].is_string() && !j["model"].get<std::string>().empty()
               ? j["model"].get<std::string>()
               : fs::path(export_dir).lexically_normal().filename().string();
  if (m.name.empty()) m.name = "model";
  const std::string score = j.contains("score") && j["score"].is_string()
                                ? j["score"].get<std::string>()
                                : std::string("dot");
  GNNREC_EXPECTS(score == "dot",
                 "{}: score is \"{}\"; the server ranks by dot products and needs \"dot\"", mp,
                 score);
  if (j.contains("inv_temp") && !j["inv_temp"].is_null()) {
    GNNREC_EXPECTS(j["inv_temp"].is_number() && j["inv_temp"].get<double>() > 0 &&
                       std::isfinite(j["inv_temp"].get<double>()),
                   "{}: inv_temp must be a positive number", mp);
    m.inv_temp = j["inv_temp"].get<float>();
  }
  m.dim = manifest_int(j, "dim", mp);
  GNNREC_EXPECTS(m.dim > 0, "{}: dim must be positive", mp);
  const int64_t users = manifest_int(j, "num_users", mp), items = manifest_int(j, "num_items", mp);
  GNNREC_EXPECTS(users == cat.num_users && items == cat.num_items,
                 "{}: {} users / {} items, but the dataset {} has {} / {}", mp, users, items,
                 cat.dir, cat.num_users, cat.num_items);
  m.user_emb =
      load_array((fs::path(export_dir) / "user_emb.npy").string(), DType::kF32, {users, m.dim});
  m.item_emb =
      load_array((fs::path(export_dir) / "item_emb.npy").string(), DType::kF32, {items, m.dim});
  if (recommendations_dir.empty()) return m;

  m.recommendations_dir = recommendations_dir;
  const std::string rp = (fs::path(recommendations_dir) / "recommendations.json").string();
  const nlohmann::json r =
      read_manifest(rp, "gnnrec-recommendations", kRecommendationsSchemaVersion);
  const int64_t k = manifest_int(r, "k", rp);
  GNNREC_EXPECTS(k >= 1, "{}: k must be at least 1", rp);
  const int64_t rows = manifest_int(r, "num_users", rp);
  if (r.contains("num_items")) {
    GNNREC_EXPECTS(manifest_int(r, "num_items", rp) == items,
                   "{}: num_items is {}, the embeddings have {}", rp, r["num_items"].dump(), items);
  }
  if (r.contains("mask") && r["mask"].is_string()) m.mask = r["mask"].get<std::string>();
  GNNREC_EXPECTS(m.mask == "train" || m.mask == "train+val" || m.mask == "none",
                 "{}: mask is \"{}\"; expected train, train+val or none", rp, m.mask);
  if (r.contains("embeddings_dir") && r["embeddings_dir"].is_string() &&
      !same_dir(r["embeddings_dir"].get<std::string>(), export_dir)) {
    log_warn("{}: computed from {}, not from {}; precomputed and live answers may differ", rp,
             r["embeddings_dir"].get<std::string>(), export_dir);
  }
  const fs::path rd(recommendations_dir);
  m.rec_ids = load_array((rd / "recommendations.npy").string(), DType::kI32, {rows, k});
  m.rec_scores = load_array((rd / "recommendation_scores.npy").string(), DType::kF32, {rows, k});
  const int32_t* ids = m.rec_ids.data<int32_t>();
  for (int64_t i = 0; i < rows * k; ++i) {
    GNNREC_EXPECTS(ids[i] >= -1 && ids[i] < items,
                   "{}/recommendations.npy: row {} column {} holds item {}, outside [-1, {})",
                   recommendations_dir, i / k, i % k, ids[i], items);
  }
  m.rec_row.assign(users, -1);
  const std::string up = (rd / "recommendation_users.npy").string();
  if (fs::exists(up)) {
    const Tensor ru = load_array(up, DType::kI32, {rows});
    const int32_t* u = ru.data<int32_t>();
    for (int64_t row = 0; row < rows; ++row) {
      GNNREC_EXPECTS(u[row] >= 0 && u[row] < users && m.rec_row[u[row]] < 0,
                     "{}: row {} names user {}, outside [0, {}) or named twice", up, row, u[row],
                     users);
      m.rec_row[u[row]] = static_cast<int32_t>(row);
    }
  } else {
    GNNREC_EXPECTS(rows == users,
                   "{}: {} rows but the embeddings have {} users, and there is no "
                   "recommendation_users.npy saying whose rows they are",
                   rp, rows, users);
    for (int64_t u = 0; u < users; ++u) m.rec_row[u] = static_cast<int32_t>(u);
  }
  m.rec_k = static_cast<int>(k);
  return m;
}

std::shared_ptr<const ServingState> load_serving_state(const ModelSources& src,
                                                       uint64_t generation) {
  const auto t0 = std::chrono::steady_clock::now();
  GNNREC_EXPECTS(!src.export_dir.empty(), "--model: an export dir is required");
  std::string dataset_dir = src.dataset_dir;
  if (dataset_dir.empty()) {
    const std::string mp = (fs::path(src.export_dir) / "embeddings.json").string();
    const nlohmann::json j = read_manifest(mp, "gnnrec-embeddings", kEmbeddingsSchemaVersion);
    GNNREC_EXPECTS(j.contains("dataset_dir") && j["dataset_dir"].is_string(),
                   "{}: no dataset_dir; pass --dataset", mp);
    dataset_dir = j["dataset_dir"].get<std::string>();
  }
  auto state = std::make_shared<ServingState>();
  state->catalog = make_catalog(load_dataset(dataset_dir));
  const Catalog& cat = *state->catalog;
  state->a = load_embedding_model(src.export_dir, src.recommendations_dir, cat);
  if (!src.export_b_dir.empty()) {
    state->b = load_embedding_model(src.export_b_dir, src.recommendations_b_dir, cat);
  } else {
    GNNREC_EXPECTS(src.recommendations_b_dir.empty(),
                   "--recommendations-b needs --model-b (model B's export dir)");
  }
  for (const EmbeddingModel* m : {&state->a, state->b ? &*state->b : nullptr}) {
    if (!m || !m->manifest.contains("dataset_dir") || !m->manifest["dataset_dir"].is_string()) {
      continue;
    }
    if (!same_dir(m->manifest["dataset_dir"].get<std::string>(), dataset_dir)) {
      log_warn("{}: trained on {}, served with the dataset {} (counts match)", m->export_dir,
               m->manifest["dataset_dir"].get<std::string>(), dataset_dir);
    }
  }
  state->generation = generation;
  state->loaded_unix = now_unix();
  state->load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return state;
}

const char* source_name(Source s) {
  switch (s) {
    case Source::kPrecomputed:
      return "precomputed";
    case Source::kLive:
      return "live";
    case Source::kColdStart:
      return "cold_start";
  }
  return "?";
}

namespace {

// One query row against every item, `excl` (sorted ascending) masked.
void live_topk(const Tensor& query, const Tensor& items, const std::vector<int32_t>& excl, int k,
               float inv_temp, Recommendation& out) {
  const Tensor indptr = Tensor::from_vector<int64_t>({0, static_cast<int64_t>(excl.size())});
  const Tensor indices = Tensor::from_vector<int32_t>(excl, {static_cast<int64_t>(excl.size())});
  Tensor ids = Tensor::empty({1, k}, DType::kI32), scores = Tensor::empty({1, k}, DType::kF32);
  // Requests already run in parallel on the worker pool: one OpenMP thread per request keeps
  // N workers from each starting a team of every core (oversubscription under load).
  thread_local const bool single_threaded = [] {
    omp_set_num_threads(1);
    return true;
  }();
  (void)single_threaded;
  topk_masked(query, items, indptr, indices, k, ids, scores);
  const int32_t* id = ids.data<int32_t>();
  const float* sc = scores.data<float>();
  for (int i = 0; i < k && id[i] >= 0; ++i) {
    out.items.push_back(id[i]);
    out.scores.push_back(inv_temp * sc[i]);
  }
}

}  // namespace

Recommendation recommend(const Catalog& cat, const EmbeddingModel& m, std::optional<int32_t> user,
                         const std::vector<int32_t>& history, int k, bool force_live) {
  GNNREC_EXPECTS(k >= 1, "recommend: k must be at least 1, got {}", k);
  Recommendation r;
  if (user) {
    const int32_t u = *user;
    GNNREC_EXPECTS(u >= 0 && u < cat.num_users, "recommend: user {} outside [0, {})", u,
                   cat.num_users);
    if (!force_live && m.has_precomputed() && k <= m.rec_k && m.rec_row[u] >= 0) {
      r.source = Source::kPrecomputed;
      const int64_t row = m.rec_row[u];
      const int32_t* id = m.rec_ids.data<int32_t>() + row * m.rec_k;
      const float* sc = m.rec_scores.data<float>() + row * m.rec_k;
      for (int i = 0; i < k && id[i] >= 0; ++i) {
        r.items.push_back(id[i]);
        r.scores.push_back(sc[i]);
      }
      return r;
    }
    r.source = Source::kLive;
    const auto& ui = cat.user_items;
    std::vector<int32_t> seen;
    if (m.mask != "none")
      seen.assign(ui.indices.begin() + ui.indptr[u], ui.indices.begin() + ui.indptr[u + 1]);
    if (m.mask == "train+val") {
      const auto& vi = cat.val_user_items;
      seen.insert(seen.end(), vi.indices.begin() + vi.indptr[u],
                  vi.indices.begin() + vi.indptr[u + 1]);
      std::sort(seen.begin(), seen.end());
      seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    }
    live_topk(m.user_emb.rows(u, u + 1), m.item_emb, seen, k, m.inv_temp, r);
    return r;
  }
  r.source = Source::kColdStart;
  std::vector<int32_t> excl = history;
  std::sort(excl.begin(), excl.end());
  excl.erase(std::unique(excl.begin(), excl.end()), excl.end());
  if (!excl.empty()) {
    r.detail = "history";
    const int64_t d = m.dim;
    Tensor q = Tensor::zeros({1, d}, DType::kF32);
    float* qp = q.data<float>();
    const float* e = m.item_emb.data<float>();
    for (int32_t i : excl) {
      GNNREC_EXPECTS(i >= 0 && i < cat.num_items, "recommend: item {} outside [0, {})", i,
                     cat.num_items);
      for (int64_t j = 0; j < d; ++j) qp[j] += e[int64_t(i) * d + j];
    }
    for (int64_t j = 0; j < d; ++j) qp[j] /= static_cast<float>(excl.size());
    live_topk(q, m.item_emb, excl, k, m.inv_temp, r);
    return r;
  }
  r.detail = "popular";
  for (int32_t i : cat.popular) {
    if (static_cast<int>(r.items.size()) >= k) break;
    r.items.push_back(i);
    r.scores.push_back(static_cast<float>(cat.item_degree[i]));
  }
  return r;
}

std::vector<HistoryEntry> user_history(const Catalog& cat, int32_t user, int n) {
  std::vector<HistoryEntry> h;
  const auto& ui = cat.user_items;
  std::vector<std::pair<int64_t, int64_t>> order;  // (timestamp, edge id)
  for (int64_t p = ui.indptr[user]; p < ui.indptr[user + 1]; ++p) {
    const int64_t e = ui.edge_ids.empty() ? p : ui.edge_ids[p];
    const int64_t ts = e < static_cast<int64_t>(cat.timestamps.size()) ? cat.timestamps[e] : 0;
    order.emplace_back(ts, p);
  }
  std::sort(order.begin(), order.end(), [&](const auto& x, const auto& y) {
    if (x.first != y.first) return x.first > y.first;
    const int64_t ex = ui.edge_ids.empty() ? x.second : ui.edge_ids[x.second];
    const int64_t ey = ui.edge_ids.empty() ? y.second : ui.edge_ids[y.second];
    return ex > ey;
  });
  for (const auto& [ts, p] : order) {
    if (static_cast<int>(h.size()) >= n) break;
    const int64_t e = ui.edge_ids.empty() ? p : ui.edge_ids[p];
    HistoryEntry x;
    x.item = ui.indices[p];
    x.timestamp = ts;
    x.rating = e < static_cast<int64_t>(cat.ratings.size()) ? cat.ratings[e] : 0.0f;
    h.push_back(x);
  }
  return h;
}

}  // namespace gnnrec::serve
