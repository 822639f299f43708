#!/usr/bin/env bash
# The demo: installs dependencies, builds, then runs the whole pipeline on built-in data
# (gnnrec synth's `tiny` preset): synth -> prepare -> train -> embed -> recommend -> eval,
# and finally serves the model at http://127.0.0.1:${GNNREC_DEMO_PORT:-8080}/ (Ctrl-C stops).
# GNNREC_DEMO_NO_SERVE=1 skips the server (used by the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
bin=$(pwd)/${GNNREC_BUILD_DIR:-build}/bin/gnnrec
work=${GNNREC_DEMO_DIR:-demo}
rm -rf "$work"
mkdir -p "$work"
"$bin" info
"$bin" synth --preset tiny --seed 1 --out "$work/raw"
"$bin" prepare --input "$work/raw/Electronics.jsonl" --meta "$work/raw/meta_Electronics.jsonl" \
  --out "$work/dataset"
"$bin" train --dataset "$work/dataset" --out "$work/run" --set epochs=8 --set dim=32 \
  --set batch_size=512
"$bin" embed --run "$work/run" --out "$work/export"
"$bin" recommend --embeddings "$work/export" --k 20 --out "$work/recs"
"$bin" eval --recommendations "$work/recs" --run "$work/run" --out "$work/report"
echo "report: $work/report/report.html"
if [ -z "${GNNREC_DEMO_NO_SERVE:-}" ]; then
  port=${GNNREC_DEMO_PORT:-8080}
  echo "serving the demo model: http://127.0.0.1:$port/  (Ctrl-C to stop)"
  exec "$bin" serve --model "$work/export" --recommendations "$work/recs" --port "$port"
fi
