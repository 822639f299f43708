#include "runtime/data/prepare.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <numeric>

#include "kernels/philox.h"
#include "runtime/log.h"
#include "runtime/npy.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;

// Row indices grouped by user (counting sort, so input order is kept within a user).
void group_by_user(const std::vector<Interaction>& rows, int32_t num_users,
                   std::vector<int64_t>* start, std::vector<int64_t>* order) {
  start->assign(num_users + 1, 0);
  for (const auto& r : rows) {
    GNNREC_EXPECTS(r.user >= 0 && r.user < num_users, "user id {} outside [0, {})", r.user,
                   num_users);
    (*start)[r.user + 1]++;
  }
  for (int32_t u = 0; u < num_users; ++u) (*start)[u + 1] += (*start)[u];
  std::vector<int64_t> fill(start->begin(), start->end() - 1);
  order->resize(rows.size());
  for (size_t k = 0; k < rows.size(); ++k) (*order)[fill[rows[k].user]++] = static_cast<int64_t>(k);
}

int64_t round_count(int64_t n, double frac) {
  if (frac <= 0) return 0;
  return std::max<int64_t>(1, static_cast<int64_t>(std::floor(n * frac + 0.5)));
}

int64_t as_seconds(int64_t t) { return t > 100000000000LL ? t / 1000 : t; }

std::vector<Interaction> keep_rows(const std::vector<Interaction>& rows,
                                   const std::vector<uint8_t>& keep) {
  std::vector<Interaction> out;
  out.reserve(rows.size());
  for (size_t k = 0; k < rows.size(); ++k) {
    if (keep[k]) out.push_back(rows[k]);
  }
  return out;
}

std::string join_lines(const IdInterner& ids, const std::vector<int32_t>& order) {
  std::string s;
  for (int32_t id : order) {
    s.append(ids.str(id));
    s.push_back('\n');
  }
  return s;
}

// Appends dataset-specific columns (readers' ExtraColumn) to a feature matrix. z-scores use the
// mean and standard deviation over the fit rows (users/items with training edges) that have a
// value; the statistics go to *fitted so new rows can be transformed the same way.
FeatureMatrix append_extra(const FeatureMatrix& base, const std::vector<ExtraColumn>& cols,
                           const std::vector<int32_t>& raw_of_dense,
                           const std::vector<uint8_t>& fit_mask, nlohmann::json* fitted) {
  const int64_t n = static_cast<int64_t>(raw_of_dense.size());
  std::vector<std::string> names = base.names;
  std::vector<std::vector<float>> extra;
  for (const auto& c : cols) {
    std::vector<float> v(n), miss(n, 0.0f);
    bool any_missing = false;
    if (c.kind == ExtraColumn::Kind::kValue) {
      for (int64_t i = 0; i < n; ++i) {
        const float x = c.values[raw_of_dense[i]];
        v[i] = std::isnan(x) ? 0.0f : x;
      }
      names.push_back(c.name);
      (*fitted)[c.name] = {{"kind", "value"}};
    } else {
      double sum = 0, sq = 0;
      int64_t cnt = 0;
      for (int64_t i = 0; i < n; ++i) {
        const float x = c.values[raw_of_dense[i]];
        if (fit_mask[i] && !std::isnan(x)) {
          sum += x;
          sq += static_cast<double>(x) * x;
          ++cnt;
        }
      }
      const double mean = cnt ? sum / cnt : 0.0;
      const double var = cnt ? std::max(0.0, sq / cnt - mean * mean) : 0.0;
      const double sd = var > 1e-12 ? std::sqrt(var) : 1.0;
      for (int64_t i = 0; i < n; ++i) {
        const float x = c.values[raw_of_dense[i]];
        if (std::isnan(x)) {
          v[i] = 0.0f;
          miss[i] = 1.0f;
          any_missing = true;
        } else {
          v[i] = static_cast<float>((x - mean) / sd);
        }
      }
      names.push_back(c.name + "_z");
      (*fitted)[c.name] = {{"kind", "zscore"}, {"mean", mean}, {"std", sd}};
    }
    extra.push_back(std::move(v));
    if (c.missing_flag) {
      names.push_back(c.name + "_missing");
      extra.push_back(std::move(miss));
    }
    (void)any_missing;
  }
  const int64_t f0 = base.values.defined() && base.values.ndim() == 2 ? base.values.dim(1) : 0;
  const int64_t f = f0 + static_cast<int64_t>(extra.size());
  FeatureMatrix out;
  out.names = std::move(names);
  out.values = Tensor::zeros({n, f}, DType::kF32);
  float* o = out.values.data<float>();
  const float* b = f0 ? base.values.data<float>() : nullptr;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < f0; ++j) o[i * f + j] = b[i * f0 + j];
    for (size_t j = 0; j < extra.size(); ++j) o[i * f + f0 + j] = extra[j][i];
  }
  return out;
}

