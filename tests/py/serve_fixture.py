#!/usr/bin/python3
"""Writes a small synthetic serving fixture for `gnnrec serve` tests and benchmarks.

OUT/dataset      a dataset dir as runtime/data/dataset.h describes (manifest, ids, splits, CSR
                 both ways, features, items.jsonl with title/category/brand/price)
OUT/model_a, OUT/model_b   embedding export dirs (embeddings.json, user_emb.npy, item_emb.npy)
OUT/recs_a, OUT/recs_b     precomputed top-K dirs (recommendations.{json,npy},
                           recommendation_scores.npy), training items masked, ties -> smaller id

Users and items fall into categories; users interact mostly inside their favourite categories and
the embeddings follow that structure, so the page shows sensible recommendations. The last two
users have no training interactions (cold). Stdlib + numpy only.
"""
import argparse
import json
import os

import numpy as np

CATEGORIES = [
    ("Kitchen", ["Chef Knife", "Cast Iron Skillet", "Pour-Over Kettle", "Spice Rack", "Cutting Board",
                 "Dutch Oven", "Salad Spinner"]),
    ("Books", ["Field Guide", "Cookbook", "Mystery Novel", "Travel Atlas", "Poetry Collection",
               "Graphic Novel", "Sketchbook"]),
    ("Electronics", ["Bluetooth Speaker", "Noise-Cancelling Headphones", "USB-C Charger",
                     "Mechanical Keyboard", "Webcam", "Smart Plug", "E-Reader"]),
    ("Outdoors", ["Trail Backpack", "Camping Lantern", "Water Filter", "Trekking Poles",
                  "Sleeping Bag", "Hammock", "Headlamp"]),
    ("Toys & Games", ["Puzzle", "Board Game", "Building Blocks", "Card Game", "Kite",
                      "Model Kit", "Plush Fox"]),
    ("Gift Cards", ["Gift Card", "eGift Card", "Holiday Gift Card", "Birthday Gift Card",
                    "Thank You Card", "Gift Card Tin", "Gift Box"]),
    ("Beauty", ["Face Serum", "Hand Cream", "Lip Balm", "Shampoo Bar", "Sunscreen",
                "Bath Salts", "Hair Oil"]),
    ("Garden", ["Pruning Shears", "Seed Starter Kit", "Watering Can", "Raised Bed",
                "Garden Gloves", "Compost Bin", "Bird Feeder"]),
]
ADJECTIVES = ["Classic", "Compact", "Deluxe", "Everyday", "Handmade", "Premium", "Rustic",
              "Essential", "Organic", "Travel", "Vintage", "Modern", "Cozy", "Pro"]
COLOURS = ["Sage Green", "Charcoal", "Ivory", "Navy", "Terracotta", "Slate Blue", "Mustard",
           "Walnut", "Coral", "Graphite"]
BRANDS = ["Acme", "Northwind", "Bluebird", "Kestrel", "Oakline", "Lumen", "Pebble", "Juniper"]


def save_csr(d, prefix, rows, row, col):
    order = np.lexsort((np.arange(len(row)), col, row))  # by row, then column, then edge
    indptr = np.zeros(rows + 1, dtype=np.int64)
    np.add.at(indptr, row + 1, 1)
    np.save(os.path.join(d, prefix + "_indptr.npy"), np.cumsum(indptr).astype(np.int64))
    np.save(os.path.join(d, prefix + "_indices.npy"), col[order].astype(np.int32))
    np.save(os.path.join(d, prefix + "_edge_ids.npy"), order.astype(np.int64))


def topk_masked(user_emb, item_emb, indptr, indices, k, chunk=512):
    """Exact top-k per user by dot product, training items masked, ties -> smaller item id."""
    U, I = user_emb.shape[0], item_emb.shape[0]
    ids = np.full((U, k), -1, dtype=np.int32)
    scores = np.full((U, k), -np.inf, dtype=np.float32)
    item64 = item_emb.astype(np.float64)
    for s in range(0, U, chunk):
        e = min(U, s + chunk)
        sc = user_emb[s:e].astype(np.float64) @ item64.T
        for u in range(s, e):
            sc[u - s, indices[indptr[u]:indptr[u + 1]]] = -np.inf
        for u in range(s, e):
            row = sc[u - s].astype(np.float32)
            cand = np.nonzero(np.isfinite(row))[0]
            if len(cand) > 4 * k:
                part = np.argpartition(-row[cand], 4 * k)[:4 * k]
                cand = cand[part]
            order = np.lexsort((cand, -row[cand]))[:k]
            ids[u, :len(order)] = cand[order]
            scores[u, :len(order)] = row[cand[order]]
    return ids, scores


