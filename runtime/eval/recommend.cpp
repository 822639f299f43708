#include "runtime/eval/recommend.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <unordered_map>

#include "gnnrec/build_info.h"
#include "runtime/eval/metrics.h"
#include "runtime/log.h"
#include "runtime/npy.h"
#include "runtime/ops_topk.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;

std::string join(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

nlohmann::json read_json(const std::string& path, const char* what) {
  GNNREC_EXPECTS(fs::exists(path), "{}: missing ({} directory expected)", path, what);
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    GNNREC_FAIL("{}: not valid JSON ({})", path, e.what());
  }
}

template <typename T>
T field(const nlohmann::json& j, const char* key, const std::string& path) {
  GNNREC_EXPECTS(j.contains(key), "{}: field '{}' is missing", path, key);
  try {
    return j[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    GNNREC_FAIL("{}: field '{}' has the wrong type ({})", path, key, j[key].dump());
  }
}

Tensor load_npy_checked(const std::string& path, DType dt, const Shape& shape) {
  GNNREC_EXPECTS(fs::exists(path), "{}: missing", path);
  Tensor t = load_npy(path);
  GNNREC_EXPECTS(t.dtype() == dt, "{}: dtype {}, expected {}", path, dtype_name(t.dtype()),
                 dtype_name(dt));
  GNNREC_EXPECTS(t.shape() == shape, "{}: shape {}, expected {}", path, shape_str(t.shape()),
                 shape_str(shape));
  return t;
}

std::vector<int32_t> read_users_file(const std::string& path, const Dataset& ds) {
  GNNREC_EXPECTS(fs::exists(path), "--users {}: no such file", path);
  std::unordered_map<std::string, int32_t> index;
  index.reserve(ds.user_ids.size());
  for (size_t u = 0; u < ds.user_ids.size(); ++u)
    index.emplace(ds.user_ids[u], static_cast<int32_t>(u));
  std::vector<int32_t> users;
  const std::string text = read_file(path);
  size_t p = 0;
  int64_t line = 0;
  while (p < text.size()) {
    size_t e = text.find('\n', p);
    if (e == std::string::npos) e = text.size();
    std::string s = text.substr(p, e - p);
    p = e + 1;
    ++line;
    while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
    size_t b = s.find_first_not_of(" \t");
    if (b == std::string::npos || s[b] == '#') continue;
    s = s.substr(b);
    auto it = index.find(s);
    GNNREC_EXPECTS(it != index.end(), "{}:{}: user '{}' is not in {}", path, line, s,
                   join(ds.dir, "user_ids.txt"));
    users.push_back(it->second);
  }
  GNNREC_EXPECTS(!users.empty(), "{}: lists no users", path);
  return users;
}

void append_json_string(std::string& out, const std::string& s) { out += nlohmann::json(s).dump(); }

}  // namespace

std::string absolute_path(const std::string& p) {
  std::error_code ec;
  fs::path a = fs::weakly_canonical(fs::absolute(p), ec);
  return ec ? fs::absolute(p).lexically_normal().string() : a.string();
}

EmbeddingExport load_embedding_export(const std::string& dir) {
  GNNREC_EXPECTS(fs::is_directory(dir), "{}: not an embeddings directory (run `gnnrec embed`)",
                 dir);
  EmbeddingExport e;
  e.dir = dir;
  const std::string mpath = join(dir, "embeddings.json");
  e.manifest = read_json(mpath, "embeddings");
  const auto& m = e.manifest;
  GNNREC_EXPECTS(m.is_object() && m.value("kind", "") == "gnnrec-embeddings",
                 "{}: kind must be \"gnnrec-embeddings\"", mpath);
  const int version = field<int>(m, "schema_version", mpath);
  GNNREC_EXPECTS(version == kEmbeddingsSchemaVersion,
                 "{}: schema_version {} is not supported (this build reads {})", mpath, version,
                 kEmbeddingsSchemaVersion);
  const int64_t dim = field<int64_t>(m, "dim", mpath);
  const int64_t users = field<int64_t>(m, "num_users", mpath);
  const int64_t items = field<int64_t>(m, "num_items", mpath);
  if (m.contains("score")) {
    const std::string score = field<std::string>(m, "score", mpath);
    GNNREC_EXPECTS(score == "dot", "{}: score '{}' is not supported (only \"dot\")", mpath, score);
  }
  if (m.contains("inv_temp") && !m["inv_temp"].is_null()) {
    e.inv_temp = field<float>(m, "inv_temp", mpath);
    GNNREC_EXPECTS(e.inv_temp > 0 && std::isfinite(e.inv_temp),
                   "{}: inv_temp must be a positive number, got {}", mpath, e.inv_temp);
  }
  e.user_emb = load_npy_checked(join(dir, "user_emb.npy"), DType::kF32, {users, dim});
  e.item_emb = load_npy_checked(join(dir, "item_emb.npy"), DType::kF32, {items, dim});
  return e;
}

