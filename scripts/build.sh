#!/usr/bin/env bash
# Configures and builds gnnrec into build/ (or $GNNREC_BUILD_DIR). Extra args go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${GNNREC_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-Release} "$@" >/dev/null
cmake --build "$build" -j "${GNNREC_JOBS:-$(nproc)}"
