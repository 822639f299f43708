// The dataset directory contract: build_csr against a naive reference, load_dataset on a tiny
// directory written by hand, and the errors a malformed directory gives (each naming the file).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <tuple>

#include "runtime/data/dataset.h"
#include "runtime/npy.h"
#include "testing/testing.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;

TEST(BuildCsrCpuTest, MatchesNaiveReferenceOnRandomPairs) {
  GNNREC_SEED_TRACE();
  for (int rows : {1, 7, 50}) {
    for (int nnz : {0, 1, 300}) {
      const int cols = 13;
      std::vector<int32_t> r = testing::random_ints(nnz, 0, rows - 1);
      std::vector<int32_t> c = testing::random_ints(nnz, 0, cols - 1);
      Csr csr = build_csr(rows, r, c);
      ASSERT_EQ(csr.rows(), rows);
      ASSERT_EQ(csr.nnz(), nnz);
      // Reference: sort (row, col, edge) triples.
      std::vector<std::tuple<int32_t, int32_t, int64_t>> ref;
      for (int k = 0; k < nnz; ++k) ref.emplace_back(r[k], c[k], k);
      std::sort(ref.begin(), ref.end());
      for (int64_t row = 0; row < rows; ++row) {
        for (int64_t k = csr.indptr[row]; k < csr.indptr[row + 1]; ++k) {
          EXPECT_EQ(std::get<0>(ref[k]), row);
          EXPECT_EQ(std::get<1>(ref[k]), csr.indices[k]);
          EXPECT_EQ(std::get<2>(ref[k]), csr.edge_ids[k]) << "row " << row << " entry " << k;
        }
      }
    }
  }
}

TEST(BuildCsrCpuTest, EmptyRowsAndBadRowIdsAreHandled) {
  Csr csr = build_csr(4, {2, 2, 0}, {5, 1, 3});
  EXPECT_EQ(csr.indptr, (std::vector<int64_t>{0, 1, 1, 3, 3}));
  EXPECT_EQ(csr.indices, (std::vector<int32_t>{3, 1, 5}));
  EXPECT_EQ(csr.edge_ids, (std::vector<int64_t>{2, 1, 0}));
  EXPECT_EQ(csr.degree(1), 0);
  EXPECT_THROW(build_csr(2, {2}, {0}), Error);
  EXPECT_THROW(build_csr(2, {0, 1}, {0}), Error);
}

// A tiny valid dataset: 3 users, 4 items; user 2 and item 3 are cold.
struct TinyDataset {
  std::string dir;
  nlohmann::json manifest;

  explicit TinyDataset(const std::string& tag) : dir(testing::temp_dir(tag)) {
    const std::vector<int32_t> tu{0, 0, 1}, ti{1, 2, 0};
    manifest = {{"schema_version", kDatasetSchemaVersion},
                {"kind", "gnnrec-dataset"},
                {"counts", {{"users", 3}, {"items", 4}, {"train", 3}, {"val", 1}, {"test", 1}}}};
    write("manifest.json", manifest.dump(2));
    write("user_ids.txt", "alice\nbob\ncarol\n");
    write("item_ids.txt", "i0\ni1\ni2\ni3\n");
    write_split("train", tu, ti);
    write_split("val", {1}, {3});
    write_split("test", {2}, {1});
    Csr ui = build_csr(3, tu, ti), iu = build_csr(4, ti, tu);
    save_csr("ui", ui);
    save_csr("iu", iu);
    write("feature_names.json", R"({"user": ["u_deg"], "item": ["a", "b"]})");
    save_npy(dir + "/user_features.npy", Tensor::from_vector<float>({1, 2, 3}, {3, 1}));
    save_npy(dir + "/item_features.npy", Tensor::zeros({4, 2}, DType::kF32));
    write("items.jsonl",
          "{\"id\": \"i0\", \"title\": \"Zero\", \"category\": \"C\", \"brand\": \"B\", "
          "\"price\": 9.5}\n"
          "{\"id\": \"i1\", \"title\": \"One\", \"category\": \"\", \"brand\": \"\", "
          "\"price\": null}\n"
          "{\"id\": \"i2\"}\n{\"id\": \"i3\", \"title\": \"Three\"}\n");
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir + "/" + name, std::ios::binary) << text;
  }
  void write_split(const std::string& s, const std::vector<int32_t>& u,
                   const std::vector<int32_t>& i) const {
    std::vector<int32_t> e;
    for (size_t k = 0; k < u.size(); ++k) {
      e.push_back(u[k]);
      e.push_back(i[k]);
    }
    const int64_t n = static_cast<int64_t>(u.size());
    save_npy(dir + "/" + s + "_edges.npy", Tensor::from_vector(e, {n, 2}));
    save_npy(dir + "/" + s + "_ratings.npy",
             Tensor::from_vector(std::vector<float>(u.size(), 1.0f)));
    save_npy(dir + "/" + s + "_timestamps.npy",
             Tensor::from_vector(std::vector<int64_t>(u.size(), 100)));
  }
  void save_csr(const std::string& p, const Csr& c) const {
    save_npy(dir + "/" + p + "_indptr.npy", Tensor::from_vector(c.indptr));
    save_npy(dir + "/" + p + "_indices.npy", Tensor::from_vector(c.indices));
    save_npy(dir + "/" + p + "_edge_ids.npy", Tensor::from_vector(c.edge_ids));
  }
};

