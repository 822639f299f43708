# Shared by the profiling scripts (sourced, not run).

# find_tool NAME: prints the path of an Nsight tool, looking at PATH, the CUDA toolkit and the
# standalone Nsight installs under /opt/nvidia; prints nothing when absent.
find_tool() {
  local name=$1 p
  if p=$(command -v "$name" 2>/dev/null); then
    echo "$p"
    return
  fi
  for p in /usr/local/cuda/bin/"$name" /usr/local/cuda-*/bin/"$name" \
    /opt/nvidia/nsight-systems/*/bin/"$name" /opt/nvidia/nsight-compute/*/"$name" \
    /usr/local/cuda/nsight-systems-*/bin/"$name" /usr/local/cuda/nsight-compute-*/"$name"; do
    if [ -x "$p" ]; then
      echo "$p"
      return
    fi
  done
}

# The gnnrec binaries: $GNNREC_BIN, else dist/bin or build/bin next to this folder, else PATH.
gnnrec_bin() {
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  if [ -n "${GNNREC_BIN:-}" ]; then echo "$GNNREC_BIN"; return; fi
  for p in "$here/../../../bin/gnnrec" "$here/../dist/bin/gnnrec" "$here/../build/bin/gnnrec"; do
    if [ -x "$p" ]; then echo "$(cd "$(dirname "$p")" && pwd)/gnnrec"; return; fi
  done
  command -v gnnrec || true
}

# default_command ARGS...: sets the array `cmd` to ARGS, or to the default profiling target.
default_command() {
  if [ $# -gt 0 ]; then
    cmd=("$@")
    return
  fi
  local g
  g=$(gnnrec_bin)
  if [ -z "$g" ]; then
    echo "profiling: no command given and no gnnrec binary found (set GNNREC_BIN)" >&2
    exit 2
  fi
  if "$g" --help 2>/dev/null | grep -qE '^ +train\b'; then
    # shellcheck disable=SC2206
    cmd=("$g" train ${GNNREC_PROFILE_TRAIN_ARGS:-})
  else
    echo "profiling: 'gnnrec train' does not exist yet; profiling bench_ops instead" >&2
    cmd=("$(dirname "$g")/bench_ops" --quick --device cuda)
  fi
}
