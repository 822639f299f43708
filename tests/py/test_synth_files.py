"""gnnrec synth output read by Python's own gzip and json modules (the multi-member gzip files
must read as one stream), with the Amazon Reviews 2023 field types."""
import gzip
import json
import os
import subprocess
import sys
import tempfile


def main():
    binary = os.environ["GNNREC_BIN"]
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([binary, "synth", "--out", out, "--gzip", "--seed", "5", "--users", "700",
                        "--items", "300", "--interactions", "7000", "--category", "Toys and Games"],
                       check=True, capture_output=True)
        truth = json.load(open(os.path.join(out, "synth_truth.json")))
        assert truth["users"] == 700 and truth["items"] == 300, truth
        with gzip.open(os.path.join(out, "meta_Toys_and_Games.jsonl.gz"), "rt") as f:
            meta = [json.loads(line) for line in f]
        assert len(meta) == 300, len(meta)
        asins = {m["parent_asin"] for m in meta}
        assert len(asins) == 300
        for m in meta:
            assert isinstance(m["title"], str) and m["title"]
            assert m["price"] is None or isinstance(m["price"], float)
            assert m["store"] is None or isinstance(m["store"], str)
            assert m["categories"][0] == "Toys and Games"
            assert isinstance(m["details"], dict) and isinstance(m["features"], list)
        with gzip.open(os.path.join(out, "Toys_and_Games.jsonl.gz"), "rt") as f:
            reviews = [json.loads(line) for line in f]
        assert len(reviews) == truth["interactions"], (len(reviews), truth["interactions"])
        users = set()
        for r in reviews:
            assert isinstance(r["rating"], float) and 1.0 <= r["rating"] <= 5.0
            assert isinstance(r["timestamp"], int) and r["timestamp"] > 1_500_000_000_000
            assert isinstance(r["verified_purchase"], bool)
            assert isinstance(r["helpful_vote"], int)
            assert r["parent_asin"] in asins
            users.add(r["user_id"])
        assert len(users) == 700, len(users)
    print("ok: %d reviews, %d items" % (len(reviews), len(meta)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
