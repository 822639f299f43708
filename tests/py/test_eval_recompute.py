"""Independent check of `gnnrec recommend` and `gnnrec eval` with numpy.

Builds a small dataset directory by hand (the layout runtime/data/dataset.h documents), random
embeddings with an embeddings.json, runs both commands, then recomputes the top-K lists and
Precision / Recall / NDCG / HitRate @ K with numpy and compares. Also checks that no masked
item and no duplicate is recommended, the Most-Popular baseline, --users, and the refusal to
evaluate validation items that the mask hides.

Run by CTest with /usr/bin/python3 (numpy from Debian); needs GNNREC_BIN.
"""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

BIN = os.environ.get("GNNREC_BIN", "")
TOL = 1e-6  # metrics are means of at most 60 per-user values computed in double


def write_npy(path, arr):
    np.save(path, arr, allow_pickle=False)


def csr(rows, r, c):
    order = np.lexsort((np.arange(len(r)), c, r))  # by row, then column, then edge id
    indptr = np.zeros(rows + 1, dtype=np.int64)
    np.add.at(indptr, r + 1, 1)
    indptr = np.cumsum(indptr).astype(np.int64)
    return indptr, c[order].astype(np.int32), order.astype(np.int64)


def make_dataset(root, rng):
    U, I = 60, 80
    users, items, split = [], [], []
    hot_items = np.arange(0, 70)  # items 70..79 never in train: cold items
    for u in range(U):
        if u % 10 == 0:
            deg = 0  # cold user
        elif u % 10 == 1:
            deg = 55  # the 51+ bucket
        else:
            deg = int(rng.integers(1, 30))
        pool = rng.permutation(hot_items)
        train = pool[:deg]
        rest = rng.permutation(np.setdiff1d(np.arange(I), train))
        n_val = 1
        n_test = int(rng.integers(0, 4))  # some users have no test item: skipped
        for i in train:
            users.append(u), items.append(int(i)), split.append("train")
        for i in rest[:n_val]:
            users.append(u), items.append(int(i)), split.append("val")
        for i in rest[n_val:n_val + n_test]:
            users.append(u), items.append(int(i)), split.append("test")
    users, items, split = np.array(users), np.array(items), np.array(split)
    os.makedirs(root)
    counts = {"users": U, "items": I}
    edges = {}
    for s in ("train", "val", "test"):
        sel = split == s
        e = np.stack([users[sel], items[sel]], axis=1).astype(np.int32)
        edges[s] = e
        counts[s] = int(sel.sum())
        write_npy(f"{root}/{s}_edges.npy", e)
        write_npy(f"{root}/{s}_ratings.npy", np.ones(len(e), dtype=np.float32))
        write_npy(f"{root}/{s}_timestamps.npy", np.arange(len(e), dtype=np.int64) + 1000)
    manifest = {"schema_version": 1, "kind": "gnnrec-dataset", "counts": counts,
                "split": {"rule": "hand-made test data"}}
    with open(f"{root}/manifest.json", "w") as f:
        json.dump(manifest, f)
    with open(f"{root}/user_ids.txt", "w") as f:
        f.writelines(f"user{u:03d}\n" for u in range(U))
    with open(f"{root}/item_ids.txt", "w") as f:
        f.writelines(f"B{i:05d}\n" for i in range(I))
    tr = edges["train"]
    for prefix, rows, r, c in (("ui", U, tr[:, 0], tr[:, 1]), ("iu", I, tr[:, 1], tr[:, 0])):
        indptr, indices, eids = csr(rows, r, c)
        write_npy(f"{root}/{prefix}_indptr.npy", indptr)
        write_npy(f"{root}/{prefix}_indices.npy", indices)
        write_npy(f"{root}/{prefix}_edge_ids.npy", eids)
    with open(f"{root}/feature_names.json", "w") as f:
        json.dump({"user": ["bias"], "item": ["bias"]}, f)
    write_npy(f"{root}/user_features.npy", np.ones((U, 1), dtype=np.float32))
    write_npy(f"{root}/item_features.npy", np.ones((I, 1), dtype=np.float32))
    cats = ["Books", "Garden", "Toys", "Kitchen"]
    with open(f"{root}/items.jsonl", "w") as f:
        for i in range(I):
            f.write(json.dumps({"id": f"B{i:05d}", "title": f"Item <{i}> & co",
                                "category": cats[i % 4], "brand": "", "price": None}) + "\n")
    return U, I, edges


