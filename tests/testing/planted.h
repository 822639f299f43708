// A small planted-structure recommendation dataset written as a real dataset directory, for
// tests of training, embedding, recommendation and evaluation: users and items belong to latent
// clusters, users mostly interact with their cluster's items (popular ones more often), and the
// item features carry a noisy copy of the cluster. A model that learns anything ranks far above
// Most-Popular here.
#pragma once
#include <string>

#include "runtime/data/dataset.h"

namespace gnnrec::testing {

struct PlantedOptions {
  int32_t users = 240, items = 300, clusters = 6;
  int per_user = 16;        // interactions per user: the last 2 go to test, the 2 before to val
  double in_cluster = 0.9;  // probability an interaction is inside the user's cluster
  bool features = true;
  uint64_t seed = 7;
};

// Writes the dataset into `dir` (created) and returns it loaded.
Dataset write_planted_dataset(const std::string& dir, const PlantedOptions& opt = {});

// Recall@k on the test split of Most-Popular (training degree), masking training and val items.
double most_popular_recall(const Dataset& ds, int k);

}  // namespace gnnrec::testing
