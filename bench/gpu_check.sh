#!/usr/bin/env bash
# The one script to run on a GPU machine (docs/gpu-check.md): environment, GPU tests,
# benchmarks and peers, Gowalla end to end, compute-sanitizer, CPU tests, Python tests, then a
# summary table. The order is the priority: past the time budget the later steps are skipped.
#
# usage: gpu_check.sh OUTDIR [DATADIR]
#   Run from a packaged dist/ (dist/share/gnnrec/gpu_check.sh) or from a repo checkout
#   (bench/gpu_check.sh: uses dist/, else unpacks dist.tar.xz, else build/). Programs by glob
#   (bin/test_*, bin/bench_*, share/gnnrec/py/test_*.py, share/gnnrec/peers/*.py), so new ones
#   are picked up without editing this file. Without a GPU the GPU steps are skipped, clearly.
# writes (at most 5 files, so they all come back from a device run):
#   OUTDIR/summary.md     the table below plus the tail of each failed step's output
#   OUTDIR/results.json   {date, host, gpu, commit, info, steps[], benches{}, peers{}}
#   OUTDIR/gpu_check.log  everything every step printed
#   OUTDIR/sanitizer.log  compute-sanitizer output (only when it ran)
#   OUTDIR/gowalla.tar.gz bench/gowalla.sh results on the GPU (only when it ran)
# exit status: 0 when every step passed or was skipped, 1 otherwise.
# env: GPU_CHECK_BUDGET_S (420: total seconds; later optional steps are skipped past it),
#      GPU_CHECK_RACECHECK (1: also run racecheck), GPU_CHECK_BENCH_ARGS (extra bench options),
#      GNNREC_DIST (a dist folder to use), GPU_CHECK_PYTHON (python with numpy for the py tests),
#      GPU_CHECK_CPU_TESTS (1; 0 skips the CPU tests), GPU_CHECK_GOWALLA (1; 0 skips Gowalla),
#      GPU_CHECK_GOWALLA_S (240), GOWALLA_LGCN_MINUTES (1.5), GOWALLA_SAGE_MINUTES (1)
set -uo pipefail

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
out=$1
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)
datadir=${2:-}
script_dir=$(cd "$(dirname "$0")" && pwd)
t_start=$(date +%s)
budget=${GPU_CHECK_BUDGET_S:-420}

# ---- layout ---------------------------------------------------------------------------------
# A carried dist.tar.xz (GNNREC_DIST_TAR=1 scripts/package.sh) beside bench/ is unpacked first.
if [ -z "${GNNREC_DIST:-}" ] && [ ! -d "$script_dir/../dist" ] && [ -f "$script_dir/../dist.tar.xz" ]; then
  echo "gpu_check: unpacking $script_dir/../dist.tar.xz"
  tar -C "$script_dir/.." -xJf "$script_dir/../dist.tar.xz" || exit 2
fi
if [ -n "${GNNREC_DIST:-}" ]; then
  root=$(cd "$GNNREC_DIST" && pwd)
elif [ -x "$script_dir/../../bin/gnnrec" ]; then
  root=$(cd "$script_dir/../.." && pwd)  # dist/share/gnnrec/gpu_check.sh
elif [ -x "$script_dir/../dist/bin/gnnrec" ]; then
  root=$(cd "$script_dir/../dist" && pwd)  # repo checkout with a carried dist/
else
  root=""
fi
if [ -n "$root" ]; then
  bin=$root/bin
  testbin=$root/bin
  share=$root/share/gnnrec
  pydir=$share/py
  peerdir=$share/peers
  gnnrec_build=$root
  [ -z "$datadir" ] && [ -d "$share/data" ] && datadir=$share/data
