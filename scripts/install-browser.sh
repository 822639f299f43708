#!/usr/bin/env bash
# Optional: Debian's chromium, used only to screenshot the eval report (scripts/screenshot-report.sh).
# Not needed to build or test gnnrec, so CI does not run it.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "install-browser: chromium present ($(chromium --version 2>/dev/null || true))"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