Csr build_mask(const Dataset& ds, const std::string& mask) {
  std::vector<int32_t> u, i;
  auto add = [&](const EdgeList& e) {
    u.insert(u.end(), e.user.begin(), e.user.end());
    i.insert(i.end(), e.item.begin(), e.item.end());
  };
  if (mask == "train") {
    add(ds.train);
  } else if (mask == "train+val") {
    add(ds.train);
    add(ds.val);
  } else {
    GNNREC_EXPECTS(mask == "none", "--mask '{}': expected train, train+val or none", mask);
  }
  return csr_from_pairs(ds.num_users, u, i);
}

nlohmann::json recommend(const RecommendOptions& opt) {
  GNNREC_EXPECTS(opt.k >= 1, "--k must be >= 1, got {}", opt.k);
  GNNREC_EXPECTS(!opt.out_dir.empty(), "--out is required");
  const auto t0 = std::chrono::steady_clock::now();
  EmbeddingExport ex = load_embedding_export(opt.embeddings_dir);
  std::string ds_dir = opt.dataset_dir;
  if (ds_dir.empty()) {
    ds_dir =
        field<std::string>(ex.manifest, "dataset_dir", join(opt.embeddings_dir, "embeddings.json"));
  }
  const Dataset ds = load_dataset(ds_dir);
  GNNREC_EXPECTS(ex.user_emb.dim(0) == ds.num_users && ex.item_emb.dim(0) == ds.num_items,
                 "{}: embeddings for {} users and {} items, but dataset {} has {} and {}",
                 opt.embeddings_dir, ex.user_emb.dim(0), ex.item_emb.dim(0), ds_dir, ds.num_users,
                 ds.num_items);
  const Csr mask = build_mask(ds, opt.mask);
  std::vector<int32_t> users;
  if (opt.users_file.empty()) {
    users.resize(ds.num_users);
    for (int32_t u = 0; u < ds.num_users; ++u) users[u] = u;
  } else {
    users = read_users_file(opt.users_file, ds);
  }
  const Device dev = resolve_device(opt.device);
  const int K = opt.k;
  const int64_t R = static_cast<int64_t>(users.size()), d = ex.user_emb.dim(1);
  const TopKVariant variant =
      topk_masked_variant(dev, std::min<int64_t>(R, opt.batch_users), ds.num_items, K);
  log_info("recommend: {} users x {} items, d = {}, K = {}, mask {}, on {} ({})", R, ds.num_items,
           d, K, opt.mask, dev.str(), topk_variant_name(variant));

  const Tensor items = ex.item_emb.to(dev);
  std::vector<int32_t> ids(R * K);
  std::vector<float> scores(R * K);
  for (int64_t b0 = 0; b0 < R; b0 += opt.batch_users) {
    const int64_t bn = std::min(opt.batch_users, R - b0);
    std::vector<int32_t> batch(users.begin() + b0, users.begin() + b0 + bn);
    Tensor q = Tensor::empty({bn, d}, DType::kF32);
    for (int64_t i = 0; i < bn; ++i) {
      std::copy(ex.user_emb.data<float>() + batch[i] * d,
                ex.user_emb.data<float>() + (batch[i] + 1) * d, q.data<float>() + i * d);
    }
    Tensor indptr, indices;
    gather_csr_rows(mask, batch, indptr, indices);
    Tensor out_i = Tensor::empty({bn, K}, DType::kI32, dev);
    Tensor out_s = Tensor::empty({bn, K}, DType::kF32, dev);
    topk_masked(q.to(dev), items, indptr.to(dev), indices.to(dev), K, out_i, out_s);
    const auto hi = out_i.to_vector<int32_t>();
    const auto hs = out_s.to_vector<float>();
    std::copy(hi.begin(), hi.end(), ids.begin() + b0 * K);
    std::copy(hs.begin(), hs.end(), scores.begin() + b0 * K);
  }
  if (ex.inv_temp != 1.0f) {
    for (int64_t e = 0; e < R * K; ++e) {
      if (ids[e] >= 0) scores[e] *= ex.inv_temp;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Remove a previous manifest first: until the new one is written last, the directory does
  // not claim to be complete.
  fs::create_directories(opt.out_dir);
  const std::string mpath = join(opt.out_dir, "recommendations.json");
  fs::remove(mpath);
  save_npy(join(opt.out_dir, "recommendations.npy"), Tensor::from_vector(ids, {R, K}));
  save_npy(join(opt.out_dir, "recommendation_scores.npy"), Tensor::from_vector(scores, {R, K}));
  save_npy(join(opt.out_dir, "recommendation_users.npy"), Tensor::from_vector(users, {R}));
  std::string jsonl;
  jsonl.reserve(static_cast<size_t>(R) * (40 + K * 30));
  for (int64_t r = 0; r < R; ++r) {
    jsonl += "{\"user\": ";
    append_json_string(jsonl, ds.user_ids[users[r]]);
    jsonl += ", \"items\": [";
    int n = 0;
    for (int k = 0; k < K && ids[r * K + k] >= 0; ++k, ++n) {
      if (k) jsonl += ", ";
      append_json_string(jsonl, ds.item_ids[ids[r * K + k]]);
    }
    jsonl += "], \"scores\": [";
    for (int k = 0; k < n; ++k) {
      if (k) jsonl += ", ";
      jsonl += fmt::format("{}", scores[r * K + k]);
    }
    jsonl += "]}\n";
  }
  write_file_atomic(join(opt.out_dir, "recommendations.jsonl"), jsonl);
  nlohmann::json m;
  m["schema_version"] = kRecommendationsSchemaVersion;
  m["kind"] = "gnnrec-recommendations";
  m["k"] = K;
  m["mask"] = opt.mask;
  m["num_users"] = R;
  m["num_items"] = ds.num_items;
  m["all_users"] = opt.users_file.empty();
  m["users_file"] = opt.users_file.empty() ? nlohmann::json(nullptr)
                                           : nlohmann::json(absolute_path(opt.users_file));
  m["embeddings_dir"] = absolute_path(opt.embeddings_dir);
  m["dataset_dir"] = absolute_path(ds_dir);
  m["model"] = ex.manifest.value("model", nlohmann::json(nullptr));
  m["score"] = "dot";
  m["inv_temp"] = ex.inv_temp;
  m["device"] = dev.str();
  m["variant"] = topk_variant_name(variant);
  m["seconds"] = seconds;
  m["commit"] = GNNREC_GIT_COMMIT;
  write_file_atomic(mpath, m.dump(2) + "\n");
  log_info("recommend: wrote {} ({} rows, {:.2f} s)", opt.out_dir, R, seconds);
  return m;
}

Recommendations load_recommendations(const std::string& dir) {
  GNNREC_EXPECTS(fs::is_directory(dir),
                 "{}: not a recommendations directory (run `gnnrec recommend`)", dir);
  Recommendations r;
  r.dir = dir;
  const std::string mpath = join(dir, "recommendations.json");
  r.manifest = read_json(mpath, "recommendations");
  const auto& m = r.manifest;
  GNNREC_EXPECTS(m.is_object() && m.value("kind", "") == "gnnrec-recommendations",
                 "{}: kind must be \"gnnrec-recommendations\"", mpath);
  const int version = field<int>(m, "schema_version", mpath);
  GNNREC_EXPECTS(version == kRecommendationsSchemaVersion,
                 "{}: schema_version {} is not supported (this build reads {})", mpath, version,
                 kRecommendationsSchemaVersion);
  r.k = field<int>(m, "k", mpath);
  const int64_t rows = field<int64_t>(m, "num_users", mpath);
  GNNREC_EXPECTS(r.k >= 1 && rows >= 0, "{}: k = {} and num_users = {} are not valid", mpath, r.k,
                 rows);
  r.ids = load_npy_checked(join(dir, "recommendations.npy"), DType::kI32, {rows, r.k})
              .to_vector<int32_t>();
  r.scores = load_npy_checked(join(dir, "recommendation_scores.npy"), DType::kF32, {rows, r.k})
                 .to_vector<float>();
  const std::string upath = join(dir, "recommendation_users.npy");
  if (fs::exists(upath)) {
    r.users = load_npy_checked(upath, DType::kI32, {rows}).to_vector<int32_t>();
  } else {
    r.users.resize(rows);
    for (int64_t u = 0; u < rows; ++u) r.users[u] = static_cast<int32_t>(u);
  }
  return r;
}

}  // namespace gnnrec