else
  repo=$(cd "$script_dir/.." && pwd)
  bin=$repo/build/bin
  testbin=$repo/build/tests
  pydir=$repo/tests/py
  peerdir=$repo/bench/peers
  gnnrec_build=$repo/build
  if [ ! -x "$bin/gnnrec" ]; then
    echo "gpu_check: no dist/ (scripts/package.sh) or build/bin/gnnrec found near $script_dir" >&2
    exit 2
  fi
fi
if [ -z "$datadir" ]; then
  for d in "$script_dir/../../shared/data" "$script_dir/../shared/data" "$(pwd)/shared/data"; do
    if [ -d "$d" ]; then datadir=$(cd "$d" && pwd); break; fi
  done
fi

log=$out/gpu_check.log
sanlog=$out/sanitizer.log
: >"$log"
rm -f "$sanlog" "$out/summary.md" "$out/results.json"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/json" "$tmp/test_tmp"
export GNNREC_TEST_TMP=$tmp/test_tmp
export GNNREC_BIN=$bin/gnnrec
export GNNREC_BUILD=$gnnrec_build
# A carried gpu-data.tar.xz (beside bench/; docs/gpu-check.md: gowalla-lightgcn, ml-100k) joins
# the data folder: a temporary folder with its datasets plus links to DATADIR's others.
if [ -f "$script_dir/../gpu-data.tar.xz" ]; then
  mkdir -p "$tmp/data"
  if tar -C "$tmp/data" -xJf "$script_dir/../gpu-data.tar.xz"; then
    if [ -n "$datadir" ]; then
      for d in "$datadir"/*; do [ -e "$tmp/data/$(basename "$d")" ] || ln -s "$d" "$tmp/data/"; done
    fi
    datadir=$tmp/data
  fi
fi
[ -n "$datadir" ] && export GNNREC_DATA_DIR=$datadir

# ---- step bookkeeping -----------------------------------------------------------------------
names=() statuses=() secs=() notes=()
any_fail=0
elapsed() { echo $(($(date +%s) - t_start)); }
# Seconds left before the budget; a step gets min(its timeout, what is left).
left() { echo $((budget - $(elapsed))); }
record() {  # name status seconds note
  names+=("$1") statuses+=("$2") secs+=("$3") notes+=("$(printf '%s' "$4" | tr -d '"\\' | tr '\n\t|' '   ')")
  case "$2" in FAIL | TIMEOUT) any_fail=1 ;; esac
  printf '[%4ss] %-44s %-8s %6ss  %s\n' "$(elapsed)" "$1" "$2" "$3" "$4"
}
skip() { record "$1" SKIP 0 "$2"; }
# run_step NAME TIMEOUT_S [--sanitizer] CMD...: output to the log (and the sanitizer log).
run_step() {
  local name=$1 limit=$2
  shift 2
  local dest=$log
  if [ "$1" = "--sanitizer" ]; then dest=$sanlog; shift; fi
  local remaining
  remaining=$(left)
  if [ "$remaining" -lt 15 ]; then
    skip "$name" "time budget (${budget}s) spent"
    return 0
  fi
  [ "$limit" -gt "$remaining" ] && limit=$remaining
  local t0 t1 rc status note=""
  t0=$(date +%s.%N)
  {
    echo
    echo "=================== $name  ($(date -u +%H:%M:%S), limit ${limit}s)"
    echo "\$ $*"
  } >>"$dest"
  timeout -k 5 "$limit" "$@" >"$tmp/step.out" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  cat "$tmp/step.out" >>"$dest"
  echo "--- exit $rc" >>"$dest"
  case $rc in
    0) status=PASS ;;
    124 | 137) status=TIMEOUT note="killed after ${limit}s" ;;
    *) status=FAIL note="exit $rc" ;;
  esac
  # GoogleTest: say how many ran, were skipped or failed.
  local ran skipped failed
  ran=$(grep -o '^\[==========\] [0-9]* tests\? from .* ran' "$tmp/step.out" | grep -o '[0-9]*' | head -1)
  skipped=$(grep -o '^\[  SKIPPED \] [0-9]* test' "$tmp/step.out" | grep -o '[0-9]*' | head -1)
  failed=$(grep -o '^\[  FAILED  \] [0-9]* test' "$tmp/step.out" | grep -o '[0-9]*' | head -1)
  [ -n "$ran" ] && note="${note:+$note; }$ran tests${skipped:+, $skipped skipped}${failed:+, $failed failed}"
  if [ "$dest" = "$sanlog" ]; then
    local summary
    summary=$(grep -m1 'ERROR SUMMARY' "$tmp/step.out" | sed 's/=* *//')
    [ -n "$summary" ] && note="${note:+$note; }$summary"
  fi
  if [ "$status" != PASS ]; then
    {
      echo "#### $name ($status)"
      echo '```'
      tail -n 25 "$tmp/step.out"
      echo '```'
    } >>"$tmp/failures.md"
  fi
  last_status=$status
  record "$name" "$status" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" "$note"
}

