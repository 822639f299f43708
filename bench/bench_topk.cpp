// Masked top-K benchmark: B users x N items x d dims, K = 20 (and K = 1000 on the GPU), on the
// CPU (kCpuBlocked) and the GPU (kCudaFused, kCudaGemmSelect), next to the cuBLAS GEMM alone
// (the floor of the GEMM variant: the same tiles, no selection) and, when a python with torch
// is found, PyTorch's mm + masked_fill + topk (bench/peers/topk_torch.py). The "gowalla" line
// uses the real Gowalla training graph as the mask (29,858 x 40,981, d = 64) with random
// embeddings. Every variant is checked against the CPU on a subset of rows before it is timed.
//
//   bench_topk [--json PATH] [--quick] [--full] [--reps N] [--device cpu|cuda|all]
//              [--python PATH] [--no-peer] [--only SUBSTRING]
// --quick: small sizes (CI smoke); --full: also the CPU cases above 2e11 multiply-adds;
// --only: the cases whose name contains SUBSTRING (e.g. --only gowalla).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>

#include "runtime/context.h"
#include "runtime/eval/metrics.h"
#include "runtime/info.h"
#include "runtime/npy.h"
#include "runtime/ops.h"
#include "runtime/ops_topk.h"

#ifdef GNNREC_WITH_CUDA
#include "runtime/cuda_check.h"
#endif

