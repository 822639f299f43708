// bench_ops: the core dense ops on each device.
//   - measured memory bandwidth (parallel memcpy on the CPU, D2D cudaMemcpy on the GPU): the
//     denominator of "%BW" for the memory-bound ops below
//   - GEMM GFLOP/s for the model's shapes (m x n x k: a batch of 8192 or 65536 nodes times a
//     64/128-wide layer, plus 1024^3 as a compute-bound reference), every epilogue, and on the
//     GPU with TF32 tensor cores off and on
//   - axpy, relu, L2-normalise forward/backward and column sums in GB/s and as a fraction of
//     the measured bandwidth (all of them are memory bound: under 1 flop per byte)
// Before timing, each GPU op is checked against the CPU op on the same inputs, and each CPU GEMM
// against the naive double-precision reference on its first rows. A failed check is reported and
// makes the program exit 1. Usage: bench_ops [--json PATH] [--quick] [--reps N] [--device D]
#include <cmath>

#include "bench/bench_common.h"
#include "kernels/gemm.h"
#include "runtime/ops.h"

namespace gnnrec::bench {
namespace {

// GEMM error budgets (normalised squared error, as in tests/test_backend_ops.cpp): f32 results
// differ from each other only by summation order (~1e-14 for k <= 1024); TF32 keeps 10 mantissa
// bits, so each product is off by ~2^-11 relative, giving an NSE near 1e-7; 1e-5 leaves margin
// while any indexing or epilogue bug gives ~1.
constexpr double kGemmNseF32 = 1e-10;
constexpr double kGemmNseTf32 = 1e-5;
// Elementwise ops: same arithmetic on both backends up to a few ulps (rsqrt / FMA differences).
constexpr double kEltAtol = 1e-5, kEltRtol = 1e-4;
// Rows of each GEMM checked against the naive reference (rows of C are independent).
constexpr int64_t kNaiveRows = 48;

const char* epilogue_name(Epilogue e) {
  switch (e) {
    case Epilogue::kNone:
      return "none";
    case Epilogue::kBias:
      return "bias";
    case Epilogue::kRelu:
      return "relu";
    case Epilogue::kBiasRelu:
      return "bias_relu";
  }
  return "?";
}

double nse(const std::vector<float>& got, const std::vector<float>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double d = static_cast<double>(got[i]) - ref[i];
    num += d * d;
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return num / std::max(den, 1e-30);
}

// Largest violation of |got - ref| <= atol + rtol |ref|, as a multiple of the tolerance (<= 1 ok).
double worst_ratio(const std::vector<float>& got, const std::vector<float>& ref) {
  if (got.size() != ref.size()) return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - ref[i]);
    if (std::isnan(d)) return INFINITY;
    worst = std::max(worst, d / (kEltAtol + kEltRtol * std::fabs(ref[i])));
  }
  return worst;
}

Tensor random_host(const Shape& shape, uint64_t seed) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& x : v) {  // xorshift64*: cheap, deterministic, good enough for benchmark inputs
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    x = static_cast<float>((s * 0x2545F4914F6CDD1Dull) >> 40) / 16777216.0f * 2.0f - 1.0f;
  }
  return Tensor::from_vector(v, shape);
}

struct Ctx {
  Options opt;
  Report& rep;
  Table& table;
  std::vector<Device> devices;
  int reps(Device d) const {
    return opt.reps ? opt.reps : (d.is_cpu() ? (opt.quick ? 3 : 10) : (opt.quick ? 10 : 50));
  }
  Timing time(Device d, const std::function<void()>& f) const {
#ifdef GNNREC_WITH_CUDA
    if (d.is_cuda()) return time_cuda(f, context_for(d).stream, 3, reps(d));
#endif
    return time_cpu(f, 1, reps(d));
  }
};

