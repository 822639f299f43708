#!/usr/bin/env bash
# The demo: installs dependencies, builds, then runs the pipeline on built-in data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
bin=${GNNREC_BUILD_DIR:-build}/bin/gnnrec
"$bin" info
