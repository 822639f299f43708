#!/usr/bin/python3
"""Runs `gnnrec prepare` on ml-100k into a temporary folder and checks the dataset directory
with numpy alone: every .npy loads with the promised dtype and shape, ids are in range, the
CSR (both directions) holds exactly the training edges, and the manifest agrees."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def check(cond, msg):
    if not cond:
        print("FAIL:", msg)
        sys.exit(1)


def main():
    gnnrec = os.environ.get("GNNREC_BIN", "gnnrec")
    data = os.environ.get("GNNREC_DATA_DIR", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "ml100k")
        subprocess.run([gnnrec, "--log-level", "warn", "prepare", "--input",
                        os.path.join(data, "ml-100k"), "--out", out], check=True)
        m = json.load(open(os.path.join(out, "manifest.json")))
        check(m["kind"] == "gnnrec-dataset" and m["schema_version"] == 1, "manifest header")
        U, I = m["counts"]["users"], m["counts"]["items"]
        check((U, I) == (943, 1682), f"counts {U} {I}")
        total = 0
        edges = {}
        for split in ("train", "val", "test"):
            e = np.load(os.path.join(out, f"{split}_edges.npy"))
            r = np.load(os.path.join(out, f"{split}_ratings.npy"))
            t = np.load(os.path.join(out, f"{split}_timestamps.npy"))
            n = m["counts"][split]
            check(e.dtype == np.int32 and e.shape == (n, 2), f"{split}_edges {e.dtype} {e.shape}")
            check(r.dtype == np.float32 and r.shape == (n,), f"{split}_ratings")
            check(t.dtype == np.int64 and t.shape == (n,), f"{split}_timestamps")
            check(n == 0 or (e[:, 0].min() >= 0 and e[:, 0].max() < U), f"{split} user ids")
            check(n == 0 or (e[:, 1].min() >= 0 and e[:, 1].max() < I), f"{split} item ids")
            check(n == 0 or (r.min() >= 1 and r.max() <= 5), f"{split} ratings")
            check(n == 0 or t.min() > 8e8, f"{split} timestamps")
            edges[split] = e
            total += n
        check(total == 100000, f"total {total}")
        # No (user, item) pair twice across splits.
        allpairs = np.concatenate([edges[s] for s in edges]).astype(np.int64)
        keys = allpairs[:, 0] * I + allpairs[:, 1]
        check(len(np.unique(keys)) == len(keys), "duplicate pairs")

        train = edges["train"]
        for prefix, rows, row_col, col_col, ncols in (("ui", U, 0, 1, I), ("iu", I, 1, 0, U)):
            indptr = np.load(os.path.join(out, f"{prefix}_indptr.npy"))
            indices = np.load(os.path.join(out, f"{prefix}_indices.npy"))
            eids = np.load(os.path.join(out, f"{prefix}_edge_ids.npy"))
            check(indptr.dtype == np.int64 and indptr.shape == (rows + 1,), f"{prefix}_indptr")
            check(indices.dtype == np.int32 and indices.shape == (len(train),), f"{prefix}_indices")
            check(eids.dtype == np.int64 and eids.shape == (len(train),), f"{prefix}_edge_ids")
            check(indptr[0] == 0 and indptr[-1] == len(train) and np.all(np.diff(indptr) >= 0),
                  f"{prefix} indptr monotone")
            row_of = np.repeat(np.arange(rows), np.diff(indptr))
            check(np.array_equal(train[eids, row_col], row_of), f"{prefix} rows match edges")
            check(np.array_equal(train[eids, col_col], indices), f"{prefix} columns match edges")
            check(np.array_equal(np.sort(eids), np.arange(len(train))), f"{prefix} edge ids")
            check(indices.min() >= 0 and indices.max() < ncols, f"{prefix} column range")
            # rows sorted by column id
            same_row = row_of[1:] == row_of[:-1]
            check(np.all(indices[1:][same_row] >= indices[:-1][same_row]), f"{prefix} sorted rows")

        names = json.load(open(os.path.join(out, "feature_names.json")))
        uf = np.load(os.path.join(out, "user_features.npy"))
        itf = np.load(os.path.join(out, "item_features.npy"))
        check(uf.dtype == np.float32 and uf.shape == (U, len(names["user"])), f"user_features {uf.shape}")
        check(itf.dtype == np.float32 and itf.shape == (I, len(names["item"])), f"item_features {itf.shape}")
        check(np.isfinite(uf).all() and np.isfinite(itf).all(), "features finite")
        check("ml_genre_Action" in names["item"] and "ml_age_z" in names["user"], "movielens columns")
        uids = open(os.path.join(out, "user_ids.txt")).read().splitlines()
        iids = open(os.path.join(out, "item_ids.txt")).read().splitlines()
        check(len(uids) == U and len(iids) == I, "id files")
        check(uids[:3] == ["1", "2", "3"], "numeric id order")
        items = [json.loads(l) for l in open(os.path.join(out, "items.jsonl"), encoding="utf-8")]
        check(len(items) == I and items[0]["title"] == "Toy Story (1995)", "items.jsonl")
    print("ok: ml-100k dataset directory checked with numpy")


if __name__ == "__main__":
    main()
