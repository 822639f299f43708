"""PyTorch peer for bench_topk: masked top-K as users would write it in PyTorch,
`scores = Q @ V.T; scores.masked_fill_(mask, -inf); scores.topk(K)`, over user chunks so the
dense score block stays under 2^28 floats (1 GiB). The mask is built like bench_topk's: 30
random items per user (a dense boolean block per chunk, scattered from index lists).

    python3 bench/peers/topk_torch.py --json --B 1024 --N 40000 --d 64 --K 20 --device cuda

Prints one JSON object: {"peer": "torch", "ms", "min_ms", "reps", "device", "torch"}.
fp32 throughout (TF32 matmul disabled, like gnnrec's exact top-K path).
"""

import argparse
import json
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--B", type=int, required=True)
    ap.add_argument("--N", type=int, required=True)
    ap.add_argument("--d", type=int, required=True)
    ap.add_argument("--K", type=int, default=20)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    dev = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    g = torch.Generator(device="cpu").manual_seed(7)
    Q = (torch.rand(a.B, a.d, generator=g) * 2 - 1).to(dev)
    V = (torch.rand(a.N, a.d, generator=g) * 2 - 1).to(dev)
    excl = torch.randint(0, a.N, (a.B, 30), generator=g).to(dev)
    chunk = max(1, min(a.B, (1 << 28) // max(a.N, 1)))

    def run():
        out_s, out_i = [], []
        for b0 in range(0, a.B, chunk):
            b1 = min(a.B, b0 + chunk)
            s = Q[b0:b1] @ V.T
            s.scatter_(1, excl[b0:b1], float("-inf"))  # masked_fill by index lists
            v, i = s.topk(min(a.K, a.N), dim=1)
            out_s.append(v)
            out_i.append(i)
        return torch.cat(out_s), torch.cat(out_i)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    run()
    sync()
    times = []
    budget = 2.0
    spent = 0.0
    while len(times) < max(a.reps, 3) and (spent < budget or len(times) < 3):
        t0 = time.perf_counter()
        run()
        sync()
        dt = time.perf_counter() - t0
        times.append(dt * 1e3)
        spent += dt
    times.sort()
    print(json.dumps({"peer": "torch", "ms": times[len(times) // 2], "min_ms": times[0],
                      "reps": len(times), "device": str(dev), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
