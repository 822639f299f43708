// The trainer end to end on the CPU with a planted-structure dataset: the loss falls, every
// model ranks far above Most-Popular, the same seed repeats exactly, and 2 + 2 epochs with a
// resume equal 4 epochs bit for bit. The CUDA test trains on the GPU and compares with the CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runtime/export.h"
#include "runtime/fsutil.h"
#include "runtime/npy.h"
#include "runtime/trainer.h"
#include "testing/planted.h"
#include "testing/testing.h"

namespace gnnrec {
namespace {

std::vector<nlohmann::json> read_metrics(const std::string& run) {
  std::vector<nlohmann::json> out;
  std::ifstream f(run + "/metrics.jsonl");
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// `name` is a model, optionally with a variant: graphsage+mean (layer_combination = mean),
// graphsage+drop (dropout 0.2), graphsage+lin (activation none, identity weights, mean
// combination), lightgcn+user (edge_sampling = user).
TrainConfig base_config(const std::string& dataset, const std::string& run, const std::string& name) {
  const size_t plus = name.find('+');
  const std::string model = name.substr(0, plus);
  const std::string variant = plus == std::string::npos ? "" : name.substr(plus + 1);
  TrainConfig c;
  c.dataset = dataset;
  c.run_dir = run;
  c.model = model;
  if (variant == "mean") c.layer_combination = "mean";
  if (variant == "user") c.edge_sampling = "user";
  if (variant == "drop") c.dropout = 0.2f;
  if (variant == "lin") {
    c.activation = "none";
    c.weight_init = "identity";
    c.layer_combination = "mean";
  }
  c.device = "cpu";
  c.dim = 32;
  c.epochs = 12;
  c.batch_size = 256;
  c.ks = {10, 20};
  c.metric = "recall@10";
  c.patience = 0;
  c.fanouts = {8, 4};
  c.lr = model == "lightgcn" ? 0.01f : 0.005f;
  return c;
}

class TrainerCpuTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainerCpuTest, LearnsThePlantedStructure) {
  const std::string model = GetParam();
  std::string tag = model;
  std::replace(tag.begin(), tag.end(), '+', '_');
  const std::string dir = testing::temp_dir("trainer_" + tag);
  const Dataset ds = testing::write_planted_dataset(dir + "/data");
  TrainOptions o;
  o.progress = false;
  const nlohmann::json res = train(base_config(dir + "/data", dir + "/run", model), o);
  const auto metrics = read_metrics(dir + "/run");
  ASSERT_EQ(metrics.size(), 12u);
  EXPECT_LT(metrics.back()["loss"].get<double>(), 0.8 * metrics.front()["loss"].get<double>())
      << "the training loss did not fall";
  const double recall = res["test"]["recall@10"].get<double>();
  const double pop = testing::most_popular_recall(ds, 10);
  // Most-Popular ignores the clusters, so anything that learns them is several times better;
  // 1.5x leaves room for the tiny data's noise.
  EXPECT_GT(recall, 1.5 * pop) << model << " recall@10 " << recall << " vs Most-Popular " << pop;
  EXPECT_TRUE(path_exists(dir + "/run/best/best.json"));
  EXPECT_TRUE(path_exists(dir + "/run/checkpoint/state.json"));
  EXPECT_TRUE(path_exists(dir + "/run/config.yaml"));
}

INSTANTIATE_TEST_SUITE_P(Models, TrainerCpuTest,
                         ::testing::Values("graphsage", "graphsage+mean", "graphsage+drop",
                                           "graphsage+lin", "lightgcn",
                                           "lightgcn+user", "mf"),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           std::string n = p.param;
                           std::replace(n.begin(), n.end(), '+', '_');
                           return n;
                         });

TEST(TrainerDeterminismCpuTest, SameSeedSameRun) {
  const std::string dir = testing::temp_dir("trainer_det");
  testing::write_planted_dataset(dir + "/data");
  TrainOptions o;
  o.progress = false;
  TrainConfig c = base_config(dir + "/data", dir + "/a", "graphsage");
  c.epochs = 3;
  const auto a = train(c, o);
  c.run_dir = dir + "/b";
  const auto b = train(c, o);
  EXPECT_EQ(a["test"].dump(), b["test"].dump());
  for (const char* p : {"layer0.weight", "embedding"}) {
    const Tensor x = load_npy(dir + "/a/checkpoint/" + std::string(p) + ".npy");
    const Tensor y = load_npy(dir + "/b/checkpoint/" + std::string(p) + ".npy");
    EXPECT_EQ(x.to_vector<float>(), y.to_vector<float>()) << p;
  }
}

TEST(TrainerResumeCpuTest, TwoPlusTwoEqualsFour) {
  for (const std::string model : {"graphsage", "lightgcn"}) {
    const std::string dir = testing::temp_dir("trainer_resume_" + model);
    testing::write_planted_dataset(dir + "/data");
    TrainOptions o;
    o.progress = false;
    TrainConfig c = base_config(dir + "/data", dir + "/straight", model);
    c.epochs = 4;
    train(c, o);
    c.run_dir = dir + "/split";
    c.epochs = 2;
    train(c, o);
    c.epochs = 4;
    o.resume = true;
    train(c, o);
    for (const auto& f : std::filesystem::directory_iterator(dir + "/straight/checkpoint")) {
      if (f.path().extension() != ".npy") continue;
      const Tensor x = load_npy(f.path().string());
      const Tensor y = load_npy(dir + "/split/checkpoint/" + f.path().filename().string());
      EXPECT_EQ(x.to_vector<float>(), y.to_vector<float>()) << model << " " << f.path();
    }
    EXPECT_EQ(read_metrics(dir + "/split").size(), 4u);
  }
}

TEST(TrainerCpuErrorsTest, RefusesExistingRunAndBadConfig) {
  const std::string dir = testing::temp_dir("trainer_err");
  testing::write_planted_dataset(dir + "/data");
  TrainOptions o;
  o.progress = false;
  TrainConfig c = base_config(dir + "/data", dir + "/run", "mf");
  c.epochs = 1;
  train(c, o);
  EXPECT_THROW(train(c, o), Error);  // exists, no --force
  o.force = true;
  EXPECT_NO_THROW(train(c, o));
  c.dataset = dir + "/nope";
  EXPECT_THROW(train(c, o), Error);
}

TEST(ExportCpuTest, EmbeddingsMatchTheTrainerAndQuantise) {
  const std::string dir = testing::temp_dir("export");
  testing::write_planted_dataset(dir + "/data");
  TrainOptions o;
  o.progress = false;
  TrainConfig c = base_config(dir + "/data", dir + "/run", "graphsage");
  c.epochs = 2;
  train(c, o);
  ExportOptions e;
  e.run_dir = dir + "/run";
  e.device = "cpu";
  const std::string out = export_embeddings(e);
  const Tensor ue = load_npy(out + "/user_emb.npy"), ie = load_npy(out + "/item_emb.npy");
  EXPECT_EQ(ue.shape(), (Shape{240, 32}));
  EXPECT_EQ(ie.shape(), (Shape{300, 32}));
  const Tensor q = load_npy(out + "/item_emb_int8.npy"), s = load_npy(out + "/item_emb_int8_scale.npy");
  // Dequantised rows are within half a quantisation step of the float rows.
  for (int64_t r = 0; r < 300; ++r)
    for (int64_t j = 0; j < 32; ++j)
      EXPECT_NEAR(q.data<int8_t>()[r * 32 + j] * s.data<float>()[r], ie.data<float>()[r * 32 + j],
                  0.5f * s.data<float>()[r] + 1e-7f);
  EXPECT_THROW(export_embeddings(e), Error);  // exists without --force
}

TEST(TrainerCudaTest, GpuTrainingMatchesTheCpu) {
  GNNREC_REQUIRE_GPU();
  const std::string dir = testing::temp_dir("trainer_cuda");
  testing::write_planted_dataset(dir + "/data");
  TrainOptions o;
  o.progress = false;
  for (const std::string model : {"graphsage", "graphsage+mean", "graphsage+drop",
                                           "graphsage+lin", "lightgcn", "lightgcn+user", "mf"}) {
    TrainConfig c = base_config(dir + "/data", dir + "/cpu_" + model, model);
    c.epochs = 4;
    const auto a = train(c, o);
    c.device = "cuda";
    c.run_dir = dir + "/gpu_" + model;
    const auto b = train(c, o);
    // Same sampled batches on both backends (Philox); float sums differ in order, so metrics
    // agree closely but not bit for bit.
    EXPECT_NEAR(a["test"]["recall@10"].get<double>(), b["test"]["recall@10"].get<double>(), 0.03)
        << model;
  }
}

}  // namespace
}  // namespace gnnrec
