#!/usr/bin/env bash
# Gowalla (LightGCN split) end to end: prepare, train lightgcn and graphsage, then embed ->
# recommend -> eval for both, copying the small result files (config, metrics.jsonl,
# results.json, report.json) into bench/results/<date>-gowalla-<device>/.
# Usage: bench/gowalla_cpu.sh [WORK_DIR] (default /tmp/gnnrec-gowalla); env GNNREC_BIN,
# GNNREC_DATA_DIR, LGCN_MINUTES (85), SAGE_MINUTES (45), DEVICE (cpu).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${GNNREC_BIN:-$here/build/bin/gnnrec}
data=${GNNREC_DATA_DIR:-$here/../shared/data}
work=${1:-/tmp/gnnrec-gowalla}
device=${DEVICE:-cpu}
out=$here/bench/results/$(date +%Y-%m-%d)-gowalla-$device
mkdir -p "$work" "$out"
"$bin" prepare --input "$data/gowalla-lightgcn" --out "$work/gowalla" --force

# LightGCN as in the paper (3 layers, d = 64, BPR, decay 1e-4), with a large batch and a
# cosine learning-rate schedule so it converges within the time budget on 2 cores.
"$bin" train --dataset "$work/gowalla" --out "$work/lightgcn" --force --device "$device" \
  --set model=lightgcn --set layers=3 --set dim=64 --set batch_size=16384 --set lr=0.01 \
  --set lr_schedule=cosine --set lr_min=0.0005 --set epochs=330 \
  --set max_minutes="${LGCN_MINUTES:-85}" --set eval_every=10 --set emb_l2=1e-4 \
  --set patience=0 --set ks=[20] --set metric=recall@20
# GraphSAGE: 2 mean layers with sampled fanouts [10, 5], residual, unnormalised dot scores.
"$bin" train --dataset "$work/gowalla" --out "$work/graphsage" --force --device "$device" \
  --set model=graphsage --set normalize=false --set layers=2 --set fanouts=[10,5] \
  --set dim=64 --set batch_size=4096 --set lr=0.01 --set lr_schedule=cosine \
  --set lr_min=0.0005 --set epochs=50 --set max_minutes="${SAGE_MINUTES:-45}" \
  --set eval_every=5 --set patience=0 --set ks=[20] --set metric=recall@20

for m in lightgcn graphsage; do
  "$bin" embed --run "$work/$m" --out "$work/$m/export" --force --device "$device"
  "$bin" recommend --embeddings "$work/$m/export" --k 20 --out "$work/$m/recs" --device "$device"
  "$bin" eval --recommendations "$work/$m/recs" --run "$work/$m" --out "$work/$m/report" --ks 20
  mkdir -p "$out/$m"
  cp "$work/$m/config.yaml" "$work/$m/metrics.jsonl" "$work/$m/results.json" \
     "$work/$m/report/report.json" "$out/$m/"
done
"$bin" info --json > "$out/machine.json"
echo "results in $out"
