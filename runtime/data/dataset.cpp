// Loading and validating a prepared dataset directory (format in runtime/data/dataset.h), and
// the CSR builder shared by `gnnrec prepare` and the tests.
#include "runtime/data/dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "runtime/npy.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;

std::string join(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

// Loads `name` and checks its dtype and shape; -1 in `shape` accepts any extent.
Tensor load_checked(const std::string& dir, const std::string& name, DType dtype,
                    const Shape& shape) {
  const std::string path = join(dir, name);
  GNNREC_EXPECTS(fs::exists(path), "{}: missing from the dataset directory", path);
  Tensor t = load_npy(path);
  GNNREC_EXPECTS(t.dtype() == dtype, "{}: dtype is {}, expected {}", path, dtype_name(t.dtype()),
                 dtype_name(dtype));
  bool ok = t.ndim() == static_cast<int>(shape.size());
  for (size_t i = 0; ok && i < shape.size(); ++i) ok = shape[i] < 0 || t.dim(i) == shape[i];
  GNNREC_EXPECTS(ok, "{}: shape is {}, expected {}", path, shape_str(t.shape()), shape_str(shape));
  return t;
}

std::vector<std::string> read_lines(const std::string& path) {
  GNNREC_EXPECTS(fs::exists(path), "{}: missing from the dataset directory", path);
  const std::string text = read_file(path);
  std::vector<std::string> lines;
  size_t p = 0;
  while (p < text.size()) {
    size_t e = text.find('\n', p);
    if (e == std::string::npos) e = text.size();
    lines.emplace_back(text, p, e - p);
    p = e + 1;
  }
  return lines;
}

int64_t manifest_count(const nlohmann::json& m, const char* key, const std::string& path) {
  GNNREC_EXPECTS(m.contains("counts") && m["counts"].is_object(),
                 "{}: no 'counts' object in the manifest", path);
  const auto& c = m["counts"];
  GNNREC_EXPECTS(c.contains(key) && c[key].is_number_integer() && c[key].get<int64_t>() >= 0,
                 "{}: counts.{} is missing or not a non-negative integer", path, key);
  return c[key].get<int64_t>();
}

EdgeList load_split(const std::string& dir, const std::string& split, int64_t n, int32_t users,
                    int32_t items) {
  const Tensor e = load_checked(dir, split + "_edges.npy", DType::kI32, {n, 2});
  const Tensor r = load_checked(dir, split + "_ratings.npy", DType::kF32, {n});
  const Tensor t = load_checked(dir, split + "_timestamps.npy", DType::kI64, {n});
  EdgeList out;
  out.user.resize(n);
  out.item.resize(n);
  const int32_t* ep = e.data<int32_t>();
  for (int64_t k = 0; k < n; ++k) {
    const int32_t u = ep[2 * k], i = ep[2 * k + 1];
    GNNREC_EXPECTS(u >= 0 && u < users, "{}: row {} has user id {}, outside [0, {})",
                   join(dir, split + "_edges.npy"), k, u, users);
    GNNREC_EXPECTS(i >= 0 && i < items, "{}: row {} has item id {}, outside [0, {})",
                   join(dir, split + "_edges.npy"), k, i, items);
    out.user[k] = u;
    out.item[k] = i;
  }
  out.rating = r.to_vector<float>();
  out.timestamp = t.to_vector<int64_t>();
  return out;
}

// Checks a loaded CSR against the training edges: monotone indptr, sorted rows, and every
// (row, col, edge id) triple naming exactly its training edge, each edge once.
Csr load_csr(const std::string& dir, const std::string& prefix, int64_t rows, int32_t cols,
             const std::vector<int32_t>& row_of_edge, const std::vector<int32_t>& col_of_edge) {
  const int64_t nnz = static_cast<int64_t>(row_of_edge.size());
  Csr c;
  c.indptr =
      load_checked(dir, prefix + "_indptr.npy", DType::kI64, {rows + 1}).to_vector<int64_t>();
  c.indices = load_checked(dir, prefix + "_indices.npy", DType::kI32, {nnz}).to_vector<int32_t>();
  c.edge_ids = load_checked(dir, prefix + "_edge_ids.npy", DType::kI64, {nnz}).to_vector<int64_t>();
  const std::string ip = join(dir, prefix + "_indptr.npy");
  GNNREC_EXPECTS(c.indptr[0] == 0 && c.indptr[rows] == nnz,
                 "{}: must start at 0 and end at the number of training edges {}", ip, nnz);
  std::vector<uint8_t> seen(nnz, 0);
  for (int64_t r = 0; r < rows; ++r) {
    GNNREC_EXPECTS(c.indptr[r] <= c.indptr[r + 1], "{}: decreases at row {}", ip, r);
    for (int64_t k = c.indptr[r]; k < c.indptr[r + 1]; ++k) {
      const int32_t col = c.indices[k];
      const int64_t e = c.edge_ids[k];
      GNNREC_EXPECTS(col >= 0 && col < cols, "{}: entry {} has column {}, outside [0, {})",
                     join(dir, prefix + "_indices.npy"), k, col, cols);
      GNNREC_EXPECTS(k == c.indptr[r] || c.indices[k - 1] <= col,
                     "{}: row {} is not sorted by column", join(dir, prefix + "_indices.npy"), r);
      GNNREC_EXPECTS(e >= 0 && e < nnz && !seen[e] && row_of_edge[e] == r && col_of_edge[e] == col,
                     "{}: entry {} (row {}, column {}) names edge {}, which is not that "
                     "training edge or was already named",
                     join(dir, prefix + "_edge_ids.npy"), k, r, col, e);
      seen[e] = 1;
    }
  }
  return c;
}

std::vector<std::string> names_of(const nlohmann::json& j, const char* key,
                                  const std::string& path) {
  GNNREC_EXPECTS(j.contains(key) && j[key].is_array(), "{}: '{}' must be an array of strings", path,
                 key);
  std::vector<std::string> out;
  for (const auto& v : j[key]) {
    GNNREC_EXPECTS(v.is_string(), "{}: '{}' must be an array of strings", path, key);
    out.push_back(v.get<std::string>());
  }
  return out;
}

nlohmann::json parse_json_file(const std::string& path) {
  GNNREC_EXPECTS(fs::exists(path), "{}: missing from the dataset directory", path);
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    GNNREC_FAIL("{}: not valid JSON ({})", path, e.what());
  }
}

}  // namespace