def write_export(d, name, dataset_dir, user_emb, item_emb):
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, "user_emb.npy"), user_emb.astype(np.float32))
    np.save(os.path.join(d, "item_emb.npy"), item_emb.astype(np.float32))
    with open(os.path.join(d, "embeddings.json"), "w") as f:
        json.dump({"schema_version": 1, "kind": "gnnrec-embeddings", "model": name,
                   "run_dir": "/nonexistent/run", "dataset_dir": os.path.abspath(dataset_dir),
                   "dim": int(user_emb.shape[1]), "num_users": int(user_emb.shape[0]),
                   "num_items": int(item_emb.shape[0]), "score": "dot", "inv_temp": 1.0,
                   "normalized": True}, f, indent=2)


def write_recs(d, export_dir, dataset_dir, user_emb, item_emb, indptr, indices, k):
    os.makedirs(d, exist_ok=True)
    ids, scores = topk_masked(user_emb, item_emb, indptr, indices, k)
    np.save(os.path.join(d, "recommendations.npy"), ids)
    np.save(os.path.join(d, "recommendation_scores.npy"), scores)
    with open(os.path.join(d, "recommendations.json"), "w") as f:
        json.dump({"schema_version": 1, "kind": "gnnrec-recommendations", "k": k, "mask": "train",
                   "num_users": int(user_emb.shape[0]),
                   "embeddings_dir": os.path.abspath(export_dir),
                   "dataset_dir": os.path.abspath(dataset_dir)}, f, indent=2)


