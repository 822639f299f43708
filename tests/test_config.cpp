// Training configuration: file + overrides, validation errors naming the option, the resolved
// YAML round trip, and docs/config.md kept in sync with the option table.
#include <gtest/gtest.h>

#include <fstream>

#include "runtime/config.h"
#include "runtime/npy.h"
#include "testing/testing.h"

namespace gnnrec {
namespace {

TEST(ConfigCpuTest, FileThenOverrides) {
  const std::string dir = testing::temp_dir("config");
  std::ofstream(dir + "/c.yaml") << "model: lightgcn\ndim: 32\nfanouts: [5, 3]\nlr: 0.01\n";
  TrainConfig c;
  load_config_file(dir + "/c.yaml", c);
  EXPECT_EQ(c.model, "lightgcn");
  EXPECT_EQ(c.dim, 32);
  EXPECT_EQ(c.fanouts, (std::vector<int>{5, 3}));
  apply_override("dim=48", c);
  apply_override("ks=[5, 10]", c);
  apply_override("normalize=false", c);
  EXPECT_EQ(c.dim, 48);
  EXPECT_EQ(c.ks, (std::vector<int>{5, 10}));
  EXPECT_FALSE(c.normalize);
  EXPECT_FLOAT_EQ(c.lr, 0.01f);
}

TEST(ConfigCpuTest, ResolvedYamlRoundTrips) {
  TrainConfig c;
  c.model = "mf";
  c.fanouts = {25, 10, 5};
  c.temperature = 0.07f;
  const std::string dir = testing::temp_dir("config_rt");
  write_file_atomic(dir + "/r.yaml", config_to_yaml(c));
  TrainConfig d;
  load_config_file(dir + "/r.yaml", d);
  EXPECT_EQ(config_to_yaml(d), config_to_yaml(c));
}

TEST(ConfigCpuTest, ErrorsNameTheOptionAndLine) {
  TrainConfig c;
  try {
    apply_override("dimm=3", c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown config option 'dimm'"), std::string::npos);
  }
  try {
    apply_override("dim=abc", c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'dim'"), std::string::npos);
  }
  EXPECT_THROW(apply_override("nokey", c), Error);
  const std::string dir = testing::temp_dir("config_bad");
  std::ofstream(dir + "/bad.yaml") << "dim: 8\nbogus: 1\n";
  try {
    load_config_file(dir + "/bad.yaml", c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  TrainConfig v;
  v.model = "gcn";
  EXPECT_THROW(validate_config(v), Error);
  v = TrainConfig{};
  v.layers = 3;  // only 2 fanouts by default
  EXPECT_THROW(validate_config(v), Error);
  v = TrainConfig{};
  v.metric = "recall";
  EXPECT_THROW(validate_config(v), Error);
  EXPECT_NO_THROW(validate_config(TrainConfig{}));
}

TEST(ConfigCpuTest, DocsAreInSync) {
  const std::string docs = read_file(std::string(GNNREC_SOURCE_DIR) + "/docs/config.md");
  EXPECT_EQ(docs, config_markdown())
      << "docs/config.md is stale: regenerate with `gnnrec train --print-config-docs > "
         "docs/config.md`";
}

}  // namespace
}  // namespace gnnrec

namespace gnnrec {
namespace {
TEST(ConfigCpuTest, CosineScheduleEndpointsAndMonotone) {
  TrainConfig c;
  c.lr = 0.01f;
  c.lr_min = 0.001f;
  c.epochs = 11;
  EXPECT_FLOAT_EQ(learning_rate_at(c, 0), 0.01f);  // constant by default
  EXPECT_FLOAT_EQ(learning_rate_at(c, 10), 0.01f);
  c.lr_schedule = "cosine";
  EXPECT_FLOAT_EQ(learning_rate_at(c, 0), 0.01f);
  EXPECT_FLOAT_EQ(learning_rate_at(c, 10), 0.001f);
  EXPECT_NEAR(learning_rate_at(c, 5), 0.0055f, 1e-7);  // halfway: the mean
  for (int e = 1; e < 11; ++e) EXPECT_LT(learning_rate_at(c, e), learning_rate_at(c, e - 1));
  c.lr_min = 0.1f;
  EXPECT_THROW(validate_config(c), Error);
}
}  // namespace
}  // namespace gnnrec