echo "gpu_check: binaries $bin, output $out, data ${datadir:-<none>}, budget ${budget}s"

# ---- environment ----------------------------------------------------------------------------
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -n) ($(uname -srm))"
  echo "cpus: $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  echo "glibc: $(ldd --version 2>&1 | head -1)"
  echo "commit (package): $(cat "$share/COMMIT" 2>/dev/null || echo n/a)"
} >>"$log"
have_smi=0
if command -v nvidia-smi >/dev/null 2>&1; then
  have_smi=1
  run_step "nvidia-smi" 30 nvidia-smi
else
  skip "nvidia-smi" "not found"
fi

# Missing CUDA libraries (dist/ carries none): look where toolkits and pip wheels keep them.
missing_libs() {
  for f in "$bin"/* "$testbin"/test_*; do [ -x "$f" ] && ldd "$f" 2>/dev/null; done |
    awk '/not found/ {print $1}' | sort -u
}
missing=$(missing_libs)
if [ -n "$missing" ]; then
  cands="/usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib"
  cands="$cands $(ls -d /usr/local/cuda-*/lib64 /usr/local/cuda-*/targets/x86_64-linux/lib 2>/dev/null | tr '\n' ' ')"
  for py in python3 /usr/bin/python3; do
    nv=$("$py" -c 'import nvidia, sys; print(" ".join(nvidia.__path__))' 2>/dev/null) || continue
    cands="$cands $(find $nv -maxdepth 3 -type d -name lib 2>/dev/null | tr '\n' ' ')"
  done
  for lib in $missing; do
    for d in $cands; do
      if [ -e "$d/$lib" ]; then
        case ":${LD_LIBRARY_PATH:-}:" in *":$d:"*) ;; *) export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;; esac
        echo "gpu_check: $lib found in $d (added to LD_LIBRARY_PATH)" >>"$log"
        break
      fi
    done
  done
  missing=$(missing_libs)
fi
if [ -n "$missing" ]; then
  record "shared libraries" FAIL 0 "not found: $(echo $missing)"
else
  record "shared libraries" PASS 0 "all resolve${LD_LIBRARY_PATH:+ (LD_LIBRARY_PATH=$LD_LIBRARY_PATH)}"
fi

run_step "gnnrec info" 60 "$bin/gnnrec" info
"$bin/gnnrec" info --json >"$tmp/info.json" 2>>"$log" || echo null >"$tmp/info.json"
have_gpu=0
grep -q '"compute_capability"' "$tmp/info.json" && have_gpu=1
gpu_name=$(grep -o '"name": *"[^"]*"' "$tmp/info.json" | head -1 | sed 's/.*: *"\(.*\)"/\1/')
commit=$(grep -o '"commit": *"[^"]*"' "$tmp/info.json" | head -1 | sed 's/.*: *"\(.*\)"/\1/')
# The package's COMMIT also says whether uncommitted changes were built in ("+dirty").
[ -n "${share:-}" ] && [ -s "$share/COMMIT" ] && commit=$(tr -d '\n' <"$share/COMMIT")
if [ "$have_gpu" = 1 ]; then
  echo "gpu_check: GPU found: $gpu_name"
