#!/usr/bin/env bash
# Headless screenshot of an eval report page: scripts/screenshot-report.sh REPORT.html OUT.png
# [WIDTHxHEIGHT]. Needs chromium (scripts/install-browser.sh). Nothing is fetched: the page is
# self-contained and background networking is off.
set -euo pipefail
html=$(realpath "$1")
out=$(realpath -m "$2")
size=${3:-1200,1600}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
  --user-data-dir="$profile" --screenshot="$out" --window-size="$size" "file://$html" \
  >/dev/null 2>&1
ls -l "$out"