Csr build_csr(int64_t rows, const std::vector<int32_t>& row, const std::vector<int32_t>& col) {
  GNNREC_EXPECTS(row.size() == col.size(), "build_csr: {} rows vs {} columns", row.size(),
                 col.size());
  const int64_t nnz = static_cast<int64_t>(row.size());
  Csr c;
  c.indptr.assign(rows + 1, 0);
  for (int64_t k = 0; k < nnz; ++k) {
    GNNREC_EXPECTS(row[k] >= 0 && row[k] < rows, "build_csr: pair {} has row {}, outside [0, {})",
                   k, row[k], rows);
    c.indptr[row[k] + 1]++;
  }
  for (int64_t r = 0; r < rows; ++r) c.indptr[r + 1] += c.indptr[r];
  // Counting sort by row keeps input order within a row; a stable sort by column then makes
  // ties (duplicate pairs) deterministic by edge id.
  std::vector<int64_t> fill(c.indptr.begin(), c.indptr.end() - 1);
  c.edge_ids.resize(nnz);
  for (int64_t k = 0; k < nnz; ++k) c.edge_ids[fill[row[k]]++] = k;
  for (int64_t r = 0; r < rows; ++r) {
    std::stable_sort(c.edge_ids.begin() + c.indptr[r], c.edge_ids.begin() + c.indptr[r + 1],
                     [&](int64_t a, int64_t b) { return col[a] < col[b]; });
  }
  c.indices.resize(nnz);
  for (int64_t k = 0; k < nnz; ++k) c.indices[k] = col[c.edge_ids[k]];
  return c;
}

