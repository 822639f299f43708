#!/usr/bin/env bash
# Profiles the kernels of a command with Nsight Compute (speed of light, memory, occupancy,
# launch statistics) and summarises them per kernel.
#
# usage: profiling/ncu_kernels.sh OUTDIR [-- COMMAND ARGS...]
#   Without a command: the same default as nsys_train.sh.
# writes (3 files):
#   OUTDIR/kernels.ncu-rep   open in the Nsight Compute GUI
#   OUTDIR/kernels.csv       ncu --csv --page details of that report
#   OUTDIR/summary.md        profiling/summarise.py of the CSV
# env: NCU (path to ncu), NCU_KERNELS (regex of kernel names, default all),
#      NCU_LAUNCH_SKIP (10: skip warm-up launches), NCU_LAUNCH_COUNT (40), NCU_SET (sections:
#      "basic" = SOL, memory, occupancy, launch stats; "full" = ncu's full set, slow)
# The clocks are left alone (--clock-control none), as measurements elsewhere use them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
out=$1
shift
[ "${1:-}" = "--" ] && shift
mkdir -p "$out"
out=$(cd "$out" && pwd)
# shellcheck source=profiling/common.sh
source "$here/common.sh"

ncu=${NCU:-$(find_tool ncu)}
if [ -z "$ncu" ]; then
  echo "ncu_kernels: Nsight Compute (ncu) not found on PATH, /usr/local/cuda*/bin or" \
    "/opt/nvidia/nsight-compute/; set NCU=/path/to/ncu" >&2
  exit 3
fi
default_command "$@"
echo "ncu_kernels: $ncu"
echo "ncu_kernels: profiling: ${cmd[*]}"

if [ "${NCU_SET:-basic}" = full ]; then
  sections=(--set full)
else
  sections=(--section SpeedOfLight --section MemoryWorkloadAnalysis --section Occupancy
    --section LaunchStats)
fi
rm -f "$out/kernels.ncu-rep" "$out/kernels.csv" "$out/summary.md"
"$ncu" --clock-control none "${sections[@]}" \
  --kernel-name-base demangled --kernel-name "regex:${NCU_KERNELS:-.}" \
  --launch-skip "${NCU_LAUNCH_SKIP:-10}" --launch-count "${NCU_LAUNCH_COUNT:-40}" \
  --export "$out/kernels" --force-overwrite "${cmd[@]}"
"$ncu" --import "$out/kernels.ncu-rep" --csv --page details >"$out/kernels.csv"
python3 "$here/summarise.py" --top "${TOP:-20}" -o "$out/summary.md" "$out/kernels.csv"
cat "$out/summary.md"
echo "ncu_kernels: wrote $(ls "$out" | tr '\n' ' ')in $out"
