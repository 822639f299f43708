// The prepared dataset directory (written by `gnnrec prepare`, read by every later stage and
// by numpy). Files, all arrays .npy little-endian C order:
//   manifest.json          schema_version, kind "gnnrec-dataset", counts, split rule, feature
//                          names, sources (path, bytes, sha256), command line, drop report
//   user_ids.txt           raw user id per line; line number = internal user id (0..U-1)
//   item_ids.txt           raw item id per line; line number = internal item id (0..I-1)
//   {train,val,test}_edges.npy       int32 [n, 2]: (user id, item id), item ids item-local
//   {train,val,test}_ratings.npy     float32 [n]   (1.0 where the source has no rating)
//   {train,val,test}_timestamps.npy  int64 [n], seconds since the epoch (0 when unknown)
//   user_features.npy      float32 [U, Fu];  item_features.npy  float32 [I, Fi]
//   feature_names.json     {"user": [...Fu names], "item": [...Fi names]}
//   ui_indptr.npy int64 [U+1], ui_indices.npy int32 [nnz], ui_edge_ids.npy int64 [nnz]:
//                          CSR user -> items of the training edges, rows sorted by item id;
//                          edge id = row in train_edges.npy
//   iu_indptr.npy int64 [I+1], iu_indices.npy int32, iu_edge_ids.npy int64: item -> users
//   items.jsonl            display metadata, line = internal item id:
//                          {"id": raw, "title": str, "category": str, "brand": str,
//                           "price": number or null}
//   features/              fitted feature transforms (vocabulary, idf, projection) so new
//                          items can be featurised later
// Users/items with no training edge are "cold" (degree 0 in the CSR).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/tensor.h"

namespace gnnrec {

constexpr int kDatasetSchemaVersion = 1;

struct EdgeList {
  std::vector<int32_t> user, item;
  std::vector<float> rating;
  std::vector<int64_t> timestamp;
  size_t size() const { return user.size(); }
};

struct Csr {
  std::vector<int64_t> indptr;    // rows + 1
  std::vector<int32_t> indices;   // column ids, sorted within a row
  std::vector<int64_t> edge_ids;  // position of the edge in the training edge list
  int64_t rows() const { return indptr.empty() ? 0 : static_cast<int64_t>(indptr.size()) - 1; }
  int64_t nnz() const { return static_cast<int64_t>(indices.size()); }
  int64_t degree(int64_t r) const { return indptr[r + 1] - indptr[r]; }
};

struct ItemInfo {
  std::string title, category, brand;
  double price = -1;  // < 0: unknown
};

struct Dataset {
  std::string dir;
  nlohmann::json manifest;
  int32_t num_users = 0, num_items = 0;
  std::vector<std::string> user_ids, item_ids;
  EdgeList train, val, test;
  Csr user_items, item_users;           // the training graph, both directions
  Tensor user_features, item_features;  // host float32 [U, Fu], [I, Fi]
  std::vector<std::string> user_feature_names, item_feature_names;
  std::vector<ItemInfo> items;  // display metadata (may be empty strings)
};

// Loads and validates a dataset directory: refuses other schema versions, and checks that
// every array has the shape and id range the manifest promises (errors name the file).
Dataset load_dataset(const std::string& dir);

// Builds a CSR of `rows` rows from (row, col) pairs; edge_ids[k] = the pair's index in the input.
Csr build_csr(int64_t rows, const std::vector<int32_t>& row, const std::vector<int32_t>& col);

}  // namespace gnnrec
