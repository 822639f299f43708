// `gnnrec prepare`: raw interaction logs -> the dataset directory of runtime/data/dataset.h.
// Steps, in order: read (readers.h) -> de-duplicate (user, item) pairs keeping the earliest ->
// optional rating threshold -> optional iterative k-core -> dense ids -> split -> training CSR
// both ways -> user/item features -> write to DIR.tmp.<pid> and rename into place.
// Each step's dropped rows are logged and recorded in the manifest's "drops".
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "runtime/data/dataset.h"
#include "runtime/data/features.h"
#include "runtime/data/readers.h"

namespace gnnrec {

// Default global-temporal cuts: those of the Amazon Reviews 2023 benchmark splits
// (valid from 1628643414042 ms, test from 1658002729837 ms), in seconds.
constexpr int64_t kAmazon2023ValFrom = 1628643414;
constexpr int64_t kAmazon2023TestFrom = 1658002729;

struct SplitOptions {
  // "auto" (predefined when the inputs define one, else user-temporal), "user-temporal",
  // "global-temporal", "leave-last-out", "random" or "predefined".
  std::string rule = "auto";
  double val_frac = 0.1, test_frac = 0.1;  // user-temporal and random
  // global-temporal: rows with timestamp >= test_from are test, else >= val_from val, else train.
  // Values above 1e11 are read as milliseconds.
  int64_t val_from = kAmazon2023ValFrom, test_from = kAmazon2023TestFrom;
  uint64_t seed = 0;  // random (Philox, purpose kSplit)
};

struct PrepareOptions {
  ReadOptions read;    // inputs, metadata, format, csv columns, bad-line policy
  std::string out;     // the dataset directory to create
  bool force = false;  // replace an existing `out` (only once the new one is complete)
  SplitOptions split;
  double min_rating = std::numeric_limits<double>::quiet_NaN();  // NaN: no threshold
  int kcore = 0;                                                 // 0: off
  FeatureOptions features;
  std::string command_line;  // recorded in the manifest
};

// Runs the whole stage. On any failure nothing is left at `out` (or the old `out` is kept).
void prepare_dataset(const PrepareOptions& opt);

// ---- The steps, exposed for tests and benchmarks. All keep the input order of the rows they
// keep. Ids are those of the rows (any dense range [0, num_users) / [0, num_items)).

// Keeps, of every (user, item) pair, the row with the smallest (timestamp, input position).
std::vector<Interaction> dedupe_pairs(const std::vector<Interaction>& rows, int32_t num_users);

// Iterative k-core: repeatedly drops rows whose user or item has fewer than k rows, until every
// remaining user and item has at least k. *rounds (optional) gets the number of passes.
std::vector<Interaction> kcore_filter(const std::vector<Interaction>& rows, int32_t num_users,
                                      int32_t num_items, int k, int* rounds = nullptr);

// The split of each row. Rounding (user-temporal): a user with n >= 3 rows, ordered by
// (timestamp, input position), gets n_test = max(1, floor(n * test_frac + 0.5)) last rows as
// test, the n_val = max(1, floor(n * val_frac + 0.5)) before them as val (a zero fraction gives
// 0), the rest as train; users with fewer than 3 rows are train only. leave-last-out: last row
// test, second last val, same 3-row minimum. random: rows ordered by a Philox key per row
// position; the first n - n_val - n_test are train, then val, then test, with
// n_x = floor(n * x_frac + 0.5).
std::vector<SplitTag> assign_splits(const std::vector<Interaction>& rows, int32_t num_users,
                                    const SplitOptions& opt);

// A human-readable summary: counts, density, degree statistics, cold users/items per split,
// feature names, the drop report.
std::string describe_dataset(const Dataset& d);

}  // namespace gnnrec
