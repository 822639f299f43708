#include "testing/planted.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "runtime/npy.h"

namespace gnnrec::testing {

namespace {
void write_text(const std::string& path, const std::string& s) { write_file_atomic(path, s); }

void save_split(const std::string& dir, const std::string& name, const EdgeList& e) {
  std::vector<int32_t> pairs;
  for (size_t k = 0; k < e.size(); ++k) {
    pairs.push_back(e.user[k]);
    pairs.push_back(e.item[k]);
  }
  save_npy(dir + "/" + name + "_edges.npy",
           Tensor::from_vector(pairs, {static_cast<int64_t>(e.size()), 2}));
  save_npy(dir + "/" + name + "_ratings.npy", Tensor::from_vector(e.rating));
  save_npy(dir + "/" + name + "_timestamps.npy", Tensor::from_vector(e.timestamp));
}

void save_csr(const std::string& dir, const std::string& p, const Csr& c) {
  save_npy(dir + "/" + p + "_indptr.npy", Tensor::from_vector(c.indptr));
  save_npy(dir + "/" + p + "_indices.npy", Tensor::from_vector(c.indices));
  save_npy(dir + "/" + p + "_edge_ids.npy", Tensor::from_vector(c.edge_ids));
}
}  // namespace

Dataset write_planted_dataset(const std::string& dir, const PlantedOptions& o) {
  std::filesystem::create_directories(dir);
  std::mt19937_64 rng(o.seed);
  // Items: cluster i % clusters; popularity ~ 1 / (rank + 1) within the cluster.
  std::vector<std::vector<int32_t>> by_cluster(o.clusters);
  for (int32_t i = 0; i < o.items; ++i) by_cluster[i % o.clusters].push_back(i);
  auto pick = [&](int c) {
    const auto& v = by_cluster[c];
    std::vector<double> w(v.size());
    for (size_t r = 0; r < v.size(); ++r) w[r] = 1.0 / (1.0 + static_cast<double>(r) * 0.3);
    std::discrete_distribution<size_t> d(w.begin(), w.end());
    return v[d(rng)];
  };
  EdgeList train, val, test;
  std::uniform_real_distribution<double> u01(0, 1);
  for (int32_t u = 0; u < o.users; ++u) {
    const int c = u % o.clusters;
    std::set<int32_t> seen;
    std::vector<int32_t> seq;
    while (static_cast<int>(seq.size()) < o.per_user) {
      const int cc = u01(rng) < o.in_cluster ? c : static_cast<int>(rng() % o.clusters);
      const int32_t it = pick(cc);
      if (seen.insert(it).second) seq.push_back(it);
    }
    for (int k = 0; k < o.per_user; ++k) {
      EdgeList& dst = k >= o.per_user - 2 ? test : (k >= o.per_user - 4 ? val : train);
      dst.user.push_back(u);
      dst.item.push_back(seq[k]);
      dst.rating.push_back(4.0f + static_cast<float>(k % 2));
      dst.timestamp.push_back(1600000000 + 86400 * k);
    }
  }
  nlohmann::json manifest = {
      {"schema_version", kDatasetSchemaVersion},
      {"kind", "gnnrec-dataset"},
      {"counts",
       {{"users", o.users}, {"items", o.items}, {"train", train.size()}, {"val", val.size()},
        {"test", test.size()}}},
      {"split", {{"rule", "planted"}}}};
  write_text(dir + "/manifest.json", manifest.dump(2));
  std::string ids;
  for (int32_t u = 0; u < o.users; ++u) ids += "u" + std::to_string(u) + "\n";
  write_text(dir + "/user_ids.txt", ids);
  ids.clear();
  std::string items_jsonl;
  for (int32_t i = 0; i < o.items; ++i) {
    ids += "i" + std::to_string(i) + "\n";
    items_jsonl += nlohmann::json{{"id", "i" + std::to_string(i)},
                                  {"title", "Item " + std::to_string(i)},
                                  {"category", "cluster " + std::to_string(i % o.clusters)},
                                  {"brand", ""},
                                  {"price", 1.0 + i % 17}}
                       .dump() +
                   "\n";
  }
  write_text(dir + "/item_ids.txt", ids);
  write_text(dir + "/items.jsonl", items_jsonl);
  save_split(dir, "train", train);
  save_split(dir, "val", val);
  save_split(dir, "test", test);
  save_csr(dir, "ui", build_csr(o.users, train.user, train.item));
  save_csr(dir, "iu", build_csr(o.items, train.item, train.user));
  // Features: users get log1p(degree); items a noisy one-hot of their cluster.
  const int64_t fi = o.features ? o.clusters : 0;
  std::vector<float> uf(o.users, std::log1p(static_cast<float>(o.per_user - 4)));
  std::vector<float> itf(static_cast<size_t>(o.items * fi), 0.0f);
  for (int32_t i = 0; i < o.items && fi > 0; ++i) {
    const int c = u01(rng) < 0.8 ? i % o.clusters : static_cast<int>(rng() % o.clusters);
    itf[static_cast<size_t>(i * fi + c)] = 1.0f;
  }
  nlohmann::json names = {{"user", {"log1p_history"}}, {"item", nlohmann::json::array()}};
  for (int64_t c = 0; c < fi; ++c) names["item"].push_back("cluster_hint_" + std::to_string(c));
  write_text(dir + "/feature_names.json", names.dump());
  save_npy(dir + "/user_features.npy", Tensor::from_vector(uf, {o.users, 1}));
  save_npy(dir + "/item_features.npy", Tensor::from_vector(itf, {o.items, fi}));
  return load_dataset(dir);
}

double most_popular_recall(const Dataset& ds, int k) {
  std::vector<int64_t> deg(ds.num_items, 0);
  for (int32_t i : ds.train.item) deg[i]++;
  std::vector<int32_t> order(ds.num_items);
  for (int32_t i = 0; i < ds.num_items; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return deg[a] > deg[b]; });
  std::vector<std::set<int32_t>> seen(ds.num_users), truth(ds.num_users);
  for (size_t e = 0; e < ds.train.size(); ++e) seen[ds.train.user[e]].insert(ds.train.item[e]);
  for (size_t e = 0; e < ds.val.size(); ++e) seen[ds.val.user[e]].insert(ds.val.item[e]);
  for (size_t e = 0; e < ds.test.size(); ++e) truth[ds.test.user[e]].insert(ds.test.item[e]);
  double sum = 0;
  int users = 0;
  for (int32_t u = 0; u < ds.num_users; ++u) {
    if (truth[u].empty()) continue;
    int hits = 0, taken = 0;
    for (int32_t i : order) {
      if (taken == k) break;
      if (seen[u].count(i)) continue;
      ++taken;
      hits += truth[u].count(i) ? 1 : 0;
    }
    sum += static_cast<double>(hits) / static_cast<double>(truth[u].size());
    ++users;
  }
  return users ? sum / users : 0;
}

}  // namespace gnnrec::testing
