#!/usr/bin/env python3
"""Independent check of evaluation on a real dataset (MovieLens-100k from GNNREC_DATA_DIR):
prepare -> train (graphsage, a few CPU epochs) -> embed -> recommend -> eval, then numpy
recomputes P/R/NDCG/Hit@K from the dataset's .npy files and recommendations.npy. Asserts that
numpy, `gnnrec eval`'s report.json and the trainer's own test metrics agree to 1e-6, and that
no training/validation item is recommended."""
import json
import os
import shutil
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_eval_recompute import metrics, per_user_sets, run  # noqa: E402

DATA = os.environ.get("GNNREC_DATA_DIR", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
KS = [5, 10, 20]
TOL = 1e-6  # both sides compute in double from the same integer rankings


def main():
    src = os.path.join(DATA, "ml-100k")
    if not os.path.isdir(src):
        sys.exit(f"FAIL: {src} not found (set GNNREC_DATA_DIR)")
    work = tempfile.mkdtemp(prefix="gnnrec_ml100k_")
    try:
        run("prepare", "--input", src, "--out", f"{work}/data")
        run("train", "--dataset", f"{work}/data", "--out", f"{work}/run", "--device", "cpu",
            "--quiet", "--set", "epochs=3", "--set", "dim=32", "--set", "batch_size=2048",
            "--set", "ks=[5,10,20]")
        run("embed", "--run", f"{work}/run", "--out", f"{work}/export", "--device", "cpu")
        run("recommend", "--embeddings", f"{work}/export", "--k", "20", "--out", f"{work}/recs",
            "--device", "cpu")
        run("eval", "--recommendations", f"{work}/recs", "--out", f"{work}/report", "--ks", "5,10,20")

        d = f"{work}/data"
        manifest = json.load(open(f"{d}/manifest.json"))
        U = manifest["counts"]["users"]
        train = np.load(f"{d}/train_edges.npy")
        val = np.load(f"{d}/val_edges.npy")
        test = np.load(f"{d}/test_edges.npy")
        recs = np.load(f"{work}/recs/recommendations.npy")
        users = np.load(f"{work}/recs/recommendation_users.npy")
        assert recs.shape == (len(users), 20), recs.shape
        seen = per_user_sets(U, np.concatenate([train, val]))
        for row, u in zip(recs, users):
            items = [int(i) for i in row if i >= 0]
            assert len(set(items)) == len(items), f"duplicates for user {u}"
            assert not seen[u].intersection(items), f"seen item recommended to user {u}"
        ref = metrics(recs, users, per_user_sets(U, test), KS)
        report = json.load(open(f"{work}/report/report.json"))["metrics"]["model"]
        trainer = json.load(open(f"{work}/run/results.json"))["test"]
        for key, value in ref.items():
            if key.startswith("hit"):
                continue
            assert abs(report[key] - value) < TOL, f"{key}: eval {report[key]} vs numpy {value}"
            assert abs(trainer[key] - value) < TOL, f"{key}: trainer {trainer[key]} vs numpy {value}"
        print(f"ml-100k: numpy, eval and trainer agree; recall@20 {ref['recall@20']:.4f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