elif [ "$have_smi" = 1 ] && nvidia-smi -L >/dev/null 2>&1; then
  record "GPU visible to gnnrec" FAIL 0 "nvidia-smi lists a GPU but gnnrec finds none (libraries? see log)"
else
  echo "gpu_check: no GPU: GPU tests, sanitizer and GPU benchmark rows are skipped"
fi

tests=()
for t in "$testbin"/test_*; do [ -x "$t" ] && tests+=("$t"); done
[ ${#tests[@]} -eq 0 ] && record "test programs" FAIL 0 "none found in $testbin"

# ---- GPU tests ------------------------------------------------------------------------------
for t in "${tests[@]}"; do
  if [ "$have_gpu" = 1 ]; then
    run_step "$(basename "$t") [cuda]" 120 "$t" --gtest_filter='*Cuda*'
  else
    skip "$(basename "$t") [cuda]" "no GPU"
  fi
done

# ---- benchmarks -----------------------------------------------------------------------------
valid_json() {  # non-empty, starts with '{', and parses when a python is around
  [ -s "$1" ] || return 1
  [ "$(tr -d ' \n\t\r' <"$1" | head -c1)" = "{" ] || return 1
  local p
  for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1; then
      "$p" -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" >/dev/null 2>&1
      return $?
    fi
  done
  return 0
}
# A bench or peer that passed must have written valid JSON; otherwise its step fails.
expect_json() {
  local i=$((${#statuses[@]} - 1))
  if [ "${statuses[$i]}" = PASS ] && ! valid_json "$1"; then
    statuses[$i]=FAIL
    notes[$i]="exited 0 but wrote no valid JSON (--json PATH)"
    any_fail=1
    echo "         (no valid JSON written: counted as FAIL)"
  fi
}
for b in "$bin"/bench_*; do
  [ -x "$b" ] || continue
  # Only the benches with GPU rows (their --help lists --device); the others read input files.
  timeout 10 "$b" --help 2>&1 | grep -q -- '--device' || continue
  # shellcheck disable=SC2086
  run_step "$(basename "$b")" 150 "$b" --json "$tmp/json/bench.$(basename "$b").json" ${GPU_CHECK_BENCH_ARGS:-}
  expect_json "$tmp/json/bench.$(basename "$b").json"
done

# ---- peers (PyTorch / PyG), when torch imports --------------------------------------------
peer_py=""
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import torch' >/dev/null 2>&1; then peer_py=$p; break; fi
done
for s in "$peerdir"/*.py; do
  [ -e "$s" ] || continue
  # Helpers that a bench calls with its own arguments say so in their first lines.
  head -3 "$s" | grep -q 'peer for bench_' && continue
  if [ -z "$peer_py" ]; then skip "peer $(basename "$s")" "torch does not import"; continue; fi
  run_step "peer $(basename "$s" .py)" 150 "$peer_py" "$s" --json "$tmp/json/peer.$(basename "$s" .py).json"
  expect_json "$tmp/json/peer.$(basename "$s" .py).json"
done

# ---- Gowalla end to end on the GPU (bench/gowalla.sh), with the PyTorch/PyG LightGCN peer ------
# Needs DATADIR/gowalla-lightgcn (see the carried gpu-data.tar.xz above). Writes OUTDIR/gowalla.tar.gz: per model config, metrics.jsonl,
# results.json, report.json, and peer_lightgcn.json.
gowalla_script=""
for s in "$script_dir/gowalla.sh" "$share/gowalla.sh"; do [ -f "$s" ] && { gowalla_script=$s; break; }; done
gowalla_data=$datadir
if [ "$have_gpu" = 0 ]; then
  skip "gowalla [cuda]" "no GPU"
elif [ "${GPU_CHECK_GOWALLA:-1}" = 0 ]; then
  skip "gowalla [cuda]" "GPU_CHECK_GOWALLA=0"
elif [ -z "$gowalla_script" ] || [ ! -d "${gowalla_data:-/nonexistent}/gowalla-lightgcn" ]; then
  skip "gowalla [cuda]" "no gowalla.sh or no gowalla-lightgcn data"
else
  mkdir -p "$tmp/gowalla"
  run_step "gowalla lightgcn+graphsage [cuda]" "${GPU_CHECK_GOWALLA_S:-240}" env DEVICE=cuda \
    GNNREC_BIN="$bin/gnnrec" GNNREC_DATA_DIR="$gowalla_data" RESULTS_DIR="$tmp/gowalla/results" \
    LGCN_MINUTES="${GOWALLA_LGCN_MINUTES:-1.5}" SAGE_MINUTES="${GOWALLA_SAGE_MINUTES:-1}" \
    bash "$gowalla_script" "$tmp/gowalla/work"
  tar -C "$tmp/gowalla" -czf "$out/gowalla.tar.gz" results 2>>"$log" || true
fi

# ---- compute-sanitizer (memcheck on every program's *Cuda* tests) ---------------------------
sanitizer=$(command -v compute-sanitizer 2>/dev/null ||
  ls /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer 2>/dev/null | head -1)
sanitizer_ok=1
run_sanitizer() {  # tool
  local tool=$1
  for t in "${tests[@]}"; do
    local name
    name="$(basename "$t") [$tool]"
    if [ "$sanitizer_ok" = 0 ]; then skip "$name" "compute-sanitizer unusable here"; continue; fi
    # A program without *Cuda* tests makes no CUDA call, which the tool reports as an error.
    if ! "$t" --gtest_list_tests --gtest_filter='*Cuda*' 2>/dev/null | grep -q '^  '; then
      skip "$name" "no *Cuda* tests"
      continue
    fi
    run_step "$name" 150 --sanitizer "$sanitizer" --tool "$tool" --error-exitcode 99 \
      "$t" --gtest_filter='*Cuda*'
    if [ "$last_status" != PASS ] && grep -q -E 'Device not supported|LibraryNotLoaded|Unable to (find|load)' "$tmp/step.out"; then
      # The tool itself cannot run on this machine (e.g. gVisor): not a failure of our code.
      sanitizer_ok=0
      statuses[${#statuses[@]}-1]=SKIP
      notes[${#notes[@]}-1]="compute-sanitizer cannot run on this machine"
      any_fail=0
      for s in "${statuses[@]}"; do case $s in FAIL | TIMEOUT) any_fail=1 ;; esac; done
      echo "         (compute-sanitizer cannot run on this machine; counted as SKIP)"
    fi
  done
}
if [ "$have_gpu" = 0 ]; then
  skip "compute-sanitizer" "no GPU"
elif [ -z "$sanitizer" ]; then
  skip "compute-sanitizer" "not found"
else
  run_sanitizer memcheck
fi

# ---- CPU tests (GPU_CHECK_CPU_TESTS=0 skips them: CI runs them on every commit) ----------------
for t in "${tests[@]}"; do
  if [ "${GPU_CHECK_CPU_TESTS:-1}" = 0 ]; then skip "$(basename "$t") [cpu]" "GPU_CHECK_CPU_TESTS=0"; continue; fi
  run_step "$(basename "$t") [cpu]" 150 "$t" --gtest_filter='-*Cuda*'
done

# ---- Python tests ---------------------------------------------------------------------------
py=""
for p in ${GPU_CHECK_PYTHON:-} /usr/bin/python3 python3; do
  if "$p" -c 'import numpy' >/dev/null 2>&1; then py=$p; break; fi
done
for s in "$pydir"/test_*.py; do
  [ -e "$s" ] || continue
  if [ -z "$py" ]; then skip "$(basename "$s")" "no python3 with numpy"; continue; fi
  run_step "$(basename "$s")" 120 "$py" "$s"
done

# ---- racecheck (optional, last: shared-memory races) ----------------------------------------
if [ "$have_gpu" = 1 ] && [ -n "$sanitizer" ] && [ "$sanitizer_ok" = 1 ] && [ "${GPU_CHECK_RACECHECK:-1}" = 1 ]; then
  run_sanitizer racecheck
fi

# ---- results.json ---------------------------------------------------------------------------
emit_group() {  # prefix: "name": <json>, ... for tmp/json/<prefix>.<name>.json
  local first=1 f n
  for f in "$tmp/json/$1".*.json; do
    [ -e "$f" ] || continue
    n=$(basename "$f" .json)
    n=${n#"$1".}
    [ $first = 1 ] || printf ',\n'
    first=0
    if valid_json "$f"; then printf '    "%s": ' "$n"; cat "$f"; else printf '    "%s": null' "$n"; fi
  done
}
{
  printf '{\n  "date": "%s",\n  "host": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -n)"
  printf '  "gpu": "%s",\n  "have_gpu": %s,\n  "commit": "%s",\n' "${gpu_name:-none}" \
    "$([ "$have_gpu" = 1 ] && echo true || echo false)" "${commit:-unknown}"
  printf '  "data_dir": "%s",\n  "seconds": %s,\n' "${datadir:-}" "$(elapsed)"
  printf '  "info": '
  if valid_json "$tmp/info.json"; then cat "$tmp/info.json"; else echo null; fi
  printf ',\n  "steps": [\n'
  for i in "${!names[@]}"; do
    [ "$i" = 0 ] || printf ',\n'
    printf '    {"name": "%s", "status": "%s", "seconds": %s, "note": "%s"}' \
      "${names[$i]}" "${statuses[$i]}" "${secs[$i]}" "${notes[$i]}"
  done
  printf '\n  ],\n  "benches": {\n'
  emit_group bench
  printf '\n  },\n  "peers": {\n'
  emit_group peer
  printf '\n  }\n}\n'
} >"$out/results.json"

# ---- summary --------------------------------------------------------------------------------
n_pass=0 n_fail=0 n_skip=0
for s in "${statuses[@]}"; do
  case $s in PASS) n_pass=$((n_pass + 1)) ;; SKIP) n_skip=$((n_skip + 1)) ;; *) n_fail=$((n_fail + 1)) ;; esac
done
{
  echo "# gpu_check $(date -u +%Y-%m-%d) on $(uname -n): ${gpu_name:-no GPU}"
  echo
  echo "commit ${commit:-unknown}; binaries $bin; data ${datadir:-none}; $(elapsed)s;" \
    "$n_pass passed, $n_fail failed, $n_skip skipped"
  echo
  echo "| step | status | seconds | note |"
  echo "| --- | --- | ---: | --- |"
  for i in "${!names[@]}"; do
    echo "| ${names[$i]} | ${statuses[$i]} | ${secs[$i]} | ${notes[$i]} |"
  done
  if [ -s "$tmp/failures.md" ]; then
    echo
    echo "## Output of the steps that did not pass (last lines; full output in gpu_check.log)"
    echo
    cat "$tmp/failures.md"
  fi
} >"$out/summary.md"

echo
echo "==================== gpu_check summary ($(elapsed)s; ${gpu_name:-no GPU}) ===================="
printf '%-44s %-8s %8s  %s\n' "step" "status" "seconds" "note"
for i in "${!names[@]}"; do
  printf '%-44s %-8s %8s  %s\n' "${names[$i]}" "${statuses[$i]}" "${secs[$i]}" "${notes[$i]}"
done
echo "$n_pass passed, $n_fail failed, $n_skip skipped; files in $out: $(ls "$out" | tr '\n' ' ')"
exit $any_fail
