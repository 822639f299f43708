#!/usr/bin/env bash
# Installs gnnrec's build and test dependencies from Debian packages.
# Idempotent: packages already present are skipped, so a second run is quick.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build pkg-config git
  libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  libsimdjson-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libopenblas-dev zlib1g-dev libomp-dev libcpp-httplib-dev libssl-dev
  python3 python3-numpy
  prometheus  # promtool: tests/py/test_serve_http.py checks /metrics with it
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
