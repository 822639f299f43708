// Aggregation forward/backward throughput (GB/s of the bytes the op must move) on the CPU and
// the GPU, as a fraction of a stream-copy bandwidth measured in the same run on the same device,
// plus SAGE-layer and link-loss timings. Each device's ops are first checked against the CPU
// reference on a small block. Prints a table; --json PATH writes the results with the device
// name and commit (runtime/info.h).
//
//   bench_aggregate [--device cpu|cuda|all] [--n-dst N] [--n-src N] [--fanout F] [--dims 64,128]
//                   [--reps R] [--json PATH]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/aggregate.h"
#include "runtime/context.h"
#include "runtime/dispatch.h"
#include "runtime/info.h"
#include "runtime/npy.h"
#include "runtime/ops_nn.h"

using namespace gnnrec;

namespace {

struct HostBlock {
  int64_t n_dst, n_src;
  std::vector<int32_t> indptr, indices, t_indptr, t_indices;
};

// Fixed fanout, neighbours uniform over the src rows (the sampler's shape; random row reads).
HostBlock make_block(int64_t n_dst, int64_t n_src, int64_t fanout, uint64_t seed) {
  std::mt19937_64 g(seed);
  HostBlock b{n_dst, n_src, {}, {}, {}, {}};
  b.indptr.resize(n_dst + 1);
  b.indices.resize(n_dst * fanout);
  for (int64_t r = 0; r <= n_dst; ++r) b.indptr[r] = static_cast<int32_t>(r * fanout);
  for (auto& x : b.indices) x = static_cast<int32_t>(g() % n_src);
  b.t_indptr.assign(n_src + 1, 0);
  for (int32_t s : b.indices) ++b.t_indptr[s + 1];
  for (int64_t s = 0; s < n_src; ++s) b.t_indptr[s + 1] += b.t_indptr[s];
  b.t_indices.resize(b.indices.size());
  std::vector<int32_t> cur(b.t_indptr.begin(), b.t_indptr.end() - 1);
  for (int64_t r = 0; r < n_dst; ++r) {
    for (int32_t j = b.indptr[r]; j < b.indptr[r + 1]; ++j) b.t_indices[cur[b.indices[j]]++] = r;
  }
  return b;
}

struct DevBlock {
  Tensor indptr, indices, t_indptr, t_indices;
};
Tensor upload(const std::vector<int32_t>& v, Device d) {
  return Tensor::from_vector(v, {static_cast<int64_t>(v.size())}).to(d, detail::stream_of(d));
}
DevBlock to_device(const HostBlock& b, Device d) {
  return {upload(b.indptr, d), upload(b.indices, d), upload(b.t_indptr, d), upload(b.t_indices, d)};
}

Tensor random_tensor(const Shape& s, Device d, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  int64_t n = 1;
  for (int64_t x : s) n *= x;
  std::vector<float> v(n);
  for (auto& x : v) x = u(g);
  return Tensor::from_vector(v, s).to(d, detail::stream_of(d));
}

// Median time of `reps` runs after one warm-up, in ms (steady clock around a synchronised stream).
double time_ms(Device d, int reps, const std::function<void()>& fn) {
  const Stream st = detail::stream_of(d);
  fn();
  stream_synchronize(st);
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    stream_synchronize(st);
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// Stream copy: read N floats, write N floats (2 * 4N bytes). CPU: an OpenMP loop; GPU: a
// device-to-device cudaMemcpy on the context stream. Best of the repetitions.
double stream_copy_gbps(Device d, int reps) {
  const int64_t n = d.is_cpu() ? (int64_t{64} << 20) : (int64_t{512} << 20);  // 256 MiB / 2 GiB
  Tensor a = Tensor::zeros({n}, DType::kF32, d, detail::stream_of(d));
  Tensor b = Tensor::zeros({n}, DType::kF32, d, detail::stream_of(d));
  double best = 1e30;
  for (int i = 0; i < reps + 1; ++i) {
    const double ms = time_ms(d, 1, [&] {
      if (d.is_cpu()) {
        const float* x = a.data<float>();
        float* y = b.data<float>();
#pragma omp parallel for schedule(static)
        for (int64_t k = 0; k < n; ++k) y[k] = x[k];
      } else {
        b.copy_from(a, detail::stream_of(d));
      }
    });
    best = std::min(best, ms);
  }
  return 2.0 * 4.0 * static_cast<double>(n) / (best * 1e-3) / 1e9;
}

struct Row {
  std::string device, op, kind;
  int64_t d, n_dst, n_src, nnz;
  double ms, gbps, frac;
};

// Small-block check of this device's aggregation (all kinds, forward and backward) against the
// CPU reference loops; the benchmark refuses to report numbers for a wrong kernel.
bool check_device(Device dev) {
  const HostBlock hb = make_block(300, 500, 7, 1);
  for (int64_t d : {64, 100}) {
    for (AggKind kind : {AggKind::kMean, AggKind::kMax, AggKind::kSum}) {
      DevBlock b = to_device(hb, dev);
      Tensor src = random_tensor({hb.n_src, d}, dev, 2), g = random_tensor({hb.n_dst, d}, dev, 3);
      Tensor out = Tensor::empty({hb.n_dst, d}, DType::kF32, dev, detail::stream_of(dev));
      Tensor am = Tensor::empty({hb.n_dst, d}, DType::kI32, dev, detail::stream_of(dev));
      Tensor ds = Tensor::empty({hb.n_src, d}, DType::kF32, dev, detail::stream_of(dev));
      aggregate_forward(kind, b.indptr, b.indices, src, out, 0, &am);
      aggregate_backward(kind, b.indptr, b.t_indptr, b.t_indices, g, 0, &am, ds, false);
      const auto host = [&](const Tensor& t) {
        return t.to(Device::cpu(), detail::stream_of(dev));
      };
      Tensor hs = host(src), hg = host(g), ho = host(out), ha = host(am), hd = host(ds);
      std::vector<float> ro(hb.n_dst * d), rd(hb.n_src * d);
      std::vector<int32_t> ra(hb.n_dst * d);
      aggregate_forward_naive_cpu(kind, hb.n_dst, d, hb.indptr.data(), hb.indices.data(),
                                  hs.data<float>(), d, ro.data(), d, ra.data());
      aggregate_backward_naive_cpu(kind, hb.n_dst, hb.n_src, d, hb.indptr.data(), hb.indices.data(),
                                   hg.data<float>(), d, ra.data(), rd.data(), d, false);
      double err = 0;
      for (size_t i = 0; i < ro.size(); ++i)
        err = std::max(err, double(std::fabs(ro[i] - ho.data<float>()[i])));
      for (size_t i = 0; i < rd.size(); ++i)
        err = std::max(err, double(std::fabs(rd[i] - hd.data<float>()[i])));
      const bool arg_ok =
          kind != AggKind::kMax || std::equal(ra.begin(), ra.end(), ha.data<int32_t>());
      if (err > 1e-4 || !arg_ok) {
        std::fprintf(stderr, "check failed on %s: %s d=%lld max error %g argmax %s\n",
                     dev.str().c_str(), agg_kind_name(kind), static_cast<long long>(d), err,
                     arg_ok ? "ok" : "differs");
        return false;
      }
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Aggregation / SAGE layer / link loss benchmark"};
  std::string device = "all", json_path;
  int64_t n_dst = 100000, n_src = 400000, fanout = 10;
  std::vector<int64_t> dims = {64, 128};
  int reps = 5;
  app.add_option("--device", device, "cpu, cuda or all (every available)");
  app.add_option("--n-dst", n_dst, "dst rows of the block");
  app.add_option("--n-src", n_src, "src rows of the block");
  app.add_option("--fanout", fanout, "neighbours per dst row");
  app.add_option("--dims", dims, "feature widths")->delimiter(',');
  app.add_option("--reps", reps, "timed repetitions (median reported)");
  app.add_option("--json", json_path, "write the results as JSON here");
  CLI11_PARSE(app, argc, argv);

  try {
    std::vector<Device> devices;
    if (device == "cpu" || device == "all") devices.push_back(Device::cpu());
    if ((device == "cuda" || device == "all") && cuda_device_count() > 0) {
      devices.push_back(Device::cuda(0));
    }
    GNNREC_EXPECTS(!devices.empty(), "--device {}: no such device available", device);
    const HostBlock hb = make_block(n_dst, n_src, fanout, 42);
    const int64_t nnz = static_cast<int64_t>(hb.indices.size());
    std::vector<Row> rows;
    nlohmann::json jdev = nlohmann::json::array();
    for (Device dev : devices) {
      const std::string dev_name = dev.is_cpu() ? "cpu" : list_devices().at(dev.index).name;
      if (!check_device(dev)) return 1;
      const double bw = stream_copy_gbps(dev, reps);
      jdev.push_back({{"device", dev.str()}, {"name", dev_name}, {"stream_copy_gbps", bw}});
      std::printf("%s (%s): stream copy %.1f GB/s\n", dev.str().c_str(), dev_name.c_str(), bw);
      const Stream st = detail::stream_of(dev);
      DevBlock b = to_device(hb, dev);
      for (int64_t d : dims) {
        Tensor src = random_tensor({n_src, d}, dev, 5);
        Tensor out = Tensor::empty({n_dst, d}, DType::kF32, dev, st);
        Tensor am = Tensor::empty({n_dst, d}, DType::kI32, dev, st);
        Tensor g = random_tensor({n_dst, d}, dev, 6);
        Tensor ds = Tensor::empty({n_src, d}, DType::kF32, dev, st);
        for (AggKind kind : {AggKind::kMean, AggKind::kMax, AggKind::kSum}) {
          const double row = 4.0 * d;
          // Bytes the op must move: gathered rows + indices + output (+ argmax for max).
          double fwd_bytes = nnz * (row + 4) + n_dst * (row + 4);
          double bwd_bytes = nnz * (row + 4) + n_src * (row + 4);
          if (kind == AggKind::kMax) {
            fwd_bytes += n_dst * row;  // argmax written
            bwd_bytes += nnz * row;    // argmax read per (dst, src) pair
          }
          if (kind == AggKind::kMean) bwd_bytes += nnz * 8.0;  // indptr for 1/deg
          const double fms = time_ms(
              dev, reps, [&] { aggregate_forward(kind, b.indptr, b.indices, src, out, 0, &am); });
          const double bms = time_ms(dev, reps, [&] {
            aggregate_backward(kind, b.indptr, b.t_indptr, b.t_indices, g, 0, &am, ds, false);
          });
          const double fg = fwd_bytes / (fms * 1e-3) / 1e9, bg = bwd_bytes / (bms * 1e-3) / 1e9;
          rows.push_back({dev.str(), "aggregate_forward", agg_kind_name(kind), d, n_dst, n_src, nnz,
                          fms, fg, fg / bw});
          rows.push_back({dev.str(), "aggregate_backward", agg_kind_name(kind), d, n_dst, n_src,
                          nnz, bms, bg, bg / bw});
        }
        // SAGE layer (mean, ReLU, d_in = d_out = d) forward and backward.
        {
          Tensor W = random_tensor({2 * d, d}, dev, 7), bias = random_tensor({d}, dev, 8);
          Tensor o = Tensor::empty({n_dst, d}, DType::kF32, dev, st);
          Tensor dW = Tensor::empty({2 * d, d}, DType::kF32, dev, st);
          Tensor db = Tensor::empty({d}, DType::kF32, dev, st);
          SageCache cache;
          const double fms = time_ms(dev, reps, [&] {
            sage_layer_forward(AggKind::kMean, b.indptr, b.indices, src, W, bias, true, o, cache);
          });
          const double bms = time_ms(dev, reps, [&] {
            sage_layer_backward(AggKind::kMean, b.indptr, b.t_indptr, b.t_indices, W, cache, g,
                                true, dW, db, ds);
          });
          rows.push_back(
              {dev.str(), "sage_layer_forward", "mean+relu", d, n_dst, n_src, nnz, fms, 0, 0});
          rows.push_back(
              {dev.str(), "sage_layer_backward", "mean+relu", d, n_dst, n_src, nnz, bms, 0, 0});
        }
        // BPR link loss over a batch of 1024 users x (1 + 10) pairs on the dst embeddings.
        {
          const int64_t B = std::min<int64_t>(1024, n_dst), k = 10;
          std::mt19937_64 rg(9);
          std::vector<int32_t> u(B), p(B), ng(B * k);
          for (auto* v : {&u, &p, &ng})
            for (auto& x : *v) x = static_cast<int32_t>(rg() % n_dst);
          Tensor tu = upload(u, dev), tp = upload(p, dev), tn = upload(ng, dev).reshape({B, k});
          Tensor dZ = Tensor::empty({n_dst, d}, DType::kF32, dev, st);
          Tensor loss = Tensor::zeros({1}, DType::kF32, dev, st);
          const double ms = time_ms(
              dev, reps, [&] { link_loss(LossKind::kBpr, out, tu, tp, tn, 1.0f, dZ, loss); });
          rows.push_back(
              {dev.str(), "link_loss", "bpr B=1024 k=10", d, n_dst, 0, B * (1 + k), ms, 0, 0});
        }
      }
    }
    std::printf("\n%-8s %-20s %-16s %5s %9s %9s %10s %9s %8s\n", "device", "op", "kind", "d",
                "n_dst", "nnz", "ms", "GB/s", "of copy");
    nlohmann::json jrows = nlohmann::json::array();
    for (const Row& r : rows) {
      std::printf("%-8s %-20s %-16s %5lld %9lld %9lld %10.3f", r.device.c_str(), r.op.c_str(),
                  r.kind.c_str(), static_cast<long long>(r.d), static_cast<long long>(r.n_dst),
                  static_cast<long long>(r.nnz), r.ms);
      if (r.gbps > 0) {
        std::printf(" %9.1f %7.0f%%\n", r.gbps, 100 * r.frac);
      } else {
        std::printf(" %9s %8s\n", "-", "-");
      }
      jrows.push_back({{"device", r.device},
                       {"op", r.op},
                       {"kind", r.kind},
                       {"d", r.d},
                       {"n_dst", r.n_dst},
                       {"n_src", r.n_src},
                       {"nnz", r.nnz},
                       {"ms", r.ms},
                       {"gbps", r.gbps},
                       {"fraction_of_stream_copy", r.frac}});
    }
    if (!json_path.empty()) {
      nlohmann::json j;
      j["bench"] = "aggregate";
      j["build"] = build_info_json();
      j["devices"] = jdev;
      j["config"] = {{"n_dst", n_dst}, {"n_src", n_src}, {"fanout", fanout}, {"reps", reps}};
      j["results"] = jrows;
      write_file_atomic(json_path, j.dump(2) + "\n");
      std::printf("wrote %s\n", json_path.c_str());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_aggregate: %s\n", e.what());
    return 1;
  }
  return 0;
}