void bench_bandwidth(Ctx& c) {
  for (Device d : c.devices) {
    double gbs = -1;
    if (d.is_cpu())
      gbs = measure_cpu_bandwidth_gbs(c.opt.quick ? size_t{64} << 20 : size_t{256} << 20);
#ifdef GNNREC_WITH_CUDA
    if (d.is_cuda())
      gbs = measure_cuda_bandwidth_gbs(d, c.opt.quick ? size_t{256} << 20 : size_t{1} << 30);
#endif
    c.rep.set_bandwidth(d.str(), gbs);
    c.rep.add({{"name", "copy"}, {"device", d.str()}, {"gbs", gbs}});
    c.table.add({"copy (measured BW)", d.str(), d.is_cpu() ? "memcpy" : "cudaMemcpy D2D", "", "",
                 "", num(gbs, 1), "100%", "-"});
  }
}

void bench_gemm(Ctx& c) {
  struct S {
    int64_t m, n, k;
  };
  std::vector<S> shapes = {{8192, 128, 64}, {65536, 128, 64}, {65536, 64, 128}, {1024, 1024, 1024}};
  if (c.opt.quick) shapes = {{8192, 128, 64}, {1024, 1024, 1024}};
  for (const S& s : shapes) {
    const std::string shape = fmt::format("{}x{}x{}", s.m, s.n, s.k);
    const Tensor A = random_host({s.m, s.k}, 1), B = random_host({s.k, s.n}, 2);
    const Tensor C0 = random_host({s.m, s.n}, 3), bias = random_host({s.n}, 4);
    const double flop = 2.0 * s.m * s.n * s.k;
    for (Epilogue ep : {Epilogue::kNone, Epilogue::kBias, Epilogue::kRelu, Epilogue::kBiasRelu}) {
      // The CPU result is the reference for the GPU; its first rows are checked against the
      // naive double-precision loop.
      Tensor ref = C0.clone();
      gemm(A, false, B, false, ref, 1.0f, 0.0f, &bias, ep);
      const std::vector<float> ref_v = ref.to_vector<float>();
      {
        const int64_t r = std::min(s.m, kNaiveRows);
        Tensor naive = Tensor::zeros({r, s.n}, DType::kF32);
        GemmShape g{false, false, r, s.n, s.k, s.k, s.n, s.n};
        gemm_naive_cpu(g, 1.0f, A.data<float>(), B.data<float>(), 0.0f, naive.data<float>(),
                       bias.data<float>(), ep);
        const std::vector<float> head(ref_v.begin(), ref_v.begin() + r * s.n);
        const double e = nse(head, naive.to_vector<float>());
        if (!(e <= kGemmNseF32)) {
          c.rep.fail(fmt::format("gemm {} {} cpu vs naive: nse {:.3g} > {:.3g}", shape,
                                 epilogue_name(ep), e, kGemmNseF32));
        }
      }
      for (Device d : c.devices) {
        const std::vector<bool> tf32s =
            d.is_cpu() ? std::vector<bool>{false} : std::vector<bool>{false, true};
        for (bool tf32 : tf32s) {
          const Tensor a = A.to(d), b = B.to(d), bb = bias.to(d);
          Tensor cc = C0.to(d);
          DeviceContext& ctx = context_for(d);
          const bool saved = ctx.allow_tf32;
          ctx.allow_tf32 = tf32;
          std::string check = "ref";
          double err = 0;
          if (d.is_cuda()) {
            gemm(a, false, b, false, cc, 1.0f, 0.0f, &bb, ep);
            // The copy back runs on the default stream, which does not wait for the context's
            // non-blocking stream: finish the GEMM first.
            sync(d);
            err = nse(cc.to_vector<float>(), ref_v);
            const double budget = tf32 ? kGemmNseTf32 : kGemmNseF32;
            check = err <= budget ? "ok" : "FAILED";
            if (!(err <= budget)) {
              c.rep.fail(fmt::format("gemm {} {} {} tf32={}: nse {:.3g} > {:.3g}", shape,
                                     epilogue_name(ep), d.str(), tf32, err, budget));
            }
          }
          const Timing t = c.time(d, [&] { gemm(a, false, b, false, cc, 1.0f, 0.0f, &bb, ep); });
          ctx.allow_tf32 = saved;
          const double gflops = flop / (t.median_ms * 1e6);
          const std::string variant =
              std::string(epilogue_name(ep)) + (d.is_cuda() ? (tf32 ? " tf32" : " f32") : "");
          c.rep.add({{"name", "gemm"},
                     {"device", d.str()},
                     {"shape", shape},
                     {"m", s.m},
                     {"n", s.n},
                     {"k", s.k},
                     {"epilogue", epilogue_name(ep)},
                     {"tf32", tf32},
                     {"ms", t.median_ms},
                     {"min_ms", t.min_ms},
                     {"reps", t.reps},
                     {"gflops", gflops},
                     {"check", check},
                     {"nse", err}});
          c.table.add({"gemm", d.str(), shape, variant, num(t.median_ms, 3), num(gflops, 1), "-",
                       "-", check});
        }
      }
    }
  }
}

