#!/usr/bin/env python3
"""Peer of bench_ops: the same GEMM and memory-bound ops in PyTorch, same shapes, same JSON rows.

usage: torch_ops.py [--json PATH] [--quick] [--reps N] [--device cpu|cuda|all]

GEMM m x n x k with each epilogue (none: a @ b, bias: addmm, relu / bias_relu: then relu), on the
GPU with TF32 off and on; axpy (y.add_(x, alpha)), relu, L2 normalise (F.normalize), column sums.
GPU times come from CUDA events around each repetition (median of N after warm-up), CPU times
from perf_counter. Rows carry the keys bench_ops writes (name, device, shape, epilogue, tf32, ms,
min_ms, reps, gflops, gbs, frac_bw), so results can be joined on (name, device, shape, variant).
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def parse():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", help="write results here")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer repetitions")
    ap.add_argument("--reps", type=int, default=0)
    ap.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    return ap.parse_args()


def timed(fn, dev, warmup, reps, budget_s=2.0):
    """Median, min (ms) and count of timed repetitions of fn on dev."""
    for _ in range(warmup):
        fn()
    ms = []
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        for _ in range(reps):
            a.record()
            fn()
            b.record()
            b.synchronize()
            ms.append(a.elapsed_time(b))
            if len(ms) >= 3 and sum(ms) > budget_s * 1e3:
                break
    else:
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            ms.append((time.perf_counter() - t0) * 1e3)
            if len(ms) >= 3 and sum(ms) > budget_s * 1e3:
                break
    return statistics.median(ms), min(ms), len(ms)


def bandwidth_gbs(dev, nbytes):
    """Copy bandwidth (read + write) of a nbytes tensor copy: the %BW denominator."""
    src = torch.empty(nbytes, dtype=torch.uint8, device=dev)
    dst = torch.empty_like(src)
    _, best, _ = timed(lambda: dst.copy_(src), dev, 2, 10, budget_s=10.0)
    return 2.0 * nbytes / (best * 1e6)


def main():
    a = parse()
    devices = []
    if a.device in ("cpu", "all"):
        devices.append(torch.device("cpu"))
    if a.device in ("cuda", "all"):
        if torch.cuda.is_available():
            devices.append(torch.device("cuda", 0))
        else:
            print("torch_ops: no GPU visible to torch: GPU rows skipped")
    gen = torch.Generator().manual_seed(20261130)

    def rand(*shape):
        return torch.rand(*shape, generator=gen) * 2 - 1

    rows, bw = [], {}
    for dev in devices:
        name = f"cuda:{dev.index}" if dev.type == "cuda" else "cpu"
        size = (64 << 20 if a.quick else 256 << 20) if dev.type == "cpu" else (
            256 << 20 if a.quick else 1 << 30)
        bw[name] = bandwidth_gbs(dev, size)
        rows.append({"name": "copy", "device": name, "gbs": bw[name]})

    shapes = [(8192, 128, 64), (65536, 128, 64), (65536, 64, 128), (1024, 1024, 1024)]
    if a.quick:
        shapes = [(8192, 128, 64), (1024, 1024, 1024)]
    for m, n, k in shapes:
        A, B, bias = rand(m, k), rand(k, n), rand(n)
        for dev in devices:
            name = f"cuda:{dev.index}" if dev.type == "cuda" else "cpu"
            reps = a.reps or ((3 if a.quick else 10) if dev.type == "cpu" else
                              (10 if a.quick else 50))
            a_d, b_d, bias_d = A.to(dev), B.to(dev), bias.to(dev)
            for tf32 in ([False, True] if dev.type == "cuda" else [False]):
                if dev.type == "cuda":
                    torch.backends.cuda.matmul.allow_tf32 = tf32
                fns = {
                    "none": lambda: a_d @ b_d,
                    "bias": lambda: torch.addmm(bias_d, a_d, b_d),
                    "relu": lambda: torch.relu(a_d @ b_d),
                    "bias_relu": lambda: torch.relu(torch.addmm(bias_d, a_d, b_d)),
                }
                for ep, fn in fns.items():
                    med, lo, cnt = timed(fn, dev, 3 if dev.type == "cuda" else 1, reps)
                    gflops = 2.0 * m * n * k / (med * 1e6)
                    rows.append({"name": "gemm", "device": name, "shape": f"{m}x{n}x{k}",
                                 "m": m, "n": n, "k": k, "epilogue": ep, "tf32": tf32,
                                 "ms": med, "min_ms": lo, "reps": cnt, "gflops": gflops})
                    print(f"gemm {name} {m}x{n}x{k} {ep}{' tf32' if tf32 else ''}: "
                          f"{med:.3f} ms {gflops:.1f} GFLOP/s")
            if dev.type == "cuda":
                torch.backends.cuda.matmul.allow_tf32 = False

    count = (1 << 21) if a.quick else (1 << 24)
    x, y = rand(count), rand(count)
    for dev in devices:
        name = f"cuda:{dev.index}" if dev.type == "cuda" else "cpu"
        reps = a.reps or ((3 if a.quick else 10) if dev.type == "cpu" else (10 if a.quick else 50))
        xd, yd = x.to(dev), y.to(dev)
        out = torch.empty_like(xd)
        ops = [("axpy", str(count), 12.0 * count, lambda: yd.add_(xd, alpha=0.5)),
               ("relu_forward", str(count), 8.0 * count, lambda: torch.clamp(xd, min=0, out=out))]
        for d in (64, 128, 100):
            r = count // d
            xr = xd[: r * d].view(r, d)
            ops.append(("l2_normalize_forward", f"{r}x{d}", 8.0 * r * d + 4.0 * r,
                        lambda xr=xr: F.normalize(xr, dim=1, eps=1e-12)))
            if d != 100:
                ops.append(("column_sum", f"{r}x{d}", 4.0 * r * d + 4.0 * d,
                            lambda xr=xr: xr.sum(dim=0)))
        for op, shape, nbytes, fn in ops:
            med, lo, cnt = timed(fn, dev, 3 if dev.type == "cuda" else 1, reps)
            gbs = nbytes / (med * 1e6)
            rows.append({"name": op, "device": name, "shape": shape, "bytes": nbytes, "ms": med,
                         "min_ms": lo, "reps": cnt, "gbs": gbs,
                         "frac_bw": gbs / bw[name] if bw.get(name) else -1})
            print(f"{op} {name} {shape}: {med:.3f} ms {gbs:.1f} GB/s")

    result = {
        "bench": "torch_ops", "peer_of": "bench_ops",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": platform.node(), "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "cpu_threads": torch.get_num_threads(), "quick": a.quick,
        "bandwidth_gbs": bw, "results": rows,
    }
    if a.json:
        tmp = f"{a.json}.tmp.{os.getpid()}"
        with open(tmp, "w") as f:
            json.dump(result, f, indent=2)
        os.replace(tmp, a.json)
        print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