def run(*args, expect_ok=True):
    p = subprocess.run([BIN, *args], capture_output=True, text=True)
    if expect_ok and p.returncode != 0:
        sys.exit(f"FAIL: gnnrec {' '.join(args)} exited {p.returncode}:\n{p.stderr}")
    return p


def per_user_sets(U, e):
    s = [set() for _ in range(U)]
    for u, i in e:
        s[u].add(int(i))
    return s


def metrics(ranked, users, truth, ks):
    out = {}
    for K in ks:
        vals = {"precision": [], "recall": [], "ndcg": [], "hit": []}
        for row, u in zip(ranked, users):
            t = truth[u]
            if not t:
                continue
            top = [int(i) for i in row[:K]]
            hits = [1.0 if i in t else 0.0 for i in top]
            dcg = sum(h / math.log2(r + 2) for r, h in enumerate(hits))
            idcg = sum(1.0 / math.log2(r + 2) for r in range(min(len(t), K)))
            vals["precision"].append(sum(hits) / K)
            vals["recall"].append(sum(hits) / len(t))
            vals["ndcg"].append(dcg / idcg)
            vals["hit"].append(1.0 if sum(hits) > 0 else 0.0)
        for k, v in vals.items():
            out[f"{k}@{K}"] = float(np.mean(v))
    return out


