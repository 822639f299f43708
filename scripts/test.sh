#!/usr/bin/env bash
# The test command: installs dependencies, builds, runs every test (CUDA tests skip without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh "$@"
cd "${GNNREC_BUILD_DIR:-build}"
ctest --output-on-failure -j "${GNNREC_JOBS:-$(nproc)}" --timeout 1800
