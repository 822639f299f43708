#!/usr/bin/env python3
"""The whole pipeline on built-in data, as the README demo runs it (minus the server):
synth -> prepare -> train -> embed -> recommend -> eval. Checks that every stage's output is
there and readable with numpy, that eval's test Recall@20/NDCG@20 equal the trainer's, that the
model beats Most-Popular, and that nothing seen in training is recommended."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

BIN = os.environ.get("GNNREC_BIN", "build/bin/gnnrec")


def run(*args):
    r = subprocess.run([BIN, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"gnnrec {' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
    return r


def main():
    work = tempfile.mkdtemp(prefix="gnnrec_pipeline_")
    try:
        run("synth", "--preset", "tiny", "--seed", "3", "--out", f"{work}/raw")
        run("prepare", "--input", f"{work}/raw/Electronics.jsonl", "--meta",
            f"{work}/raw/meta_Electronics.jsonl", "--out", f"{work}/data")
        run("train", "--dataset", f"{work}/data", "--out", f"{work}/run", "--device", "cpu",
            "--quiet", "--set", "epochs=6", "--set", "dim=32", "--set", "batch_size=512")
        run("embed", "--run", f"{work}/run", "--out", f"{work}/export", "--device", "cpu")
        run("recommend", "--embeddings", f"{work}/export", "--k", "20", "--out", f"{work}/recs",
            "--device", "cpu")
        run("eval", "--recommendations", f"{work}/recs", "--run", f"{work}/run", "--out",
            f"{work}/report")

        results = json.load(open(f"{work}/run/results.json"))
        report = json.load(open(f"{work}/report/report.json"))
        lines = [json.loads(l) for l in open(f"{work}/run/metrics.jsonl") if l.strip()]
        assert len(lines) == 6, lines
        assert lines[-1]["loss"] < lines[0]["loss"], "training loss did not fall"

        model_metrics = report["metrics"]["model"]
        for key in ("recall@20", "ndcg@20"):
            a = results["test"][key]
            b = model_metrics[key]
            assert abs(a - b) < 1e-6, f"{key}: trainer {a} vs eval {b}"
        pop = report["metrics"]["most_popular"]["recall@20"]
        assert model_metrics["recall@20"] > 1.5 * pop, (model_metrics["recall@20"], pop)

        recs = np.load(f"{work}/recs/recommendations.npy")
        train = np.load(f"{work}/data/train_edges.npy")
        emb = np.load(f"{work}/export/item_emb.npy")
        assert emb.dtype == np.float32 and emb.shape[1] == 32
        seen = set(map(tuple, train.tolist()))
        users = np.load(f"{work}/recs/recommendation_users.npy") if os.path.exists(
            f"{work}/recs/recommendation_users.npy") else np.arange(recs.shape[0])
        for row, u in enumerate(users):
            items = [i for i in recs[row] if i >= 0]
            assert len(items) == len(set(items)), f"duplicate items for user {u}"
            assert not any((int(u), int(i)) in seen for i in items), f"seen item for user {u}"
        print(f"pipeline ok: test recall@20 {results['test']['recall@20']:.4f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