def main():
    if not BIN or not os.path.exists(BIN):
        sys.exit(f"FAIL: GNNREC_BIN={BIN!r} is not a built gnnrec binary")
    rng = np.random.default_rng(20261130)
    tmp = tempfile.mkdtemp(prefix="gnnrec_eval_py_")
    try:
        ds = os.path.join(tmp, "dataset")
        U, I, edges = make_dataset(ds, rng)
        d = 12
        ue = rng.standard_normal((U, d)).astype(np.float32)
        ie = rng.standard_normal((I, d)).astype(np.float32)
        emb = os.path.join(tmp, "emb")
        os.makedirs(emb)
        write_npy(f"{emb}/user_emb.npy", ue)
        write_npy(f"{emb}/item_emb.npy", ie)
        with open(f"{emb}/embeddings.json", "w") as f:
            json.dump({"schema_version": 1, "kind": "gnnrec-embeddings", "model": "random",
                       "run_dir": None, "dataset_dir": os.path.abspath(ds), "dim": d,
                       "num_users": U, "num_items": I, "score": "dot", "inv_temp": 1.0,
                       "normalized": False}, f)

        K = 20
        rec = os.path.join(tmp, "rec")
        run("recommend", "--embeddings", emb, "--k", str(K), "--out", rec, "--device", "cpu")
        ids = np.load(f"{rec}/recommendations.npy")
        sc = np.load(f"{rec}/recommendation_scores.npy")
        man = json.load(open(f"{rec}/recommendations.json"))
        assert ids.shape == (U, K) and ids.dtype == np.int32, ids.shape
        assert sc.shape == (U, K) and sc.dtype == np.float32
        assert man["kind"] == "gnnrec-recommendations" and man["mask"] == "train+val"
        assert man["k"] == K and man["num_users"] == U

        seen = per_user_sets(U, np.concatenate([edges["train"], edges["val"]]))
        truth = per_user_sets(U, edges["test"])
        scores = ue.astype(np.float64) @ ie.astype(np.float64).T
        for u in range(U):
            row = [int(i) for i in ids[u] if i >= 0]
            assert len(row) == len(set(row)), f"user {u}: duplicate items {row}"
            assert not (set(row) & seen[u]), f"user {u}: masked items {set(row) & seen[u]}"
            cand = [i for i in range(I) if i not in seen[u]]
            assert len(row) == min(K, len(cand)), f"user {u}: {len(row)} items, {len(cand)} cand"
            assert np.all(ids[u][len(row):] == -1) and np.all(np.isneginf(sc[u][len(row):]))
            ref = sorted(cand, key=lambda i: (-scores[u, i], i))[:K]
            for r, (a, b) in enumerate(zip(row, ref)):
                assert a == b or abs(scores[u, a] - scores[u, b]) < 1e-5, (u, r, a, b)
                assert abs(sc[u, r] - scores[u, a]) < 1e-4, (u, r, sc[u, r], scores[u, a])

        lines = open(f"{rec}/recommendations.jsonl").read().splitlines()
        assert len(lines) == U
        first = json.loads(lines[3])
        assert first["user"] == "user003"
        assert first["items"] == [f"B{i:05d}" for i in ids[3] if i >= 0]

        out = os.path.join(tmp, "report")
        run_dir = os.path.join(tmp, "run")
        os.makedirs(run_dir)
        with open(f"{run_dir}/metrics.jsonl", "w") as f:
            for ep in range(1, 6):
                f.write(json.dumps({"epoch": ep, "loss": 0.7 / ep, "val/recall@20": 0.02 * ep,
                                    "note": "text is ignored"}) + "\n")
        run("eval", "--recommendations", rec, "--ks", "5,10,20", "--out", out, "--run", run_dir)
        rep = json.load(open(f"{out}/report.json"))
        evaluated = [u for u in range(U) if truth[u]]
        assert rep["users_evaluated"] == len(evaluated), rep["users_evaluated"]
        assert rep["users_skipped"] == U - len(evaluated)
        assert rep["mask_violations"] == 0 and rep["duplicate_items"] == 0
        ref = metrics(ids, range(U), truth, (5, 10, 20))
        for k, v in ref.items():
            got = rep["metrics"]["model"][k]
            assert abs(got - v) < TOL, f"{k}: gnnrec {got} vs numpy {v}"

        # Most-Popular under the same mask: training degree desc, ties by smaller id.
        deg = np.bincount(edges["train"][:, 1], minlength=I)
        order = sorted(range(I), key=lambda i: (-deg[i], i))
        pop = [[i for i in order if i not in seen[u]][:K] for u in range(U)]
        pop = [r + [-1] * (K - len(r)) for r in pop]
        ref_pop = metrics(np.array(pop), range(U), truth, (5, 10, 20))
        for k, v in ref_pop.items():
            got = rep["metrics"]["most_popular"][k]
            assert abs(got - v) < TOL, f"most_popular {k}: gnnrec {got} vs numpy {v}"

        # Slices and cold items.
        names = [s["name"] for s in rep["slices"]]
        assert "degree 0" in names and "degree 51+" in names, names
        s0 = rep["slices"][names.index("degree 0")]
        assert s0["users"] == len([u for u in evaluated if u % 10 == 0])
        cold = set(range(70, 80))
        cold_edges = [(u, i) for u, i in edges["test"] if int(i) in cold]
        assert rep["cold_items"]["test_edges"] == len(cold_edges)
        hits = sum(1 for u, i in cold_edges if int(i) in set(ids[u][:20].tolist()))
        want = hits / len(cold_edges) if cold_edges else 0.0
        assert abs(rep["cold_items"]["model"]["recall@20"] - want) < TOL
        assert rep["training"]["series"]["loss"][0] == 0.7 and "note" not in rep["training"]["series"]

        html = open(f"{out}/report.html").read()
        assert "<svg" in html and "<script" not in html and "<link" not in html
        assert "Item &lt;" in html and "Item <" not in html, "titles must be escaped"

        # --users: rows in file order; the matching rows of the full run.
        with open(f"{tmp}/users.txt", "w") as f:
            f.write("user007\n# a comment\n\nuser002\n")
        rec2 = os.path.join(tmp, "rec2")
        run("recommend", "--embeddings", emb, "--k", str(K), "--out", rec2, "--device", "cpu",
            "--users", f"{tmp}/users.txt")
        assert np.array_equal(np.load(f"{rec2}/recommendation_users.npy"), [7, 2])
        assert np.array_equal(np.load(f"{rec2}/recommendations.npy"), ids[[7, 2]])

        # Validation items are hidden by a train+val mask: evaluating them must be refused.
        p = run("eval", "--recommendations", rec, "--split", "val", "--out", out, expect_ok=False)
        assert p.returncode != 0 and "train+val" in p.stderr, p.stderr
        bad = run("recommend", "--embeddings", emb, "--out", rec2, "--users", f"{tmp}/nope.txt",
                  expect_ok=False)
        assert bad.returncode != 0 and "nope.txt" in bad.stderr
        print("OK: recommend and eval agree with numpy")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