// One memory-bound op: `make(device)` builds inputs there and returns {run, output}; `bytes` is
// the minimum traffic (each input read once, each output written once).
struct MemOp {
  std::string name, shape;
  double bytes;
  std::function<std::pair<std::function<void()>, std::function<std::vector<float>()>>(Device)> make;
};

void bench_memory_ops(Ctx& c) {
  const int64_t n =
      c.opt.quick ? (int64_t{1} << 21) : (int64_t{1} << 24);  // 8 / 64 MiB per f32 array
  std::vector<MemOp> ops;
  const Tensor x = random_host({n}, 11), y = random_host({n}, 12), g = random_host({n}, 13);
  ops.push_back({"axpy", std::to_string(n), 12.0 * n, [=](Device d) {
                   auto xs = std::make_shared<Tensor>(x.to(d));
                   auto ys = std::make_shared<Tensor>(y.to(d));
                   return std::make_pair(
                       std::function<void()>([=] { axpy(0.5f, *xs, *ys); }),
                       std::function<std::vector<float>()>([=] { return ys->to_vector<float>(); }));
                 }});
  ops.push_back({"relu_forward", std::to_string(n), 8.0 * n, [=](Device d) {
                   auto xs = std::make_shared<Tensor>(x.to(d));
                   auto ys = std::make_shared<Tensor>(Tensor::empty({n}, DType::kF32, d));
                   return std::make_pair(
                       std::function<void()>([=] { relu_forward(*xs, *ys); }),
                       std::function<std::vector<float>()>([=] { return ys->to_vector<float>(); }));
                 }});
  for (int64_t dim : {64, 128, 100}) {
    const int64_t rows = n / dim;
    const std::string shape = fmt::format("{}x{}", rows, dim);
    const Tensor xr = x.rows(0, rows * dim).reshape({rows, dim});
    const Tensor gr = g.rows(0, rows * dim).reshape({rows, dim});
    ops.push_back({"l2_normalize_forward", shape, 8.0 * rows * dim + 4.0 * rows, [=](Device d) {
                     auto xs = std::make_shared<Tensor>(xr.to(d));
                     auto ys = std::make_shared<Tensor>(Tensor::empty({rows, dim}, DType::kF32, d));
                     auto ns = std::make_shared<Tensor>(Tensor::empty({rows}, DType::kF32, d));
                     return std::make_pair(
                         std::function<void()>([=] { l2_normalize_forward(*xs, *ys, *ns); }),
                         std::function<std::vector<float>()>([=] {
                           auto v = ys->to_vector<float>();
                           auto w = ns->to_vector<float>();
                           v.insert(v.end(), w.begin(), w.end());
                           return v;
                         }));
                   }});
    ops.push_back(
        {"l2_normalize_backward", shape, 12.0 * rows * dim + 4.0 * rows, [=](Device d) {
           auto ys = std::make_shared<Tensor>(Tensor::empty({rows, dim}, DType::kF32, d));
           auto ns = std::make_shared<Tensor>(Tensor::empty({rows}, DType::kF32, d));
           auto gs = std::make_shared<Tensor>(gr.to(d));
           auto dx = std::make_shared<Tensor>(Tensor::empty({rows, dim}, DType::kF32, d));
           Tensor xs = xr.to(d);
           l2_normalize_forward(xs, *ys, *ns);
           sync(d);  // xs is freed (stream-ordered, on another stream) when this returns
           return std::make_pair(
               std::function<void()>([=] { l2_normalize_backward(*ys, *ns, *gs, *dx); }),
               std::function<std::vector<float>()>([=] { return dx->to_vector<float>(); }));
         }});
    if (dim != 100) {
      ops.push_back({"column_sum", shape, 4.0 * rows * dim + 4.0 * dim, [=](Device d) {
                       auto xs = std::make_shared<Tensor>(xr.to(d));
                       auto out = std::make_shared<Tensor>(Tensor::empty({dim}, DType::kF32, d));
                       return std::make_pair(std::function<void()>([=] { column_sum(*xs, *out); }),
                                             std::function<std::vector<float>()>(
                                                 [=] { return out->to_vector<float>(); }));
                     }});
    }
  }

  for (const MemOp& op : ops) {
    std::vector<float> ref;
    for (Device d : c.devices) {
      auto [run, output] = op.make(d);
      // Inputs were allocated on the default stream; the ops run on the context stream.
      if (d.is_cuda()) stream_synchronize(nullptr);
      run();
      sync(d);
      std::string check = "ref";
      double worst = 0;
      if (d.is_cpu()) {
        ref = output();
      } else if (!ref.empty()) {
        // column_sum adds up to 2^24 / 64 values in a different order: scale the tolerance.
        std::vector<float> got = output();
        worst = worst_ratio(got, ref);
        const double allowed = op.name == "column_sum" ? 100.0 : 1.0;
        check = worst <= allowed ? "ok" : "FAILED";
        if (!(worst <= allowed)) {
          c.rep.fail(
              fmt::format("{} {} {}: {:.3g}x the tolerance", op.name, op.shape, d.str(), worst));
        }
      } else {
        check = "unchecked";  // --device cuda: no CPU reference was computed
      }
      const Timing t = c.time(d, run);
      const double gbs = op.bytes / (t.median_ms * 1e6);
      const double bw = c.rep.bandwidth(d.str());
      const double frac = bw > 0 ? gbs / bw : -1;
      c.rep.add({{"name", op.name},
                 {"device", d.str()},
                 {"shape", op.shape},
                 {"bytes", op.bytes},
                 {"ms", t.median_ms},
                 {"min_ms", t.min_ms},
                 {"reps", t.reps},
                 {"gbs", gbs},
                 {"frac_bw", frac},
                 {"check", check},
                 {"tol_ratio", worst}});
      c.table.add({op.name, d.str(), op.shape, "", num(t.median_ms, 3), "-", num(gbs, 1),
                   frac >= 0 ? num(100 * frac, 0) + "%" : "-", check});
    }
  }
}

}  // namespace
}  // namespace gnnrec::bench

int main(int argc, char** argv) {
  using namespace gnnrec;
  using namespace gnnrec::bench;
  return run_main([&] {
    const Options opt = parse_options(
        argc, argv, "bench_ops: GEMM GFLOP/s, elementwise GB/s and measured memory bandwidth");
    Report rep("bench_ops", opt);
    Table table({"op", "device", "shape", "variant", "ms", "GFLOP/s", "GB/s", "%BW", "check"}, 4);
    Ctx c{opt, rep, table, {}};
    if (opt.run_cpu) c.devices.push_back(Device::cpu());
    if (opt.cuda_ok()) {
      c.devices.push_back(Device::cuda(0));
    } else if (opt.run_cuda) {
      std::printf("bench_ops: %s: GPU rows skipped\n",
                  cuda_compiled() ? "no GPU visible" : "built without CUDA");
    }
    std::printf("bench_ops on %s%s\n", cpu_model().c_str(),
                opt.cuda_ok() ? (" + " + list_devices().at(0).name).c_str() : "");
    bench_bandwidth(c);
    bench_gemm(c);
    bench_memory_ops(c);
    table.print();
    return rep.finish();
  });
}
