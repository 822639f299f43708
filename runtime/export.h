// `gnnrec embed`: full-neighbourhood inference of a trained run, exported for other services.
// Export directory:
//   embeddings.json     schema_version, kind "gnnrec-embeddings", model, run_dir, dataset_dir,
//                       dim, num_users, num_items, score "dot", inv_temp, normalized, files
//   user_emb.npy, item_emb.npy                 float32 [U, d], [I, d]
//   user_emb_f16.npy, item_emb_f16.npy         float16 copies (optional)
//   user_emb_int8.npy, item_emb_int8.npy       int8 rows with per-row scales
//   user_emb_int8_scale.npy, item_emb_int8_scale.npy   float32 [n]: x ≈ q * scale
#pragma once
#include <string>

#include "runtime/tensor.h"

namespace gnnrec {

constexpr int kEmbeddingsSchemaVersion = 1;

struct ExportOptions {
  std::string run_dir;
  std::string out_dir;        // default RUN_DIR/export
  std::string device = "auto";
  bool f16 = true;
  bool int8 = true;
  bool force = false;         // replace an existing export
};

// Returns the export directory written.
std::string export_embeddings(const ExportOptions& opts);

// Symmetric per-row int8 quantisation: scale[r] = max|x_r| / 127, q = round(x / scale).
void quantize_rows_int8(const Tensor& x, Tensor& q, Tensor& scale);

}  // namespace gnnrec
