#!/usr/bin/python3
"""Example inputs for `gnnrec recommend` / `gnnrec eval` without the trainer: MovieLens-100k
as a gnnrec dataset dir (titles and genres in items.jsonl), a small BPR matrix factorisation
trained with numpy (writing metrics.jsonl like a run dir), and its embedding export.

    /usr/bin/python3 scripts/report_example.py --out /tmp/ml100k-example
    build/bin/gnnrec recommend --embeddings /tmp/ml100k-example/emb --k 50 --out /tmp/ml100k-example/rec
    build/bin/gnnrec eval --recommendations /tmp/ml100k-example/rec --run /tmp/ml100k-example/run \
        --out /tmp/ml100k-example/report

Used to produce docs/report-page.png (scripts/screenshot-report.sh). Split: per user, by time,
the last 20% of interactions are test and the 10% before them validation.
"""

import argparse
import json
import os
import time

import numpy as np


def csr(rows, r, c):
    order = np.lexsort((np.arange(len(r)), c, r))
    indptr = np.zeros(rows + 1, dtype=np.int64)
    np.add.at(indptr, r + 1, 1)
    return np.cumsum(indptr).astype(np.int64), c[order].astype(np.int32), order.astype(np.int64)


def build_dataset(src, out):
    data = np.loadtxt(os.path.join(src, "u.data"), dtype=np.int64)
    users_raw, items_raw = np.unique(data[:, 0]), np.unique(data[:, 1])
    u = np.searchsorted(users_raw, data[:, 0]).astype(np.int32)
    i = np.searchsorted(items_raw, data[:, 1]).astype(np.int32)
    rating, ts = data[:, 2].astype(np.float32), data[:, 3]
    U, I = len(users_raw), len(items_raw)
    split = np.empty(len(u), dtype=object)
    for user in range(U):
        idx = np.where(u == user)[0]
        idx = idx[np.lexsort((idx, ts[idx]))]
        n = len(idx)
        n_test, n_val = max(1, int(round(0.2 * n))), max(1, int(round(0.1 * n)))
        split[idx[: n - n_test - n_val]] = "train"
        split[idx[n - n_test - n_val: n - n_test]] = "val"
        split[idx[n - n_test:]] = "test"
    os.makedirs(out, exist_ok=True)
    counts = {"users": U, "items": I}
    edges = {}
    for s in ("train", "val", "test"):
        sel = split == s
        edges[s] = np.stack([u[sel], i[sel]], axis=1).astype(np.int32)
        counts[s] = int(sel.sum())
        np.save(f"{out}/{s}_edges.npy", edges[s])
        np.save(f"{out}/{s}_ratings.npy", rating[sel])
        np.save(f"{out}/{s}_timestamps.npy", ts[sel].astype(np.int64))
    with open(f"{out}/manifest.json", "w") as f:
        json.dump({"schema_version": 1, "kind": "gnnrec-dataset", "name": "ml-100k",
                   "counts": counts,
                   "split": {"rule": "per-user temporal 70/10/20"},
                   "sources": [{"path": os.path.join(src, "u.data")}]}, f, indent=2)
    with open(f"{out}/user_ids.txt", "w") as f:
        f.writelines(f"{x}\n" for x in users_raw)
    with open(f"{out}/item_ids.txt", "w") as f:
        f.writelines(f"{x}\n" for x in items_raw)
    tr = edges["train"]
    for prefix, rows, r, c in (("ui", U, tr[:, 0], tr[:, 1]), ("iu", I, tr[:, 1], tr[:, 0])):
        indptr, indices, eids = csr(rows, r, c)
        np.save(f"{out}/{prefix}_indptr.npy", indptr)
        np.save(f"{out}/{prefix}_indices.npy", indices)
        np.save(f"{out}/{prefix}_edge_ids.npy", eids)
    genres = [l.split("|")[0] for l in open(os.path.join(src, "u.genre"), encoding="latin-1")
              if "|" in l]
    meta = {}
    for line in open(os.path.join(src, "u.item"), encoding="latin-1"):
        p = line.rstrip("\n").split("|")
        flags = [int(x) for x in p[5:5 + len(genres)]]
        meta[int(p[0])] = (p[1], " / ".join(g for g, on in zip(genres, flags) if on)[:40])
    with open(f"{out}/items.jsonl", "w") as f:
        for raw in items_raw:
            title, cat = meta.get(int(raw), ("", ""))
            f.write(json.dumps({"id": str(raw), "title": title, "category": cat, "brand": "",
                                "price": None}) + "\n")
    with open(f"{out}/feature_names.json", "w") as f:
        json.dump({"user": [], "item": []}, f)
    np.save(f"{out}/user_features.npy", np.zeros((U, 0), dtype=np.float32))
    np.save(f"{out}/item_features.npy", np.zeros((I, 0), dtype=np.float32))
    return U, I, edges


