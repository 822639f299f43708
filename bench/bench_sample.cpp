// Benchmark of the graph ops of a training step (runtime/graph.h) on a synthetic power-law
// bipartite graph (default 1M training edges):
//   sample_blocks   fanouts [10, 10], 1024 and 8192 seeds, the batch's edges excluded;
//                   sampled edges/s on one CPU core, on all cores, and on the GPU
//   sample_negatives  8192 users x 4 negatives, uniform and popularity^0.75
//   spmm            LightGCN propagation over the whole graph, d = 64: GB/s (minimum traffic)
//                   for the CPU, CUDA variant 1 (own kernel) and variant 2 (cuSPARSE)
// GPU results are first checked against the CPU (identical blocks and negatives; SpMM within
// tolerance); a failed check makes the program exit 1. Prints a table; --json PATH writes the
// rows with the build info (commit, device names).
// Options: --json PATH, --quick, --reps N, --device cpu|cuda|all, --edges N, --only OP.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/context.h"
#include "runtime/dispatch.h"
#include "runtime/graph.h"
#include "runtime/info.h"
#include "runtime/npy.h"

namespace gnnrec {
namespace {

struct Options {
  std::string json_path;
  bool quick = false;
  int reps = 0;
  bool run_cpu = true, run_cuda = true;
  int64_t edges = 1000000;
  std::string only;  // "", "sample", "negatives" or "spmm"
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      GNNREC_EXPECTS(i + 1 < argc, "option {} needs a value", a);
      return argv[++i];
    };
    if (a == "--json") {
      o.json_path = value();
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--reps") {
      o.reps = std::stoi(value());
      GNNREC_EXPECTS(o.reps >= 1, "--reps must be >= 1");
    } else if (a == "--device") {
      const std::string d = value();
      GNNREC_EXPECTS(d == "cpu" || d == "cuda" || d == "all",
                     "--device must be cpu, cuda or all, got '{}'", d);
      o.run_cpu = d != "cuda";
      o.run_cuda = d != "cpu";
    } else if (a == "--edges") {
      o.edges = std::stoll(value());
      GNNREC_EXPECTS(o.edges >= 1000, "--edges must be >= 1000");
    } else if (a == "--only") {
      o.only = value();
      GNNREC_EXPECTS(o.only == "sample" || o.only == "negatives" || o.only == "spmm",
                     "--only must be sample, negatives or spmm, got '{}'", o.only);
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "bench_sample: graph sampling, negatives and SpMM\nusage: %s [--json PATH] [--quick] "
          "[--reps N] [--device cpu|cuda|all] [--edges N] [--only sample|negatives|spmm]\n",
          argv[0]);
      std::exit(0);
    } else {
      GNNREC_FAIL("unknown option '{}' (see --help)", a);
    }
  }
  if (o.quick) o.edges = std::min<int64_t>(o.edges, 100000);
  return o;
}

void sync(Device d) {
  if (d.is_cuda()) stream_synchronize(detail::stream_of(d));
}

struct Timing {
  double median_ms = 0, min_ms = 0;
  double cpu_ms = 0;  // median process CPU time (all threads): on a shared machine the honest
                      // per-core figure for a one-thread run
  int reps = 0;
};

double process_cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

// Warm-up once, then at least 3 and at most `reps` runs, stopping after ~1.5 s.
Timing time_op(const std::function<void()>& f, Device d, int reps) {
  f();
  sync(d);
  std::vector<double> ms, cpu;
  const auto t_start = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = process_cpu_ms();
    f();
    sync(d);
    const auto t1 = std::chrono::steady_clock::now();
    cpu.push_back(process_cpu_ms() - c0);
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    if (r >= 2 && std::chrono::duration<double>(t1 - t_start).count() > 1.5) break;
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  return {ms[ms.size() / 2], ms.front(), cpu[cpu.size() / 2], static_cast<int>(ms.size())};
}

RngKey key_of(RngPurpose p, uint32_t step) {
  RngKey k;
  k.seed = 20261130;
  k.purpose = static_cast<uint32_t>(p);
  k.step = step;
  return k;
}

// Power-law endpoints: id = floor(n * u^3) gives the low ids most of the edges (the most popular
// user ~ 1% of them), like purchase logs.
void synth_edges(int64_t num_users, int64_t num_items, int64_t num_edges,
                 std::vector<int32_t>& users, std::vector<int32_t>& items) {
  const RngKey k = key_of(RngPurpose::kSynth, 0);
  users.resize(num_edges);
  items.resize(num_edges);
  for (int64_t e = 0; e < num_edges; ++e) {
    const U32x4 r = rng_draw(k, e);
    const double a = rng_uniform01(r.v[0]), b = rng_uniform01(r.v[1]);
    users[e] = static_cast<int32_t>(std::min<double>(num_users - 1, num_users * a * a * a));
    items[e] = static_cast<int32_t>(std::min<double>(num_items - 1, num_items * b * b * b));
  }
}