void save_split(const std::string& dir, const std::string& name, const EdgeList& e) {
  const int64_t n = static_cast<int64_t>(e.size());
  std::vector<int32_t> pairs(2 * n);
  for (int64_t k = 0; k < n; ++k) {
    pairs[2 * k] = e.user[k];
    pairs[2 * k + 1] = e.item[k];
  }
  save_npy(dir + "/" + name + "_edges.npy", Tensor::from_vector(pairs, {n, 2}));
  save_npy(dir + "/" + name + "_ratings.npy", Tensor::from_vector(e.rating, {n}));
  save_npy(dir + "/" + name + "_timestamps.npy", Tensor::from_vector(e.timestamp, {n}));
}

void save_csr(const std::string& dir, const std::string& prefix, const Csr& c) {
  save_npy(dir + "/" + prefix + "_indptr.npy", Tensor::from_vector(c.indptr));
  save_npy(dir + "/" + prefix + "_indices.npy",
           Tensor::from_vector(c.indices, {static_cast<int64_t>(c.indices.size())}));
  save_npy(dir + "/" + prefix + "_edge_ids.npy",
           Tensor::from_vector(c.edge_ids, {static_cast<int64_t>(c.edge_ids.size())}));
}

std::string dump_json(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Removes the temporary directory unless released (the dataset was renamed into place).
struct TempDir {
  std::string path;
  bool live = true;
  ~TempDir() {
    if (live) {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  }
};

}  // namespace

std::vector<Interaction> dedupe_pairs(const std::vector<Interaction>& rows, int32_t num_users) {
  std::vector<int64_t> start, order;
  group_by_user(rows, num_users, &start, &order);
  std::vector<uint8_t> keep(rows.size(), 0);
  for (int32_t u = 0; u < num_users; ++u) {
    auto b = order.begin() + start[u], e = order.begin() + start[u + 1];
    std::sort(b, e, [&](int64_t x, int64_t y) {
      const auto &rx = rows[x], &ry = rows[y];
      if (rx.item != ry.item) return rx.item < ry.item;
      if (rx.timestamp != ry.timestamp) return rx.timestamp < ry.timestamp;
      return x < y;
    });
    for (auto it = b; it != e; ++it) {
      if (it == b || rows[*(it - 1)].item != rows[*it].item) keep[*it] = 1;
    }
  }
  return keep_rows(rows, keep);
}

std::vector<Interaction> kcore_filter(const std::vector<Interaction>& rows, int32_t num_users,
                                      int32_t num_items, int k, int* rounds) {
  std::vector<uint8_t> alive(rows.size(), 1);
  std::vector<int64_t> du(num_users), di(num_items);
  int passes = 0;
  for (;;) {
    ++passes;
    std::fill(du.begin(), du.end(), 0);
    std::fill(di.begin(), di.end(), 0);
    for (size_t r = 0; r < rows.size(); ++r) {
      if (alive[r]) {
        du[rows[r].user]++;
        di[rows[r].item]++;
      }
    }
    bool changed = false;
    for (size_t r = 0; r < rows.size(); ++r) {
      if (alive[r] && (du[rows[r].user] < k || di[rows[r].item] < k)) {
        alive[r] = 0;
        changed = true;
      }
    }
    if (!changed) break;
  }
  if (rounds) *rounds = passes;
  return keep_rows(rows, alive);
}

std::vector<SplitTag> assign_splits(const std::vector<Interaction>& rows, int32_t num_users,
                                    const SplitOptions& opt) {
  const int64_t n = static_cast<int64_t>(rows.size());
  std::vector<SplitTag> tag(n, SplitTag::kTrain);
  GNNREC_EXPECTS(opt.val_frac >= 0 && opt.test_frac >= 0 && opt.val_frac + opt.test_frac < 1,
                 "--val-frac {} and --test-frac {} must be >= 0 and sum to less than 1",
                 opt.val_frac, opt.test_frac);
  if (opt.rule == "predefined") {
    for (int64_t k = 0; k < n; ++k) {
      GNNREC_EXPECTS(
          rows[k].split != SplitTag::kNone,
          "--split predefined: the inputs do not define a split (use split files such "
          "as train.txt/test.txt, u1.base/u1.test or *.train.csv/*.valid.csv/*.test.csv)");
      tag[k] = rows[k].split;
    }
  } else if (opt.rule == "user-temporal" || opt.rule == "leave-last-out") {
    const bool llo = opt.rule == "leave-last-out";
    std::vector<int64_t> start, order;
    group_by_user(rows, num_users, &start, &order);
    for (int32_t u = 0; u < num_users; ++u) {
      auto b = order.begin() + start[u], e = order.begin() + start[u + 1];
      // Input order within a user is kept by the grouping, so a stable sort breaks time ties by
      // input position.
      std::stable_sort(b, e,
                       [&](int64_t x, int64_t y) { return rows[x].timestamp < rows[y].timestamp; });
      const int64_t m = e - b;
      if (m < 3) continue;
      int64_t n_test = llo ? 1 : round_count(m, opt.test_frac);
      int64_t n_val = llo ? 1 : round_count(m, opt.val_frac);
      while (m - n_val - n_test < 1 && n_val > 0) --n_val;
      while (m - n_val - n_test < 1 && n_test > 0) --n_test;
      for (int64_t j = m - n_test - n_val; j < m - n_test; ++j) tag[b[j]] = SplitTag::kVal;
      for (int64_t j = m - n_test; j < m; ++j) tag[b[j]] = SplitTag::kTest;
    }
  } else if (opt.rule == "global-temporal") {
    const int64_t vf = as_seconds(opt.val_from), tf = as_seconds(opt.test_from);
    GNNREC_EXPECTS(vf <= tf, "--val-from {} is after --test-from {}", opt.val_from, opt.test_from);
    for (int64_t k = 0; k < n; ++k) {
      const int64_t t = rows[k].timestamp;
      tag[k] = t >= tf ? SplitTag::kTest : t >= vf ? SplitTag::kVal : SplitTag::kTrain;
    }
  } else if (opt.rule == "random") {
    const RngKey key{opt.seed, static_cast<uint32_t>(RngPurpose::kSplit), 0, 0};
    std::vector<std::pair<uint64_t, int64_t>> keyed(n);
    for (int64_t k = 0; k < n; ++k) {
      const U32x4 w = rng_draw(key, static_cast<uint64_t>(k));
      keyed[k] = {(static_cast<uint64_t>(w.v[1]) << 32) | w.v[0], k};
    }
    std::sort(keyed.begin(), keyed.end());
    const int64_t n_test = static_cast<int64_t>(std::floor(n * opt.test_frac + 0.5));
    const int64_t n_val = static_cast<int64_t>(std::floor(n * opt.val_frac + 0.5));
    const int64_t n_train = n - n_val - n_test;
    for (int64_t j = n_train; j < n; ++j) {
      tag[keyed[j].second] = j < n_train + n_val ? SplitTag::kVal : SplitTag::kTest;
    }
  } else {
    GNNREC_FAIL(
        "--split {}: unknown (expected user-temporal, global-temporal, leave-last-out, "
        "random or predefined)",
        opt.rule);
  }
  return tag;
}

void prepare_dataset(const PrepareOptions& opt) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  GNNREC_EXPECTS(!opt.out.empty(), "--out: an output directory is required");
  fs::path out = fs::path(opt.out).lexically_normal();
  if (out.filename().empty()) out = out.parent_path();  // "dir/" names "dir"
  GNNREC_EXPECTS(!out.filename().empty() && out.filename() != "." && out.filename() != "..",
                 "--out {}: must name a directory to create", opt.out);
  GNNREC_EXPECTS(!fs::exists(out) || opt.force,
                 "--out {}: already exists (pass --force to replace it)", opt.out);
  GNNREC_EXPECTS(!fs::exists(out) || fs::is_directory(out),
                 "--out {}: exists and is not a directory", opt.out);
  GNNREC_EXPECTS(opt.kcore >= 0, "--kcore {}: must be >= 0", opt.kcore);

  RawData raw = read_inputs(opt.read);
  const int64_t rows_read = static_cast<int64_t>(raw.rows.size());
  log_info("read {} interactions ({} users, {} items){}", rows_read, raw.users.size(),
           raw.items.size(),
           raw.stats.bad_lines ? fmt::format(", skipped {} bad lines", raw.stats.bad_lines) : "");
  GNNREC_EXPECTS(rows_read > 0, "the inputs hold no interactions");

  nlohmann::json drops = nlohmann::json::array();
  auto record_drop = [&](const std::string& step, int64_t before, int64_t after,
                         nlohmann::json extra) {
    nlohmann::json j = {{"step", step}, {"rows_before", before}, {"rows_dropped", before - after}};
    for (auto& [k, v] : extra.items()) j[k] = v;
    drops.push_back(j);
    log_info("{}: dropped {} of {} rows", step, before - after, before);
  };

  // 1. Duplicate pairs, 2. rating threshold, 3. k-core.
  std::vector<Interaction> rows = dedupe_pairs(raw.rows, raw.users.size());
  record_drop("duplicate (user, item) pairs, earliest kept", rows_read,
              static_cast<int64_t>(rows.size()), nlohmann::json::object());
  raw.rows.clear();
  raw.rows.shrink_to_fit();
  const bool threshold = !std::isnan(opt.min_rating);
  if (threshold) {
    GNNREC_EXPECTS(raw.has_ratings, "--min-rating: the {} input has no ratings",
                   input_format_name(raw.format));
    const int64_t before = static_cast<int64_t>(rows.size());
    std::vector<uint8_t> keep(rows.size());
    for (size_t k = 0; k < rows.size(); ++k) keep[k] = rows[k].rating >= opt.min_rating;
    rows = keep_rows(rows, keep);
    record_drop(fmt::format("rating below {}", opt.min_rating), before,
                static_cast<int64_t>(rows.size()), {{"min_rating", opt.min_rating}});
  }
  if (opt.kcore > 0) {
    const int64_t before = static_cast<int64_t>(rows.size());
    int rounds = 0;
    rows = kcore_filter(rows, raw.users.size(), raw.items.size(), opt.kcore, &rounds);
    record_drop(fmt::format("{}-core", opt.kcore), before, static_cast<int64_t>(rows.size()),
                {{"k", opt.kcore}, {"rounds", rounds}});
  }
  GNNREC_EXPECTS(!rows.empty(),
                 "no interactions left after filtering (see the drop counts "
                 "above; lower --min-rating or --kcore)");

  // Dense ids over what is left: numeric formats keep their numeric order (so LightGCN and
  // MovieLens ids stay comparable with published splits), the others first appearance.
  auto dense_order = [&](const IdInterner& ids, bool user) {
    std::vector<uint8_t> used(ids.size(), 0);
    for (const auto& r : rows) used[user ? r.user : r.item] = 1;
    std::vector<int32_t> order;
    for (int32_t i = 0; i < ids.size(); ++i) {
      if (used[i]) order.push_back(i);
    }
    if (raw.numeric_ids) {
      std::vector<int64_t> num(ids.size(), 0);
      for (int32_t i : order) num[i] = std::stoll(std::string(ids.str(i)));
      std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return num[a] < num[b]; });
    }
    return order;
  };
  const std::vector<int32_t> user_raw = dense_order(raw.users, true);
  const std::vector<int32_t> item_raw = dense_order(raw.items, false);
  const int32_t U = static_cast<int32_t>(user_raw.size()),
                I = static_cast<int32_t>(item_raw.size());
  {
    std::vector<int32_t> user_new(raw.users.size(), -1), item_new(raw.items.size(), -1);
    for (int32_t u = 0; u < U; ++u) user_new[user_raw[u]] = u;
    for (int32_t i = 0; i < I; ++i) item_new[item_raw[i]] = i;
    for (auto& r : rows) {
      r.user = user_new[r.user];
      r.item = item_new[r.item];
    }
  }

  // Split.
  SplitOptions sopt = opt.split;
  if (sopt.rule == "auto") sopt.rule = raw.predefined_split ? "predefined" : "user-temporal";
  if ((sopt.rule == "user-temporal" || sopt.rule == "leave-last-out" ||
       sopt.rule == "global-temporal") &&
      !raw.has_timestamps) {
    GNNREC_EXPECTS(sopt.rule != "global-temporal",
                   "--split global-temporal: the {} input has no timestamps",
                   input_format_name(raw.format));
    log_warn("--split {}: the input has no timestamps; input order decides", sopt.rule);
  }
  const std::vector<SplitTag> tags = assign_splits(rows, U, sopt);
  EdgeList split[3];
  for (size_t k = 0; k < rows.size(); ++k) {
    EdgeList& e = split[static_cast<int>(tags[k])];
    e.user.push_back(rows[k].user);
    e.item.push_back(rows[k].item);
    e.rating.push_back(std::isnan(rows[k].rating) ? 1.0f : rows[k].rating);
    e.timestamp.push_back(rows[k].timestamp);
  }
  const EdgeList &train = split[0], &val = split[1], &test = split[2];
  log_info("split {}: train {}, val {}, test {}", sopt.rule, train.size(), val.size(), test.size());
  GNNREC_EXPECTS(train.size() > 0, "the split left no training edges");

  // Training graph.
  const Csr ui = build_csr(U, train.user, train.item);
  const Csr iu = build_csr(I, train.item, train.user);
  std::vector<uint8_t> user_fit(U), item_fit(I);
  for (int32_t u = 0; u < U; ++u) user_fit[u] = ui.degree(u) > 0;
  for (int32_t i = 0; i < I; ++i) item_fit[i] = iu.degree(i) > 0;
  auto cold = [&](const EdgeList& e) {
    std::vector<uint8_t> cu(U, 0), ci(I, 0);
    for (size_t k = 0; k < e.size(); ++k) {
      if (!user_fit[e.user[k]]) cu[e.user[k]] = 1;
      if (!item_fit[e.item[k]]) ci[e.item[k]] = 1;
    }
    return nlohmann::json{{"users", std::count(cu.begin(), cu.end(), 1)},
                          {"items", std::count(ci.begin(), ci.end(), 1)}};
  };

  // Write into a temporary sibling directory, renamed into place at the end.
  if (out.has_parent_path()) fs::create_directories(out.parent_path());
  TempDir tmp{out.string() + ".tmp." + std::to_string(::getpid())};
  fs::remove_all(tmp.path);
  fs::create_directories(tmp.path + "/features");

  // Features (user features from training edges only).
  FeatureMatrix user_f = build_user_features(U, train);
  std::vector<RawItemMeta> metas(I);
  int64_t without_meta = I;
  if (!raw.item_meta.empty()) {
    without_meta = 0;
    for (int32_t i = 0; i < I; ++i) {
      metas[i] = raw.item_meta[item_raw[i]];
      if (!metas[i].present) ++without_meta;
    }
  }
  FeatureMatrix item_f;
  if (!raw.item_meta.empty()) {
    item_f = build_item_features(metas, item_fit, opt.features, tmp.path + "/features");
    if (without_meta > 0) log_warn("{} of {} items have no metadata", without_meta, I);
  } else {
    item_f.values = Tensor::zeros({I, 0}, DType::kF32);
  }
  nlohmann::json fitted_extra = nlohmann::json::object();
  if (!raw.user_extra.empty()) {
    nlohmann::json f = nlohmann::json::object();
    user_f = append_extra(user_f, raw.user_extra, user_raw, user_fit, &f);
    fitted_extra["user"] = f;
  }
  if (!raw.item_extra.empty()) {
    nlohmann::json f = nlohmann::json::object();
    item_f = append_extra(item_f, raw.item_extra, item_raw, item_fit, &f);
    fitted_extra["item"] = f;
  }
  GNNREC_EXPECTS(user_f.values.shape() == (Shape{U, static_cast<int64_t>(user_f.names.size())}),
                 "user features: shape {} for {} names and {} users",
                 shape_str(user_f.values.shape()), user_f.names.size(), U);
  GNNREC_EXPECTS(item_f.values.shape() == (Shape{I, static_cast<int64_t>(item_f.names.size())}),
                 "item features: shape {} for {} names and {} items",
                 shape_str(item_f.values.shape()), item_f.names.size(), I);
  if (!fitted_extra.empty()) {
    write_file_atomic(tmp.path + "/features/extra_columns.json", dump_json(fitted_extra, 2));
  }

  const std::string& dir = tmp.path;
  write_file_atomic(dir + "/user_ids.txt", join_lines(raw.users, user_raw));
  write_file_atomic(dir + "/item_ids.txt", join_lines(raw.items, item_raw));
  save_split(dir, "train", train);
  save_split(dir, "val", val);
  save_split(dir, "test", test);
  save_csr(dir, "ui", ui);
  save_csr(dir, "iu", iu);
  save_npy(dir + "/user_features.npy", user_f.values);
  save_npy(dir + "/item_features.npy", item_f.values);
  write_file_atomic(dir + "/feature_names.json",
                    dump_json({{"user", user_f.names}, {"item", item_f.names}}, 2));
  if (!raw.item_meta.empty()) {
    std::string lines;
    for (int32_t i = 0; i < I; ++i) {
      const RawItemMeta& m = metas[i];
      std::string category;
      if (!raw.item_display_category.empty() && !raw.item_display_category[item_raw[i]].empty()) {
        category = raw.item_display_category[item_raw[i]];
      } else if (!m.categories.empty()) {
        category = m.categories.back();  // the most specific
      }
      nlohmann::json j = {{"id", std::string(raw.items.str(item_raw[i]))},
                          {"title", m.title},
                          {"category", category},
                          {"brand", m.brand},
                          {"price", nullptr}};
      if (std::isfinite(m.price)) j["price"] = m.price;
      lines += dump_json(j, -1);
      lines.push_back('\n');
    }
    write_file_atomic(dir + "/items.jsonl", lines);
  }

  nlohmann::json split_j = {{"rule", sopt.rule}};
  if (sopt.rule == "user-temporal" || sopt.rule == "random") {
    split_j["val_frac"] = sopt.val_frac;
    split_j["test_frac"] = sopt.test_frac;
  }
  if (sopt.rule == "user-temporal" || sopt.rule == "leave-last-out") {
    split_j["min_interactions_for_holdout"] = 3;
    split_j["order"] = "timestamp, then input position";
  }
  if (sopt.rule == "global-temporal") {
    split_j["val_from"] = as_seconds(sopt.val_from);
    split_j["test_from"] = as_seconds(sopt.test_from);
  }
  if (sopt.rule == "random") split_j["seed"] = sopt.seed;
  split_j["cold"] = {{"val", cold(val)}, {"test", cold(test)}};

  nlohmann::json sources = nlohmann::json::array();
  for (const auto& s : raw.sources) {
    sources.push_back(
        {{"path", s.path}, {"role", s.role}, {"bytes", s.bytes}, {"sha256", s.sha256}});
  }
  const auto& st = raw.stats;
  nlohmann::json manifest = {
      {"schema_version", kDatasetSchemaVersion},
      {"kind", "gnnrec-dataset"},
      {"created_by", "gnnrec prepare"},
      {"created_at", now_utc()},
      {"format", input_format_name(raw.format)},
      {"counts",
       {{"users", U},
        {"items", I},
        {"train", train.size()},
        {"val", val.size()},
        {"test", test.size()},
        {"user_features", user_f.names.size()},
        {"item_features", item_f.names.size()}}},
      {"id_order", raw.numeric_ids ? "numeric" : "first appearance"},
      {"split", split_j},
      {"filters",
       {{"dedupe", "earliest (timestamp, then input position) of each (user, item) pair"},
        {"min_rating", threshold ? nlohmann::json(opt.min_rating) : nlohmann::json(nullptr)},
        {"kcore", opt.kcore}}},
      {"drops", drops},
      {"input",
       {{"rows_read", rows_read},
        {"lines", st.lines},
        {"bad_lines", st.bad_lines},
        {"bad_line_examples", st.bad_examples},
        {"skip_bad_lines", opt.read.bad_lines.skip},
        {"max_bad_lines", opt.read.bad_lines.max},
        {"meta_rows", st.meta_rows},
        {"meta_duplicates", st.meta_duplicates},
        {"meta_unknown_items", st.meta_unknown_items},
        {"items_without_meta", without_meta},
        {"has_ratings", raw.has_ratings},
        {"has_timestamps", raw.has_timestamps},
        {"bytes_read", st.bytes_read},
        {"bytes_uncompressed", st.bytes_uncompressed}}},
      {"features",
       {{"user", user_f.names},
        {"item", item_f.names},
        {"options",
         {{"top_categories", opt.features.top_categories},
          {"title_dims", opt.features.title_dims},
          {"min_df", opt.features.min_df},
          {"max_vocab", opt.features.max_vocab},
          {"top_brands", opt.features.top_brands},
          {"seed", opt.features.seed}}}}},
      {"sources", sources},
      {"command_line", opt.command_line}};
  write_file_atomic(dir + "/manifest.json", dump_json(manifest, 2) + "\n");

  // Check what was written with the reader every later stage uses, then move it into place.
  load_dataset(dir);
  if (fs::exists(out)) {
    const std::string old = out.string() + ".old." + std::to_string(::getpid());
    fs::remove_all(old);
    fs::rename(out, old);
    std::error_code ec;
    fs::rename(tmp.path, out, ec);
    if (ec) {
      fs::rename(old, out);
      GNNREC_FAIL("{}: cannot move the new dataset into place ({})", out.string(), ec.message());
    }
    tmp.live = false;
    fs::remove_all(old);
  } else {
    fs::rename(tmp.path, out);
    tmp.live = false;
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  log_info(
      "wrote {}: {} users, {} items, {} train / {} val / {} test edges, {} user and {} item "
      "features ({:.2f} s)",
      out.string(), U, I, train.size(), val.size(), test.size(), user_f.names.size(),
      item_f.names.size(), secs);
}

