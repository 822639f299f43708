#!/usr/bin/env bash
# Optional tools for the serving docs and benchmark, kept out of install-deps.sh because they are
# large and no test needs them: Debian's chromium (headless screenshots of the "Recommended for
# You" page, docs/serving-page.png), a font for it, and wrk (bench/serve_wrk.sh).
# Idempotent: packages already present are skipped.
set -euo pipefail
pkgs=(chromium fonts-dejavu-core wrk)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-browser: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "install-browser: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