def make(out, users=200, items=400, dim=24, k=20, seed=7, per_user=(3, 25)):
    rng = np.random.default_rng(seed)
    ds = os.path.join(out, "dataset")
    os.makedirs(ds, exist_ok=True)
    C = len(CATEGORIES)
    item_cat = rng.integers(0, C, size=items)
    user_ids = ["A%s" % "".join(rng.choice(list("ABCDEFGHJKLMNPQRSTUVWXYZ234567"), 13))
                for _ in range(users)]
    user_ids = [u + "_%d" % i for i, u in enumerate(user_ids)]  # unique
    item_ids = ["B0%08d" % (10007 * i % 99999989) for i in range(items)]
    first = rng.integers(0, C, size=users)  # two distinct favourite categories per user
    fav = np.stack([first, (first + rng.integers(1, C, size=users)) % C], 1)
    # Popularity: a Zipf-like weight per item so Most-Popular is well defined.
    weight = 1.0 / (1.0 + rng.permutation(items)) ** 0.7
    rows, cols = [], []
    for u in range(users - 2):  # the last two users are cold
        n = int(rng.integers(per_user[0], per_user[1] + 1))
        in_fav = np.isin(item_cat, fav[u])
        w = weight * np.where(in_fav, 8.0, 1.0)
        chosen = rng.choice(items, size=min(n, items), replace=False, p=w / w.sum())
        rows += [u] * len(chosen)
        cols += list(chosen)
    rows = np.array(rows, dtype=np.int32)
    cols = np.array(cols, dtype=np.int32)
    # Hold out one interaction of every third user as val / test (not in the training graph).
    hold = np.zeros(len(rows), dtype=bool)
    first = np.unique(rows, return_index=True)[1]
    hold[first[::3]] = True
    tr_u, tr_i = rows[~hold], cols[~hold]
    ho_u, ho_i = rows[hold], cols[hold]
    half = len(ho_u) // 2
    splits = {"train": (tr_u, tr_i), "val": (ho_u[:half], ho_i[:half]),
              "test": (ho_u[half:], ho_i[half:])}
    for name, (su, si) in splits.items():
        np.save(os.path.join(ds, name + "_edges.npy"), np.stack([su, si], 1).astype(np.int32)
                .reshape(-1, 2))
        np.save(os.path.join(ds, name + "_ratings.npy"),
                rng.integers(3, 6, size=len(su)).astype(np.float32))
        np.save(os.path.join(ds, name + "_timestamps.npy"),
                rng.integers(1640995200, 1704067200, size=len(su)).astype(np.int64))
    save_csr(ds, "ui", users, tr_u, tr_i)
    save_csr(ds, "iu", items, tr_i, tr_u)
    with open(os.path.join(ds, "user_ids.txt"), "w") as f:
        f.write("".join(u + "\n" for u in user_ids))
    with open(os.path.join(ds, "item_ids.txt"), "w") as f:
        f.write("".join(i + "\n" for i in item_ids))
    with open(os.path.join(ds, "feature_names.json"), "w") as f:
        json.dump({"user": ["log_degree"], "item": ["price"]}, f)
    deg_u = np.bincount(tr_u, minlength=users)
    np.save(os.path.join(ds, "user_features.npy"), np.log1p(deg_u).astype(np.float32)[:, None])
    prices = np.round(rng.uniform(4, 180, size=items), 0) - 0.01
    prices[rng.random(items) < 0.08] = np.nan  # some unknown prices
    np.save(os.path.join(ds, "item_features.npy"),
            np.nan_to_num(prices, nan=0.0).astype(np.float32)[:, None])
    adj = rng.integers(0, len(ADJECTIVES), size=items)
    noun = rng.integers(0, 7, size=items)
    colour = rng.integers(0, len(COLOURS), size=items)
    with open(os.path.join(ds, "items.jsonl"), "w") as f:
        for i in range(items):
            cat, nouns = CATEGORIES[item_cat[i]]
            title = "%s %s" % (ADJECTIVES[adj[i]], nouns[noun[i]])
            title += ", Set of %d" % (2 + i % 4) if i % 5 == 0 else ", " + COLOURS[colour[i]]
            rec = {"id": item_ids[i], "title": title, "category": cat,
                   "brand": BRANDS[(i * 11) % len(BRANDS)],
                   "price": None if np.isnan(prices[i]) else float(prices[i])}
            f.write(json.dumps(rec) + "\n")
    with open(os.path.join(ds, "manifest.json"), "w") as f:
        json.dump({"schema_version": 1, "kind": "gnnrec-dataset", "source": "serve_fixture.py",
                   "counts": {"users": users, "items": items, "train": int(len(tr_u)),
                              "val": half, "test": int(len(ho_u) - half)}}, f, indent=2)

    centroids = rng.normal(size=(C, dim))
    def embeddings(noise_seed, noise):
        r = np.random.default_rng(noise_seed)
        it = centroids[item_cat] + noise * r.normal(size=(items, dim))
        us = centroids[fav].mean(1) + noise * r.normal(size=(users, dim))
        it /= np.linalg.norm(it, axis=1, keepdims=True)
        us /= np.linalg.norm(us, axis=1, keepdims=True)
        return us.astype(np.float32), it.astype(np.float32)

    indptr = np.load(os.path.join(ds, "ui_indptr.npy"))
    indices = np.load(os.path.join(ds, "ui_indices.npy"))
    for tag, name, s, noise in (("a", "graphsage-a", seed + 1, 0.6), ("b", "graphsage-b", seed + 2, 0.9)):
        ue, ie = embeddings(s, noise)
        ex = os.path.join(out, "model_" + tag)
        write_export(ex, name, ds, ue, ie)
        write_recs(os.path.join(out, "recs_" + tag), ex, ds, ue, ie, indptr, indices, k)
    return {"dataset": ds, "model_a": os.path.join(out, "model_a"),
            "model_b": os.path.join(out, "model_b"), "recs_a": os.path.join(out, "recs_a"),
            "recs_b": os.path.join(out, "recs_b"), "user_ids": user_ids, "item_ids": item_ids,
            "k": k}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--items", type=int, default=400)
    ap.add_argument("--dim", type=int, default=24)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    info = make(a.out, a.users, a.items, a.dim, a.k, a.seed)
    print(json.dumps({k: v for k, v in info.items() if not isinstance(v, list)}))