def recall_ndcg(ue, ie, seen, truth, K=20):
    s = ue @ ie.T
    for user, items in enumerate(seen):
        s[user, items] = -np.inf
    top = np.argsort(-s, axis=1)[:, :K]
    rec, nd, n = 0.0, 0.0, 0
    for user, t in enumerate(truth):
        if not t:
            continue
        hits = np.isin(top[user], list(t)).astype(float)
        rec += hits.sum() / len(t)
        disc = 1.0 / np.log2(np.arange(K) + 2)
        nd += (hits * disc).sum() / disc[: min(len(t), K)].sum()
        n += 1
    return rec / n, nd / n


def train_bpr(U, I, edges, run_dir, epochs, d=32, seed=3):
    rng = np.random.default_rng(seed)
    tr = edges["train"]
    ue = (0.1 * rng.standard_normal((U, d))).astype(np.float32)
    ie = (0.1 * rng.standard_normal((I, d))).astype(np.float32)
    seen = [[] for _ in range(U)]
    for a, b in tr:
        seen[a].append(b)
    truth = [set() for _ in range(U)]
    for a, b in edges["val"]:
        truth[a].add(int(b))
    lr, reg, bs = 0.05, 1e-4, 512
    os.makedirs(run_dir, exist_ok=True)
    t0 = time.time()
    with open(f"{run_dir}/metrics.jsonl", "w") as f:
        for ep in range(1, epochs + 1):
            perm = rng.permutation(len(tr))
            total = 0.0
            for s in range(0, len(perm), bs):
                b = tr[perm[s:s + bs]]
                uu, pi = b[:, 0], b[:, 1]
                ni = rng.integers(0, I, len(b))
                x = np.sum(ue[uu] * (ie[pi] - ie[ni]), axis=1)
                sig = 1.0 / (1.0 + np.exp(x))  # d(-log sigmoid(x))/dx = -sigmoid(-x)
                total += float(np.sum(np.logaddexp(0.0, -x)))
                gu = sig[:, None] * (ie[pi] - ie[ni]) - reg * ue[uu]
                gp = sig[:, None] * ue[uu] - reg * ie[pi]
                gn = -sig[:, None] * ue[uu] - reg * ie[ni]
                np.add.at(ue, uu, lr * gu)
                np.add.at(ie, pi, lr * gp)
                np.add.at(ie, ni, lr * gn)
            r, n = recall_ndcg(ue, ie, seen, truth)
            row = {"epoch": ep, "loss": total / len(tr), "val/recall@20": r, "val/ndcg@20": n,
                   "lr": lr, "seconds": round(time.time() - t0, 2)}
            f.write(json.dumps(row) + "\n")
            print(json.dumps(row))
    return ue, ie


def main():
    ap = argparse.ArgumentParser()
    data_root = os.environ.get("GNNREC_DATA_DIR") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
    ap.add_argument("--data", default=os.path.join(data_root, "ml-100k"),
                    help="MovieLens-100k folder (default: $GNNREC_DATA_DIR/ml-100k)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=20)
    a = ap.parse_args()
    ds = os.path.abspath(os.path.join(a.out, "ml-100k"))
    U, I, edges = build_dataset(os.path.abspath(a.data), ds)
    ue, ie = train_bpr(U, I, edges, os.path.join(a.out, "run"), a.epochs)
    emb = os.path.join(a.out, "emb")
    os.makedirs(emb, exist_ok=True)
    np.save(f"{emb}/user_emb.npy", ue.astype(np.float32))
    np.save(f"{emb}/item_emb.npy", ie.astype(np.float32))
    with open(f"{emb}/embeddings.json", "w") as f:
        json.dump({"schema_version": 1, "kind": "gnnrec-embeddings", "model": "bpr-mf (numpy)",
                   "run_dir": os.path.abspath(os.path.join(a.out, "run")), "dataset_dir": ds,
                   "dim": int(ue.shape[1]), "num_users": U, "num_items": I, "score": "dot",
                   "inv_temp": 1.0, "normalized": False}, f, indent=2)


if __name__ == "__main__":
    main()