bool same_blocks(const std::vector<Block>& a, const std::vector<Block>& b) {
  if (a.size() != b.size()) return false;
  auto h = [](const Tensor& t) {
    return t.to(Device::cpu(), detail::stream_of(t.device())).to_vector<int32_t>();
  };
  for (size_t l = 0; l < a.size(); ++l) {
    if (a[l].num_src != b[l].num_src || a[l].nnz != b[l].nnz) return false;
    if (h(a[l].src_nodes) != h(b[l].src_nodes) || h(a[l].indptr) != h(b[l].indptr) ||
        h(a[l].indices) != h(b[l].indices) || h(a[l].t_indptr) != h(b[l].t_indptr) ||
        h(a[l].t_indices) != h(b[l].t_indices))
      return false;
  }
  return true;
}

std::string fmt_num(double v, int prec = 2) {
  return v < 0 ? "-" : fmt::format("{:.{}f}", v, prec);
}

int run(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  const bool cuda = opt.run_cuda && cuda_device_count() > 0;
  const int reps = opt.reps > 0 ? opt.reps : (opt.quick ? 5 : 50);
  const int max_threads = omp_get_max_threads();
  const Device gpu = Device::cuda(0);
  std::string gpu_name = "none";
  if (cuda) gpu_name = list_devices().at(0).name;

  const int64_t num_users = opt.edges / 8, num_items = opt.edges / 16;
  std::vector<int32_t> eu, ei;
  synth_edges(num_users, num_items, opt.edges, eu, ei);
  const DeviceGraph g = make_device_graph(num_users, num_items, eu, ei, Device::cpu());
  DeviceGraph gg;
  if (cuda) gg = g.to(gpu);
  std::printf("graph: %lld users, %lld items, %lld edges (power law); CPU threads %d; GPU %s\n",
              static_cast<long long>(num_users), static_cast<long long>(num_items),
              static_cast<long long>(opt.edges), max_threads, gpu_name.c_str());

  nlohmann::json rows = nlohmann::json::array();
  std::vector<std::string> failures;
  std::vector<std::vector<std::string>> table;
  auto add = [&](nlohmann::json row, const std::string& shape, const std::string& rate,
                 const std::string& unit) {
    table.push_back({row["name"].get<std::string>(), row["device"].get<std::string>(), shape,
                     fmt_num(row["ms"].get<double>(), 3), rate + " " + unit,
                     row.value("check", std::string("-"))});
    rows.push_back(std::move(row));
  };

  // ---- sample_blocks
  const std::vector<int> fanouts = {10, 10};
  const Tensor perm_nodes =
      random_permutation(g.num_nodes, key_of(RngPurpose::kTest, 1), Device::cpu());
  const Tensor perm_edges =
      random_permutation(g.num_edges, key_of(RngPurpose::kTest, 2), Device::cpu());
  for (int64_t batch : {int64_t{1024}, int64_t{8192}}) {
    if (!opt.only.empty() && opt.only != "sample") break;
    std::vector<int32_t> seeds(batch);
    for (int64_t i = 0; i < batch; ++i)
      seeds[i] = static_cast<int32_t>(perm_nodes.data<int64_t>()[i]);
    std::vector<int64_t> excl(perm_edges.data<int64_t>(), perm_edges.data<int64_t>() + batch / 2);
    const Tensor s_cpu = Tensor::from_vector(seeds), x_cpu = Tensor::from_vector(excl);
    const RngKey key = key_of(RngPurpose::kSample, 3);
    const std::vector<Block> ref = sample_blocks(g, s_cpu, fanouts, x_cpu, key);
    int64_t sampled = 0;
    for (const Block& b : ref) sampled += b.nnz;
    const std::string shape = fmt::format("{} seeds, fanouts 10,10", batch);
    auto row = [&](const char* dev, int threads, const Timing& t, const char* check) {
      nlohmann::json r = {
          {"name", "sample_blocks"}, {"device", dev},
          {"batch", batch},          {"fanouts", fanouts},
          {"threads", threads},      {"sampled_edges", sampled},
          {"ms", t.median_ms},       {"min_ms", t.min_ms},
          {"reps", t.reps},          {"edges_per_s", sampled / (t.median_ms * 1e-3)},
          {"check", check}};
      std::string rate = fmt_num(sampled / (t.median_ms * 1e-3) / 1e6, 1) + " M edges/s";
      if (threads == 1) {
        // Per core: sampled edges per second of CPU time (robust to a shared, loaded machine).
        r["cpu_ms"] = t.cpu_ms;
        r["edges_per_cpu_s"] = sampled / (t.cpu_ms * 1e-3);
        rate += fmt::format(" ({} per core-s)", fmt_num(sampled / (t.cpu_ms * 1e-3) / 1e6, 1));
      }
      add(r, shape + (threads > 0 ? fmt::format(" ({} thr)", threads) : ""), rate, "");
    };
    if (opt.run_cpu) {
      for (int threads : {1, max_threads}) {
        omp_set_num_threads(threads);
        const Timing t =
            time_op([&] { sample_blocks(g, s_cpu, fanouts, x_cpu, key); }, Device::cpu(), reps);
        row("cpu", threads, t, "ref");
        if (max_threads == 1) break;
      }
      omp_set_num_threads(max_threads);
    }
    if (cuda) {
      const Stream st = detail::stream_of(gpu);
      const Tensor s_gpu = s_cpu.to(gpu, st), x_gpu = x_cpu.to(gpu, st);
      const bool ok = same_blocks(sample_blocks(gg, s_gpu, fanouts, x_gpu, key), ref);
      if (!ok)
        failures.push_back(
            fmt::format("sample_blocks batch {}: CUDA blocks differ from CPU", batch));
      const Timing t = time_op([&] { sample_blocks(gg, s_gpu, fanouts, x_gpu, key); }, gpu, reps);
      row("cuda:0", 0, t, ok ? "ok" : "FAIL");
    }
  }

  // ---- sample_negatives
  if (opt.only.empty() || opt.only == "negatives") {
    const int64_t batch = 8192;
    const int k = 4;
    std::vector<int32_t> users(batch);
    for (int64_t b = 0; b < batch; ++b) users[b] = static_cast<int32_t>((b * 7919) % num_users);
    const Tensor u_cpu = Tensor::from_vector(users);
    for (float alpha : {0.0f, 0.75f}) {
      const NegativeSampler ns = make_negative_sampler(g, alpha);
      Tensor out = Tensor::empty({batch, k}, DType::kI32);
      const RngKey key = key_of(RngPurpose::kNegative, 4);
      sample_negatives(ns, g, u_cpu, k, key, out);
      const std::string shape = fmt::format("{}x{} alpha {}", batch, k, alpha);
      auto row = [&](const char* dev, const Timing& t, const char* check) {
        nlohmann::json r = {{"name", "sample_negatives"},
                            {"device", dev},
                            {"batch", batch},
                            {"k", k},
                            {"alpha", alpha},
                            {"ms", t.median_ms},
                            {"min_ms", t.min_ms},
                            {"reps", t.reps},
                            {"draws_per_s", batch * k / (t.median_ms * 1e-3)},
                            {"check", check}};
        add(r, shape, fmt_num(batch * k / (t.median_ms * 1e-3) / 1e6, 1), "M draws/s");
      };
      if (opt.run_cpu) {
        row("cpu",
            time_op([&] { sample_negatives(ns, g, u_cpu, k, key, out); }, Device::cpu(), reps),
            "ref");
      }
      if (cuda) {
        const Stream st = detail::stream_of(gpu);
        const NegativeSampler ns_gpu = make_negative_sampler(gg, alpha);
        const Tensor u_gpu = u_cpu.to(gpu, st);
        Tensor out_gpu = Tensor::empty({batch, k}, DType::kI32, gpu, st);
        sample_negatives(ns_gpu, gg, u_gpu, k, key, out_gpu);
        const bool ok =
            out_gpu.to(Device::cpu(), st).to_vector<int32_t>() == out.to_vector<int32_t>();
        if (!ok) failures.push_back(fmt::format("sample_negatives alpha {}: CUDA differs", alpha));
        row("cuda:0",
            time_op([&] { sample_negatives(ns_gpu, gg, u_gpu, k, key, out_gpu); }, gpu, reps),
            ok ? "ok" : "FAIL");
      }
    }
  }

  // ---- SpMM (LightGCN propagation)
  if (opt.only.empty() || opt.only == "spmm") {
    const int64_t d = 64, n = g.num_nodes, nnz = 2 * g.num_edges;
    // Minimum traffic: indptr, indices, values once, one x row per entry, y once.
    const double bytes = 8.0 * (n + 1) + 8.0 * nnz + 4.0 * d * nnz + 4.0 * d * n;
    const Tensor vals = symmetric_norm_values(g);
    std::vector<float> xv(n * d);
    for (int64_t i = 0; i < n * d; ++i)
      xv[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    const Tensor x = Tensor::from_vector(xv, {n, d});
    Tensor y = Tensor::empty({n, d}, DType::kF32);
    spmm(g.indptr, g.indices, vals, x, y);
    const std::vector<float> want = y.to_vector<float>();
    // The check's bound per output: two float summations of deg terms in different orders (or
    // with FMAs) differ by at most 2 * deg * 2^-24 * sum |terms|; sum |terms| is the SpMM of
    // |values| with |x|. A relative error alone fails on outputs that cancel to near 0.
    std::vector<float> abs_vals = vals.to_vector<float>(), abs_x = xv;
    for (float& v : abs_vals) v = std::fabs(v);
    for (float& v : abs_x) v = std::fabs(v);
    Tensor y_abs = Tensor::empty({n, d}, DType::kF32);
    spmm(g.indptr, g.indices, Tensor::from_vector(abs_vals), Tensor::from_vector(abs_x, {n, d}),
         y_abs);
    std::vector<double> bound(static_cast<size_t>(n * d));
    {
      const std::vector<float> sum_abs = y_abs.to_vector<float>();
      const int64_t* ip = g.indptr.data<int64_t>();
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < d; ++c)
          bound[r * d + c] = 2.0 * static_cast<double>(ip[r + 1] - ip[r] + 1) * 0x1p-24 *
                                 sum_abs[r * d + c] + 1e-30;
    }
    const std::string shape = fmt::format("{} rows, nnz {}, d {}", n, nnz, d);
    auto row = [&](const char* dev, int variant, const Timing& t, const std::string& check) {
      nlohmann::json r = {{"name", "spmm"},
                          {"device", dev},
                          {"variant", variant},
                          {"rows", n},
                          {"nnz", nnz},
                          {"d", d},
                          {"bytes", bytes},
                          {"ms", t.median_ms},
                          {"min_ms", t.min_ms},
                          {"reps", t.reps},
                          {"gbs", bytes / (t.median_ms * 1e-3) / 1e9},
                          {"check", check}};
      add(r, shape + (variant ? fmt::format(" v{}", variant) : ""),
          fmt_num(bytes / (t.median_ms * 1e-3) / 1e9, 1), "GB/s");
    };
    if (opt.run_cpu) {
      row("cpu", 0, time_op([&] { spmm(g.indptr, g.indices, vals, x, y); }, Device::cpu(), reps),
          "ref");
    }
    if (cuda) {
      const Stream st = detail::stream_of(gpu);
      const Tensor vg = vals.to(gpu, st), xg = x.to(gpu, st);
      std::vector<int32_t> ip32(g.indptr.data<int64_t>(), g.indptr.data<int64_t>() + n + 1);
      const Tensor ip32g = Tensor::from_vector(ip32).to(gpu, st);
      Tensor yg = Tensor::empty({n, d}, DType::kF32, gpu, st);
      for (int variant : {1, 2}) {
        const SpmmVariant var = variant == 1 ? SpmmVariant::kRowGroup : SpmmVariant::kCusparse;
        const Tensor& ip = variant == 1 ? gg.indptr : ip32g;
        spmm(ip, gg.indices, vg, xg, yg, var);
        const std::vector<float> got = yg.to(Device::cpu(), st).to_vector<float>();
        double max_ratio = 0;  // |got - want| over the bound above; <= 1 passes
        for (size_t i = 0; i < got.size(); ++i)
          max_ratio = std::max(max_ratio,
                               std::fabs(static_cast<double>(got[i]) - want[i]) / bound[i]);
        const bool ok = max_ratio <= 1.0;
        if (!ok)
          failures.push_back(fmt::format(
              "spmm variant {}: an error is {:.3g} times the float summation bound", variant,
              max_ratio));
        row("cuda:0", variant, time_op([&] { spmm(ip, gg.indices, vg, xg, yg, var); }, gpu, reps),
            ok ? "ok" : "FAIL");
      }
    }
  }

  // ---- Output
  std::vector<std::string> header = {"op", "device", "shape", "ms", "rate", "check"};
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : table) width[c] = std::max(width[c], r[c].size());
  }
  auto print_row = [&](const std::vector<std::string>& r) {
    for (size_t c = 0; c < r.size(); ++c)
      std::printf("%-*s  ", static_cast<int>(width[c]), r[c].c_str());
    std::printf("\n");
  };
  print_row(header);
  for (const auto& r : table) print_row(r);
  for (const auto& f : failures) std::printf("CHECK FAILED: %s\n", f.c_str());

  if (!opt.json_path.empty()) {
    nlohmann::json j;
    j["bench"] = "bench_sample";
    j["build"] = build_info_json();
    j["commit"] = j["build"]["commit"];
    j["device_name"] = gpu_name;
    j["quick"] = opt.quick;
    j["graph"] = {{"users", num_users}, {"items", num_items}, {"edges", opt.edges}};
    j["failures"] = failures;
    j["results"] = rows;
    write_file_atomic(opt.json_path, j.dump(2) + "\n");
  }
  return failures.empty() ? 0 : 1;
}

}  // namespace
}  // namespace gnnrec

int main(int argc, char** argv) {
  try {
    return gnnrec::run(argc, argv);
  } catch (const gnnrec::Error& e) {
    std::fprintf(stderr, "bench_sample: %s\n", e.what());
    return 1;
  }
}