Dataset load_dataset(const std::string& dir) {
  GNNREC_EXPECTS(fs::is_directory(dir), "{}: not a dataset directory (run `gnnrec prepare`)", dir);
  Dataset d;
  d.dir = dir;
  const std::string mpath = join(dir, "manifest.json");
  d.manifest = parse_json_file(mpath);
  const auto& m = d.manifest;
  GNNREC_EXPECTS(m.is_object(), "{}: must be a JSON object", mpath);
  GNNREC_EXPECTS(m.contains("kind") && m["kind"] == "gnnrec-dataset",
                 "{}: kind must be \"gnnrec-dataset\"", mpath);
  GNNREC_EXPECTS(m.contains("schema_version") && m["schema_version"].is_number_integer(),
                 "{}: no integer schema_version", mpath);
  const int version = m["schema_version"].get<int>();
  GNNREC_EXPECTS(version == kDatasetSchemaVersion,
                 "{}: schema_version {} is not supported (this build reads {}); re-run `gnnrec "
                 "prepare`",
                 mpath, version, kDatasetSchemaVersion);
  const int64_t users = manifest_count(m, "users", mpath);
  const int64_t items = manifest_count(m, "items", mpath);
  GNNREC_EXPECTS(users <= INT32_MAX && items <= INT32_MAX, "{}: counts exceed int32 ids", mpath);
  d.num_users = static_cast<int32_t>(users);
  d.num_items = static_cast<int32_t>(items);

  d.user_ids = read_lines(join(dir, "user_ids.txt"));
  d.item_ids = read_lines(join(dir, "item_ids.txt"));
  GNNREC_EXPECTS(static_cast<int64_t>(d.user_ids.size()) == users,
                 "{}: has {} lines, manifest counts {} users", join(dir, "user_ids.txt"),
                 d.user_ids.size(), users);
  GNNREC_EXPECTS(static_cast<int64_t>(d.item_ids.size()) == items,
                 "{}: has {} lines, manifest counts {} items", join(dir, "item_ids.txt"),
                 d.item_ids.size(), items);

  d.train = load_split(dir, "train", manifest_count(m, "train", mpath), d.num_users, d.num_items);
  d.val = load_split(dir, "val", manifest_count(m, "val", mpath), d.num_users, d.num_items);
  d.test = load_split(dir, "test", manifest_count(m, "test", mpath), d.num_users, d.num_items);

  d.user_items = load_csr(dir, "ui", users, d.num_items, d.train.user, d.train.item);
  d.item_users = load_csr(dir, "iu", items, d.num_users, d.train.item, d.train.user);

  const std::string fpath = join(dir, "feature_names.json");
  const nlohmann::json fn = parse_json_file(fpath);
  d.user_feature_names = names_of(fn, "user", fpath);
  d.item_feature_names = names_of(fn, "item", fpath);
  d.user_features = load_checked(dir, "user_features.npy", DType::kF32,
                                 {users, static_cast<int64_t>(d.user_feature_names.size())});
  d.item_features = load_checked(dir, "item_features.npy", DType::kF32,
                                 {items, static_cast<int64_t>(d.item_feature_names.size())});

  d.items.assign(items, ItemInfo{});
  const std::string ipath = join(dir, "items.jsonl");
  if (fs::exists(ipath)) {
    const std::vector<std::string> lines = read_lines(ipath);
    GNNREC_EXPECTS(static_cast<int64_t>(lines.size()) == items,
                   "{}: has {} lines, manifest counts {} items", ipath, lines.size(), items);
    for (int64_t i = 0; i < items; ++i) {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(lines[i]);
      } catch (const nlohmann::json::exception& e) {
        GNNREC_FAIL("{}:{}: not valid JSON ({})", ipath, i + 1, e.what());
      }
      GNNREC_EXPECTS(j.is_object(), "{}:{}: must be a JSON object", ipath, i + 1);
      auto str = [&](const char* key) -> std::string {
        if (!j.contains(key) || j[key].is_null()) return "";
        GNNREC_EXPECTS(j[key].is_string(), "{}:{}: field '{}' must be a string", ipath, i + 1, key);
        return j[key].get<std::string>();
      };
      if (j.contains("id")) {
        GNNREC_EXPECTS(j["id"].is_string() && j["id"].get<std::string>() == d.item_ids[i],
                       "{}:{}: id does not match line {} of item_ids.txt", ipath, i + 1, i + 1);
      }
      ItemInfo& info = d.items[i];
      info.title = str("title");
      info.category = str("category");
      info.brand = str("brand");
      if (j.contains("price") && !j["price"].is_null()) {
        GNNREC_EXPECTS(j["price"].is_number(), "{}:{}: field 'price' must be a number or null",
                       ipath, i + 1);
        info.price = j["price"].get<double>();
      }
    }
  }
  return d;
}

}  // namespace gnnrec