namespace gnnrec {
namespace {

namespace fs = std::filesystem;

struct Options {
  std::string json_path, python, only;
  bool quick = false, full = false, peer = true, run_cpu = true, run_cuda = true;
  int reps = 10;
};

struct Case {
  std::string name;
  int64_t B, N, d;
  int K;
  bool gowalla = false;
};

struct Timing {
  double ms = -1, min_ms = -1;
  int reps = 0;
};

// Runs f once (warm-up and first timing); if that took under `budget_s`, repeats it up to
// `reps` times within the budget. Median and minimum.
Timing time_it(const std::function<double()>& f, int reps, double budget_s = 2.0) {
  std::vector<double> t{f()};
  double spent = t[0] / 1e3;
  if (spent < budget_s) {
    t.clear();
    while (static_cast<int>(t.size()) < std::max(reps, 3) && (spent < budget_s || t.size() < 3)) {
      t.push_back(f());
      spent += t.back() / 1e3;
    }
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t[0], static_cast<int>(t.size())};
}

double time_cpu_once(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

#ifdef GNNREC_WITH_CUDA
double time_cuda_once(const std::function<void()>& f, Stream s) {
  cudaStream_t st = reinterpret_cast<cudaStream_t>(s);
  cudaEvent_t a, b;
  GNNREC_CUDA_CHECK(cudaEventCreate(&a));
  GNNREC_CUDA_CHECK(cudaEventCreate(&b));
  GNNREC_CUDA_CHECK(cudaEventRecord(a, st));
  f();
  GNNREC_CUDA_CHECK(cudaEventRecord(b, st));
  GNNREC_CUDA_CHECK(cudaEventSynchronize(b));
  float ms = 0;
  GNNREC_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return ms;
}
#endif

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string data_dir() {
  const char* s = std::getenv("GNNREC_DATA_DIR");
  return s ? s : GNNREC_DATA_DIR;
}

// The Gowalla training graph (LightGCN split) as a user -> items CSR.
Csr gowalla_train(int64_t* users, int64_t* items) {
  const std::string path = data_dir() + "/gowalla-lightgcn/train.txt";
  std::ifstream f(path);
  GNNREC_EXPECTS(f.good(), "{}: cannot open (GNNREC_DATA_DIR)", path);
  std::vector<int32_t> r, c;
  std::string line;
  int32_t max_item = -1, max_user = -1;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    int32_t u, i;
    if (!(in >> u)) continue;
    max_user = std::max(max_user, u);
    while (in >> i) {
      r.push_back(u);
      c.push_back(i);
      max_item = std::max(max_item, i);
    }
  }
  *users = max_user + 1;
  *items = std::max<int64_t>(max_item + 1, 40981);
  return csr_from_pairs(*users, r, c);
}

// `per_user` random distinct items per user.
Csr random_mask(int64_t B, int64_t N, int per_user, std::mt19937_64& g) {
  std::vector<int32_t> r, c;
  std::uniform_int_distribution<int64_t> pick(0, N - 1);
  for (int64_t u = 0; u < B; ++u) {
    for (int k = 0; k < per_user; ++k) {
      r.push_back(static_cast<int32_t>(u));
      c.push_back(static_cast<int32_t>(pick(g)));
    }
  }
  return csr_from_pairs(B, r, c);
}

Tensor random_matrix(int64_t rows, int64_t cols, std::mt19937_64& g) {
  Tensor t = Tensor::empty({rows, cols}, DType::kF32);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  float* p = t.data<float>();
  for (int64_t i = 0; i < rows * cols; ++i) p[i] = u(g);
  return t;
}

struct Problem {
  Tensor Q, V, indptr, indices;
  Csr mask;
};

// Compares a result with the reference on the first `rows` rows: scores within tolerance, ids
// equal unless their scores tie within tolerance. Returns "ok" or a description.
std::string check(const std::vector<int32_t>& ids, const std::vector<float>& sc,
                  const std::vector<int32_t>& rids, const std::vector<float>& rsc, int64_t rows,
                  int K, int64_t d) {
  // fp32 dot products of length d over values in [-1, 1]: summation-order differences stay
  // well below 1e-5 * d; a wrong item differs by ~0.1 or more.
  const double tol = 1e-5 * static_cast<double>(std::max<int64_t>(d, 1));
  for (int64_t r = 0; r < rows; ++r) {
    for (int k = 0; k < K; ++k) {
      const int64_t e = r * K + k;
      if ((ids[e] < 0) != (rids[e] < 0)) return fmt::format("row {} pos {}: padding differs", r, k);
      if (ids[e] < 0) continue;
      if (std::fabs(static_cast<double>(sc[e]) - rsc[e]) > tol) {
        return fmt::format("row {} pos {}: score {} vs {}", r, k, sc[e], rsc[e]);
      }
    }
    std::set<int32_t> a(ids.begin() + r * K, ids.begin() + (r + 1) * K);
    std::set<int32_t> b(rids.begin() + r * K, rids.begin() + (r + 1) * K);
    if (a != b) {
      // Allowed only among items tied with the K-th score.
      const double kth = rsc[r * K + K - 1];
      for (int k = 0; k < K; ++k) {
        const int64_t e = r * K + k;
        if (!b.count(ids[e]) && std::fabs(sc[e] - kth) > tol) {
          return fmt::format("row {}: id {} (score {}) not in the reference top-K", r, ids[e],
                             sc[e]);
        }
      }
    }
  }
  return "ok";
}

int run(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      GNNREC_EXPECTS(i + 1 < argc, "{} needs a value", a);
      return argv[++i];
    };
    if (a == "--json") {
      o.json_path = value();
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--full") {
      o.full = true;
    } else if (a == "--reps") {
      o.reps = std::stoi(value());
    } else if (a == "--python") {
      o.python = value();
    } else if (a == "--only") {
      o.only = value();
    } else if (a == "--no-peer") {
      o.peer = false;
    } else if (a == "--device") {
      const std::string d = value();
      GNNREC_EXPECTS(d == "cpu" || d == "cuda" || d == "all", "--device {}: cpu, cuda or all", d);
      o.run_cpu = d != "cuda";
      o.run_cuda = d != "cpu";
    } else {
      std::printf(
          "usage: %s [--json PATH] [--quick] [--full] [--reps N] [--device cpu|cuda|all] "
          "[--python PATH] [--no-peer] [--only SUBSTRING]\n",
          argv[0]);
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  const bool gpu = o.run_cuda && cuda_device_count() > 0;
  std::vector<Case> cases;
  if (o.quick) {
    cases = {{"B1", 1, 40000, 64, 20},
             {"B1024", 1024, 40000, 64, 20},
             {"gowalla-1024", 1024, 40981, 64, 20, true}};
  } else {
    for (int64_t B : {int64_t{1}, int64_t{1024}, int64_t{30000}}) {
      for (int64_t N : {int64_t{40000}, int64_t{400000}}) {
        for (int64_t d : {int64_t{64}, int64_t{128}}) {
          cases.push_back({fmt::format("B{}-N{}-d{}", B, N, d), B, N, d, 20});
        }
      }
    }
    cases.push_back({"B1024-N400000-d64-K1000", 1024, 400000, 64, 1000});
    cases.push_back({"gowalla", 29858, 40981, 64, 20, true});
  }

  // A python with torch for the peer.
  std::string python;
  if (o.peer) {
    const std::string script =
        (fs::path(__FILE__).parent_path() / "peers" / "topk_torch.py").string();
    for (const std::string& p : o.python.empty() ? std::vector<std::string>{"python3", "python"}
                                                 : std::vector<std::string>{o.python}) {
      if (std::system((p + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0 &&
          fs::exists(script)) {
        python = p + " " + script;
        break;
      }
    }
    if (python.empty()) std::printf("peer: no python with torch found; PyTorch column empty\n");
  }

  nlohmann::json results = nlohmann::json::array(), failures = nlohmann::json::array();
  std::printf("%-26s %-8s %-17s %10s %10s %11s %8s\n", "case", "device", "variant", "ms", "GFLOP/s",
              "Gscores/s", "check");
  auto report = [&](const Case& c, const std::string& device, const std::string& variant,
                    const Timing& t, const std::string& chk) {
    const double flops = 2.0 * c.B * c.N * c.d;
    const double gf = t.ms > 0 ? flops / (t.ms * 1e6) : -1;
    const double gs = t.ms > 0 ? static_cast<double>(c.B) * c.N / (t.ms * 1e6) : -1;
    std::printf("%-26s %-8s %-17s %10.3f %10.1f %11.2f %8s\n", c.name.c_str(), device.c_str(),
                variant.c_str(), t.ms, gf, gs, chk.size() > 8 ? "FAIL" : chk.c_str());
    std::fflush(stdout);
    results.push_back(
        {{"name", variant == "gemm_only" || variant == "torch_mm_topk" ? variant : "topk_masked"},
         {"case", c.name},
         {"device", device},
         {"variant", variant},
         {"B", c.B},
         {"N", c.N},
         {"d", c.d},
         {"K", c.K},
         {"ms", t.ms},
         {"min_ms", t.min_ms},
         {"reps", t.reps},
         {"gflops", gf},
         {"gscores_per_s", gs},
         {"check", chk}});
    if (chk != "ok" && chk != "ref" && chk != "-") {
      failures.push_back(fmt::format("{} {} {}: {}", c.name, device, variant, chk));
    }
  };

  std::mt19937_64 g(20261130);
  for (const Case& c : cases) {
    if (!o.only.empty() && c.name.find(o.only) == std::string::npos) continue;
    Problem p;
    int64_t B = c.B, N = c.N;
    if (c.gowalla) {
      int64_t U = 0, I = 0;
      Csr full = gowalla_train(&U, &I);
      N = I;
      B = std::min<int64_t>(c.B, U);
      std::vector<int32_t> users(B);
      for (int64_t u = 0; u < B; ++u) users[u] = static_cast<int32_t>(u);
      gather_csr_rows(full, users, p.indptr, p.indices);
    } else {
      Csr m = random_mask(B, N, 30, g);
      p.indptr = Tensor::from_vector(m.indptr);
      p.indices = Tensor::from_vector(m.indices, {m.nnz()});
    }
    Case cc = c;
    cc.B = B;
    cc.N = N;
    p.Q = random_matrix(B, c.d, g);
    p.V = random_matrix(N, c.d, g);
    const int K = c.K;
    const int64_t check_rows = std::min<int64_t>(B, 128);

    // Reference rows: the CPU blocked kernel on the first check_rows users, itself checked
    // against the naive kernel on a few rows.
    Tensor qc = p.Q.rows(0, check_rows).clone();
    Tensor ptr_c = Tensor::from_vector(
        std::vector<int64_t>(p.indptr.data<int64_t>(), p.indptr.data<int64_t>() + check_rows + 1));
    Tensor ref_i = Tensor::empty({check_rows, K}, DType::kI32);
    Tensor ref_s = Tensor::empty({check_rows, K}, DType::kF32);
    topk_masked(qc, p.V, ptr_c, p.indices, K, ref_i, ref_s, TopKVariant::kCpuBlocked);
    const auto rids = ref_i.to_vector<int32_t>();
    const auto rsc = ref_s.to_vector<float>();
    {
      const int64_t nr = std::min<int64_t>(check_rows, 4);
      Tensor ni = Tensor::empty({nr, K}, DType::kI32), ns = Tensor::empty({nr, K}, DType::kF32);
      Tensor pn = Tensor::from_vector(
          std::vector<int64_t>(p.indptr.data<int64_t>(), p.indptr.data<int64_t>() + nr + 1));
      topk_masked(p.Q.rows(0, nr).clone(), p.V, pn, p.indices, K, ni, ns, TopKVariant::kCpuNaive);
      const std::string chk =
          check(rids, rsc, ni.to_vector<int32_t>(), ns.to_vector<float>(), nr, K, c.d);
      if (chk != "ok") failures.push_back(cc.name + " cpu_blocked vs naive: " + chk);
    }

    if (o.run_cpu) {
      const double madds = static_cast<double>(B) * N * c.d;
      if (madds > 2e11 && !o.full) {
        std::printf("%-26s %-8s %-17s %10s (skipped: > 2e11 multiply-adds; --full runs it)\n",
                    cc.name.c_str(), "cpu", "cpu_blocked", "-");
      } else if (K <= 1000) {
        Tensor ids = Tensor::empty({B, K}, DType::kI32), sc = Tensor::empty({B, K}, DType::kF32);
        const Timing t = time_it(
            [&] {
              return time_cpu_once([&] {
                topk_masked(p.Q, p.V, p.indptr, p.indices, K, ids, sc, TopKVariant::kCpuBlocked);
              });
            },
            o.quick ? 3 : o.reps);
        report(cc, "cpu", "cpu_blocked", t, "ref");
      }
    }
#ifdef GNNREC_WITH_CUDA
    if (gpu) {
      const Device dev = Device::cuda(0);
      DeviceContext& ctx = context_for(dev);
      Tensor q = p.Q.to(dev), v = p.V.to(dev), ip = p.indptr.to(dev), ix = p.indices.to(dev);
      Tensor ids = Tensor::empty({B, K}, DType::kI32, dev);
      Tensor sc = Tensor::empty({B, K}, DType::kF32, dev);
      for (TopKVariant var : {TopKVariant::kCudaFused, TopKVariant::kCudaGemmSelect}) {
        if (var == TopKVariant::kCudaFused && K > kTopKFusedMaxK) continue;
        // Check on the first rows (same inputs, computed as part of the full batch).
        topk_masked(q, v, ip, ix, K, ids, sc, var);
        const auto hi = ids.to_vector<int32_t>();
        const auto hs = sc.to_vector<float>();
        const std::string chk = check(std::vector<int32_t>(hi.begin(), hi.begin() + check_rows * K),
                                      std::vector<float>(hs.begin(), hs.begin() + check_rows * K),
                                      rids, rsc, check_rows, K, c.d);
        const Timing t = time_it(
            [&] {
              return time_cuda_once([&] { topk_masked(q, v, ip, ix, K, ids, sc, var); },
                                    ctx.stream);
            },
            o.quick ? 5 : o.reps * 2);
        report(cc, dev.str(), topk_variant_name(var), t, chk);
      }
      // The GEMM alone over the variant-4 tiles: the floor for any GEMM-then-select method.
      {
        const int64_t base_nc = std::min<int64_t>(N, 8192);
        const int64_t bc = std::max<int64_t>(1, std::min(B, kTopKGemmTileElems / base_nc));
        const int64_t nc = std::max<int64_t>(1, std::min(N, kTopKGemmTileElems / bc));
        Tensor tile = Tensor::empty({bc, nc}, DType::kF32, dev);
        const Timing t = time_it(
            [&] {
              return time_cuda_once(
                  [&] {
                    for (int64_t r0 = 0; r0 < B; r0 += bc) {
                      for (int64_t c0 = 0; c0 < N; c0 += nc) {
                        const int64_t rn = std::min(bc, B - r0), cn = std::min(nc, N - c0);
                        Tensor tv = tile.reshape({-1}).rows(0, rn * cn).reshape({rn, cn});
                        gemm(q.rows(r0, r0 + rn), false, v.rows(c0, c0 + cn), true, tv);
                      }
                    }
                  },
                  ctx.stream);
            },
            o.quick ? 5 : o.reps * 2);
        report(cc, dev.str(), "gemm_only", t, "-");
      }
    }
#endif
    if (!python.empty()) {
      for (const char* dev_name : {"cpu", "cuda"}) {
        const std::string dev = dev_name;
        if (dev == "cuda" && !gpu) continue;
        if (dev == "cpu" && (!o.run_cpu || (static_cast<double>(B) * N * c.d > 2e11 && !o.full))) {
          continue;
        }
        const std::string cmd =
            fmt::format("{} --json --B {} --N {} --d {} --K {} --device {} --reps {}", python, B, N,
                        c.d, K, dev, o.quick ? 3 : o.reps);
        FILE* f = popen(cmd.c_str(), "r");
        std::string out;
        char buf[4096];
        while (f && std::fgets(buf, sizeof(buf), f)) out += buf;
        if (f) pclose(f);
        try {
          const nlohmann::json j = nlohmann::json::parse(out.substr(out.find('{')));
          Timing t{j["ms"].get<double>(), j["min_ms"].get<double>(), j["reps"].get<int>()};
          report(cc, dev == "cuda" ? "cuda:0" : "cpu", "torch_mm_topk", t, "-");
        } catch (const std::exception& e) {
          std::printf("peer failed for %s on %s: %s\n", cc.name.c_str(), dev.c_str(),
                      out.substr(0, 200).c_str());
        }
      }
    }
  }

  nlohmann::json doc;
  doc["bench"] = "bench_topk";
  doc["quick"] = o.quick;
  doc["cpu"] = cpu_model();
  doc["build"] = build_info_json();
  doc["gpu"] = gpu ? nlohmann::json(list_devices()[0].name) : nlohmann::json(nullptr);
  doc["results"] = results;
  doc["failures"] = failures;
  for (const auto& f : failures) std::printf("FAILED: %s\n", f.get<std::string>().c_str());
  if (!o.json_path.empty()) {
    write_file_atomic(o.json_path, doc.dump(2) + "\n");
    std::printf("wrote %s\n", o.json_path.c_str());
  }
  return failures.empty() ? 0 : 1;
}

}  // namespace
}  // namespace gnnrec

int main(int argc, char** argv) {
  try {
    return gnnrec::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_topk: error: %s\n", e.what());
    return 1;
  }
}
