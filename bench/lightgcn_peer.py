#!/usr/bin/env python3
"""Peer of `gnnrec train --set model=lightgcn`: the same LightGCN training step in PyTorch (and
PyG's LGConv when torch_geometric imports), on the same prepared dataset, to time an epoch side
by side with our engine.

usage: lightgcn_peer.py --dataset DIR [--json PATH] [--device cuda|cpu] [--epochs N]
                        [--batch-size B] [--layers L] [--dim D] [--impl torch|pyg|all]

The step, as in runtime/model.cpp LightGcnModel and the LightGCN paper: E_{l+1} = A_hat E_l with
A_hat = D^-1/2 A D^-1/2 of the training graph (users then items), output = mean of E_0..E_L;
a batch of B training edges (u, i) with one uniform negative j per edge (not re-drawn when it is a
positive: our engine rejects positives, which costs it, not the peer); loss =
mean softplus(s_uj - s_ui) + decay * (|e_u|^2 + |e_i|^2 + |e_j|^2) / (2B) on the layer-0 rows;
dense Adam over the whole table (the propagation makes the gradient dense). Epoch = ceil(E / B)
steps; its time is measured after a warm-up epoch, with the device synchronised. The
implementations: "torch" multiplies by a CSR sparse tensor (torch.sparse.mm; COO when this
torch cannot differentiate through CSR), "pyg" uses
torch_geometric.nn.LGConv on edge_index (normalisation recomputed per call, as PyG's LightGCN
model does). Writes one JSON object with a row per implementation.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def parse():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", required=True, help="a `gnnrec prepare` output folder")
    ap.add_argument("--json", help="write results here")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs (after one warm-up)")
    ap.add_argument("--batch-size", type=int, default=16384)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--decay", type=float, default=1e-4)
    ap.add_argument("--impl", choices=["torch", "pyg", "all"], default="all")
    ap.add_argument("--max-seconds", type=float, default=120, help="stop timing past this")
    return ap.parse_args()


def load(dataset):
    with open(os.path.join(dataset, "manifest.json")) as f:
        counts = json.load(f)["counts"]
    edges = np.load(os.path.join(dataset, "train_edges.npy")).astype(np.int64)
    if edges.ndim != 2 or edges.shape[1] != 2:
        sys.exit(f"{dataset}/train_edges.npy: expected shape [E, 2], got {edges.shape}")
    return int(counts["users"]), int(counts["items"]), edges


def normalised_adjacency(num_users, num_items, edges, dev):
    n = num_users + num_items
    u = torch.from_numpy(edges[:, 0])
    i = torch.from_numpy(edges[:, 1]) + num_users
    row = torch.cat([u, i])
    col = torch.cat([i, u])
    deg = torch.bincount(row, minlength=n).double()
    val = (deg[row] * deg[col]).rsqrt().float()
    coo = torch.sparse_coo_tensor(torch.stack([row, col]), val, (n, n)).coalesce()
    return coo, torch.stack([row, col]).to(dev)


def run(impl, args, num_users, num_items, edges, dev, layout="csr"):
    n = num_users + num_items
    torch.manual_seed(0)
    emb = torch.nn.Parameter(torch.empty(n, args.dim, device=dev).uniform_(-0.1732, 0.1732))
    opt = torch.optim.Adam([emb], lr=args.lr)
    coo, edge_index = normalised_adjacency(num_users, num_items, edges, dev)
    adj = (coo.to_sparse_csr() if layout == "csr" else coo).to(dev)
    if impl == "pyg":
        from torch_geometric.nn import LGConv
        conv = LGConv(normalize=True).to(dev)
        propagate = lambda x: conv(x, edge_index)
    else:
        propagate = lambda x: torch.sparse.mm(adj, x)
    users = torch.from_numpy(edges[:, 0]).to(dev)
    items = torch.from_numpy(edges[:, 1]).to(dev)
    num_edges = users.numel()
    steps = (num_edges + args.batch_size - 1) // args.batch_size

    def epoch():
        perm = torch.randperm(num_edges, device=dev)
        total = torch.zeros((), device=dev)
        for s in range(steps):
            idx = perm[s * args.batch_size:(s + 1) * args.batch_size]
            u, i = users[idx], items[idx] + num_users
            j = torch.randint(num_items, (idx.numel(),), device=dev) + num_users
            x = emb
            out = x
            for _ in range(args.layers):
                x = propagate(x)
                out = out + x
            out = out / (args.layers + 1)
            pos = (out[u] * out[i]).sum(1)
            neg = (out[u] * out[j]).sum(1)
            reg = (emb[u].square().sum() + emb[i].square().sum() + emb[j].square().sum())
            loss = F.softplus(neg - pos).mean() + args.decay * reg / (2 * idx.numel())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach()
        return (total / steps).item()  # one read per epoch (synchronises)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    loss0 = epoch()  # warm-up
    sync()
    secs = []
    start = time.perf_counter()
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        loss = epoch()
        sync()
        secs.append(time.perf_counter() - t0)
        if time.perf_counter() - start > args.max_seconds:
            break
    return {
        "name": "lightgcn_epoch", "impl": impl, "device": str(dev),
        "adjacency": layout if impl == "torch" else "edge_index",
        "users": num_users, "items": num_items, "edges": int(num_edges),
        "layers": args.layers, "dim": args.dim, "batch_size": args.batch_size, "steps": steps,
        "epoch_seconds": statistics.median(secs), "min_epoch_seconds": min(secs),
        "epochs_timed": len(secs), "first_loss": loss0, "last_loss": loss,
        "edges_per_second": num_edges / statistics.median(secs),
    }


def main():
    args = parse()
    dev = torch.device(args.device)
    num_users, num_items, edges = load(args.dataset)
    impls = ["torch", "pyg"] if args.impl == "all" else [args.impl]
    rows = []
    for impl in impls:
        try:
            try:
                row = run(impl, args, num_users, num_items, edges, dev)
            except RuntimeError as e:  # no CSR autograd in this torch: COO, which has it
                if impl != "torch":
                    raise
                print(f"lightgcn_peer: CSR failed ({e}); using COO", file=sys.stderr)
                row = run(impl, args, num_users, num_items, edges, dev, layout="coo")
        except ImportError as e:
            print(f"lightgcn_peer: {impl}: skipped ({e})", file=sys.stderr)
            continue
        print(f"lightgcn_peer: {impl} on {dev}: {row['epoch_seconds']:.3f} s/epoch "
              f"({row['steps']} steps, loss {row['last_loss']:.4f})")
        rows.append(row)
    result = {
        "peer": "lightgcn_peer", "date": datetime.datetime.utcnow().isoformat() + "Z",
        "host": platform.node(), "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name(dev) if dev.type == "cuda" else None,
        "dataset": os.path.abspath(args.dataset), "rows": rows,
    }
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump(result, f, indent=1)
        os.replace(args.json + ".tmp", args.json)
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
