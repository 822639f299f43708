#!/usr/bin/env bash
# Profiles a command with Nsight Systems and summarises it (top kernels, memory operations, NVTX
# ranges: the GNNREC_NVTX_RANGE scopes in the code).
#
# usage: profiling/nsys_train.sh OUTDIR [-- COMMAND ARGS...]
#   Without a command: a short `gnnrec train` when that subcommand exists
#   (args from $GNNREC_PROFILE_TRAIN_ARGS), else `bench_ops --quick --device cuda`.
# writes (5 files, so they all come back from a device run):
#   OUTDIR/profile.nsys-rep   open in the Nsight Systems GUI
#   OUTDIR/stats_*.csv        nsys stats: kernels, memory operations, NVTX ranges
#   OUTDIR/summary.md         profiling/summarise.py of those CSVs
# env: NSYS (path to nsys), NSYS_TRACE (cuda,nvtx,osrt), GNNREC_BIN (gnnrec to use)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
out=$1
shift
[ "${1:-}" = "--" ] && shift
mkdir -p "$out"
out=$(cd "$out" && pwd)
# shellcheck source=profiling/common.sh
source "$here/common.sh"

nsys=${NSYS:-$(find_tool nsys)}
if [ -z "$nsys" ]; then
  echo "nsys_train: Nsight Systems (nsys) not found on PATH or under /usr/local/cuda*/ or" \
    "/opt/nvidia/; set NSYS=/path/to/nsys" >&2
  exit 3
fi
default_command "$@"
echo "nsys_train: $nsys"
echo "nsys_train: profiling: ${cmd[*]}"

rm -f "$out"/profile.* "$out"/stats_*.csv "$out/summary.md"
"$nsys" profile --trace="${NSYS_TRACE:-cuda,nvtx,osrt}" --sample=none --cpuctxsw=none \
  --force-overwrite=true --output="$out/profile" "${cmd[@]}"
rep=$out/profile.nsys-rep
[ -e "$rep" ] || rep=$out/profile.qdrep  # nsys before 2021.4
if [ ! -e "$rep" ]; then
  echo "nsys_train: nsys wrote no report (a .qdstrm alone means its importer failed)" >&2
  ls -la "$out" >&2
  exit 1
fi

# Report names changed in nsys 2023.x (gpukernsum -> cuda_gpu_kern_sum, ...): try both.
stats() {  # new-name old-name
  local f
  for name in "$1" "$2"; do
    if "$nsys" stats --force-export=true --report "$name" --format csv \
      --output "$out/stats" "$rep" >/dev/null 2>&1; then
      f=$(ls "$out"/stats_"$name"*.csv 2>/dev/null | head -1)
      if [ -n "$f" ]; then
        [ "$f" = "$out/stats_$1.csv" ] || mv "$f" "$out/stats_$1.csv"
        return 0
      fi
    fi
  done
  echo "nsys_train: nsys stats --report $1 produced nothing" >&2
}
stats cuda_gpu_kern_sum gpukernsum
stats cuda_gpu_mem_time_sum gpumemtimesum
stats nvtx_sum nvtxsum
rm -f "$out/profile.sqlite"
python3 "$here/summarise.py" --top "${TOP:-20}" -o "$out/summary.md" "$out"/stats_*.csv
cat "$out/summary.md"
echo "nsys_train: wrote $(ls "$out" | tr '\n' ' ')in $out"
