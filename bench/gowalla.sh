#!/usr/bin/env bash
# Gowalla (LightGCN split) end to end: prepare, train lightgcn and graphsage, then embed ->
# recommend -> eval for both, copying the small result files (config, metrics.jsonl,
# results.json, report.json) into RESULTS_DIR; on a GPU also times the PyTorch / PyG peer
# (bench/lightgcn_peer.py) on the same prepared dataset and writes RESULTS_DIR/peer_lightgcn.json.
# Usage: bench/gowalla.sh [WORK_DIR] (default /tmp/gnnrec-gowalla)
# env: GNNREC_BIN, GNNREC_DATA_DIR, DEVICE (cpu | cuda), RESULTS_DIR
#      (bench/results/<date>-gowalla-<device>), LGCN_MINUTES (85), SAGE_MINUTES (45),
#      LGCN_EPOCHS (330), SAGE_EPOCHS (50), SAGE_DROPOUT (0.1), PEER_PYTHON (python3 with torch;
#      the peer is skipped without)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${GNNREC_BIN:-$here/build/bin/gnnrec}
data=${GNNREC_DATA_DIR:-$here/../shared/data}
work=${1:-/tmp/gnnrec-gowalla}
device=${DEVICE:-cpu}
out=${RESULTS_DIR:-$here/bench/results/$(date +%Y-%m-%d)-gowalla-$device}
mkdir -p "$work" "$out"
"$bin" prepare --input "$data/gowalla-lightgcn" --out "$work/gowalla" --force

# LightGCN as in the paper (3 layers, d = 64, BPR, decay 1e-4, positives drawn per user as its
# code does), with a large batch and a cosine learning-rate schedule so it converges within the
# time budget on 2 cores.
"$bin" train --dataset "$work/gowalla" --out "$work/lightgcn" --force --device "$device" \
  --set model=lightgcn --set layers=3 --set dim=64 --set batch_size=16384 --set lr=0.01 \
  --set lr_schedule=cosine --set lr_min=0.0005 --set epochs="${LGCN_EPOCHS:-330}" \
  --set edge_sampling=user --set max_minutes="${LGCN_MINUTES:-85}" --set eval_every=10 \
  --set emb_l2=1e-4 --set patience=0 --set ks=[20] --set metric=recall@20
# GraphSAGE: 2 mean layers with sampled fanouts [10, 5], the input and both layers' outputs
# averaged (layer_combination=mean), LightGCN's decay on the id embeddings, per-user positives,
# dropout 0.1 on each layer's input, unnormalised dot scores
# (bench/results/2026-11-30-gowalla-cpu-user/README.md).
"$bin" train --dataset "$work/gowalla" --out "$work/graphsage" --force --device "$device" \
  --set model=graphsage --set normalize=false --set layers=2 --set fanouts=[10,5] \
  --set dim=64 --set batch_size=4096 --set lr=0.01 --set lr_schedule=cosine \
  --set lr_min=0.0005 --set epochs="${SAGE_EPOCHS:-50}" --set max_minutes="${SAGE_MINUTES:-45}" \
  --set layer_combination=mean --set emb_l2=1e-4 --set edge_sampling=user \
  --set dropout="${SAGE_DROPOUT:-0.1}" \
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

# The peer, side by side with the lightgcn epochs above (same dataset, batch, layers, dim).
peer_py=""
for p in ${PEER_PYTHON:-} python3 /usr/bin/python3; do
  if "$p" -c 'import torch' >/dev/null 2>&1; then peer_py=$p; break; fi
done
if [ "$device" != cpu ] && [ -n "$peer_py" ]; then
  "$peer_py" "$(dirname "$0")/lightgcn_peer.py" --dataset "$work/gowalla" --device cuda \
    --json "$out/peer_lightgcn.json" || echo "gowalla: the peer failed (see above)" >&2
fi
echo "results in $out"