// Expects load_dataset to fail with a message containing `needle`.
void expect_load_error(const std::string& dir, const std::string& needle) {
  try {
    load_dataset(dir);
    ADD_FAILURE() << "load_dataset accepted a malformed directory (expected: " << needle << ")";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message was: " << e.what();
  }
}

TEST(LoadDatasetCpuTest, LoadsAHandWrittenDirectory) {
  TinyDataset t("dataset_ok");
  Dataset d = load_dataset(t.dir);
  EXPECT_EQ(d.num_users, 3);
  EXPECT_EQ(d.num_items, 4);
  EXPECT_EQ(d.user_ids[1], "bob");
  EXPECT_EQ(d.item_ids[3], "i3");
  EXPECT_EQ(d.train.size(), 3u);
  EXPECT_EQ(d.val.item[0], 3);
  EXPECT_EQ(d.test.user[0], 2);
  EXPECT_EQ(d.train.timestamp[2], 100);
  EXPECT_EQ(d.user_items.degree(2), 0);
  EXPECT_EQ(d.item_users.degree(3), 0);
  EXPECT_EQ(d.user_items.indices, (std::vector<int32_t>{1, 2, 0}));
  EXPECT_EQ(d.user_features.shape(), (Shape{3, 1}));
  EXPECT_EQ(d.item_feature_names, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(d.items.size(), 4u);
  EXPECT_EQ(d.items[0].title, "Zero");
  EXPECT_EQ(d.items[0].brand, "B");
  EXPECT_DOUBLE_EQ(d.items[0].price, 9.5);
  EXPECT_LT(d.items[1].price, 0);
  EXPECT_EQ(d.items[2].title, "");
}

TEST(LoadDatasetCpuTest, ItemsJsonlIsOptional) {
  TinyDataset t("dataset_noitems");
  fs::remove(t.dir + "/items.jsonl");
  Dataset d = load_dataset(t.dir);
  ASSERT_EQ(d.items.size(), 4u);
  EXPECT_EQ(d.items[3].title, "");
  EXPECT_LT(d.items[3].price, 0);
}

TEST(LoadDatasetCpuTest, MalformedDirectoriesNameTheFile) {
  {
    TinyDataset t("dataset_bad_version");
    auto m = t.manifest;
    m["schema_version"] = kDatasetSchemaVersion + 1;
    t.write("manifest.json", m.dump());
    expect_load_error(t.dir, "schema_version");
  }
  {
    TinyDataset t("dataset_bad_kind");
    auto m = t.manifest;
    m["kind"] = "something-else";
    t.write("manifest.json", m.dump());
    expect_load_error(t.dir, "manifest.json");
  }
  {
    TinyDataset t("dataset_bad_json");
    t.write("manifest.json", "{\"kind\": ");
    expect_load_error(t.dir, "manifest.json");
  }
  {
    TinyDataset t("dataset_missing_file");
    fs::remove(t.dir + "/val_ratings.npy");
    expect_load_error(t.dir, "val_ratings.npy");
  }
  {
    TinyDataset t("dataset_bad_dtype");
    save_npy(t.dir + "/train_timestamps.npy", Tensor::zeros({3}, DType::kI32));
    expect_load_error(t.dir, "train_timestamps.npy");
  }
  {
    TinyDataset t("dataset_bad_shape");
    save_npy(t.dir + "/test_edges.npy", Tensor::zeros({2, 2}, DType::kI32));
    expect_load_error(t.dir, "test_edges.npy");
  }
  {
    TinyDataset t("dataset_bad_id");
    t.write_split("val", {1}, {4});  // item 4 of 4
    expect_load_error(t.dir, "val_edges.npy");
  }
  {
    TinyDataset t("dataset_bad_count");
    t.write("user_ids.txt", "alice\nbob\n");
    expect_load_error(t.dir, "user_ids.txt");
  }
  {
    TinyDataset t("dataset_bad_csr");
    Csr ui = build_csr(3, {0, 0, 1}, {1, 2, 0});
    std::swap(ui.edge_ids[0], ui.edge_ids[1]);
    t.save_csr("ui", ui);
    expect_load_error(t.dir, "ui_edge_ids.npy");
  }
  {
    TinyDataset t("dataset_unsorted_csr");
    Csr ui = build_csr(3, {0, 0, 1}, {1, 2, 0});
    // Row 0 holds items 1 and 2; swapping both arrays keeps every triple right but unsorted.
    std::swap(ui.indices[0], ui.indices[1]);
    std::swap(ui.edge_ids[0], ui.edge_ids[1]);
    t.save_csr("ui", ui);
    expect_load_error(t.dir, "not sorted");
  }
  {
    TinyDataset t("dataset_bad_features");
    save_npy(t.dir + "/item_features.npy", Tensor::zeros({4, 3}, DType::kF32));
    expect_load_error(t.dir, "item_features.npy");
  }
  {
    TinyDataset t("dataset_bad_items");
    t.write("items.jsonl", "{\"id\": \"i0\"}\n{\"id\": \"i1\", \"price\": \"$3\"}\n{}\n{}\n");
    expect_load_error(t.dir, "items.jsonl:2");
  }
  expect_load_error(testing::temp_dir("dataset_empty"), "manifest.json");
  expect_load_error("/nonexistent/gnnrec/dataset", "not a dataset directory");
}

}  // namespace
}  // namespace gnnrec