std::string describe_dataset(const Dataset& d) {
  std::string s;
  const auto& m = d.manifest;
  const int64_t U = d.num_users, I = d.num_items;
  const int64_t total = static_cast<int64_t>(d.train.size() + d.val.size() + d.test.size());
  s += fmt::format("dataset {}\n", d.dir);
  s += fmt::format("  format {}, schema {}, ids in {} order\n", m.value("format", "?"),
                   m.value("schema_version", 0), m.value("id_order", "?"));
  s += fmt::format("  users {}, items {}, interactions {} (train {}, val {}, test {})\n", U, I,
                   total, d.train.size(), d.val.size(), d.test.size());
  s += fmt::format("  density {:.6f} (all splits), {:.6f} (train)\n",
                   U && I ? double(total) / (double(U) * I) : 0.0,
                   U && I ? double(d.train.size()) / (double(U) * I) : 0.0);
  if (m.contains("split") && m["split"].is_object()) {
    std::vector<std::string> params;
    for (const auto& [k, v] : m["split"].items()) {
      if (k != "rule" && k != "cold")
        params.push_back(k + " " + (v.is_string() ? v.get<std::string>() : v.dump()));
    }
    s += fmt::format("  split {}{}\n", m["split"].value("rule", std::string("?")),
                     params.empty() ? "" : fmt::format(" ({})", fmt::join(params, ", ")));
  }
  auto degrees = [](const Csr& c, const char* side) {
    std::vector<int64_t> deg(c.rows());
    for (int64_t r = 0; r < c.rows(); ++r) deg[r] = c.degree(r);
    if (deg.empty()) return fmt::format("  train degree of {}: (none)\n", side);
    std::sort(deg.begin(), deg.end());
    const double mean = double(c.nnz()) / deg.size();
    const int64_t zero = std::count(deg.begin(), deg.end(), 0);
    return fmt::format(
        "  train degree of {}: min {}, median {}, max {}, mean {:.2f}; {} with "
        "none (cold)\n",
        side, deg.front(), deg[deg.size() / 2], deg.back(), mean, zero);
  };
  s += degrees(d.user_items, "users");
  s += degrees(d.item_users, "items");
  auto cold = [&](const EdgeList& e, const char* name) {
    std::vector<uint8_t> cu(U, 0), ci(I, 0);
    for (size_t k = 0; k < e.size(); ++k) {
      if (d.user_items.degree(e.user[k]) == 0) cu[e.user[k]] = 1;
      if (d.item_users.degree(e.item[k]) == 0) ci[e.item[k]] = 1;
    }
    int64_t cold_rows = 0;
    for (size_t k = 0; k < e.size(); ++k) {
      cold_rows += d.user_items.degree(e.user[k]) == 0 || d.item_users.degree(e.item[k]) == 0;
    }
    return fmt::format("  cold in {}: {} users, {} items ({} of {} edges touch one)\n", name,
                       std::count(cu.begin(), cu.end(), 1), std::count(ci.begin(), ci.end(), 1),
                       cold_rows, e.size());
  };
  s += cold(d.val, "val");
  s += cold(d.test, "test");
  auto names = [](const std::vector<std::string>& n) {
    constexpr size_t kShown = 12;
    std::vector<std::string> shown(n.begin(), n.begin() + std::min(n.size(), kShown));
    std::string t = fmt::format("{}", fmt::join(shown, ", "));
    if (n.size() > kShown) t += fmt::format(", ... ({} more)", n.size() - kShown);
    return t;
  };
  s += fmt::format("  user features ({}): {}\n", d.user_feature_names.size(),
                   names(d.user_feature_names));
  s += fmt::format("  item features ({}): {}\n", d.item_feature_names.size(),
                   names(d.item_feature_names));
  if (m.contains("drops")) {
    for (const auto& j : m["drops"]) {
      s += fmt::format("  dropped {} rows: {}\n", j.value("rows_dropped", 0),
                       j.value("step", std::string("?")));
    }
  }
  if (m.contains("input")) {
    const auto& in = m["input"];
    s += fmt::format(
        "  input: {} rows read, {} bad lines skipped, {} metadata rows ({} "
        "duplicates, {} for unknown items), {} items without metadata\n",
        in.value("rows_read", 0), in.value("bad_lines", 0), in.value("meta_rows", 0),
        in.value("meta_duplicates", 0), in.value("meta_unknown_items", 0),
        in.value("items_without_meta", 0));
  }
  return s;
}

}  // namespace gnnrec
