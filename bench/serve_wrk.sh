#!/usr/bin/env bash
# Load test of `gnnrec serve` with wrk (Debian package wrk: apt-get install wrk).
# Generates a synthetic model (tests/py/serve_fixture.py), starts the server on a free loopback
# port, and runs wrk at 1, 16 and 64 connections against the precomputed and the live endpoint.
# Writes bench/results/serve_wrk.json and bench/results/serve_wrk.md.
#
# Env: GNNREC_BIN (default build/bin/gnnrec), USERS/ITEMS/DIM/K (fixture size), DURATION (s per
# run), SERVE_THREADS (server workers, default 64), CONNS ("1 16 64").
# wrk and the server share this machine's cores, so the numbers are a lower bound of what the
# server alone would do; results/serve_wrk.md records the core count.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${GNNREC_BIN:-build/bin/gnnrec}
users=${USERS:-5000} items=${ITEMS:-20000} dim=${DIM:-64} k=${K:-50}
duration=${DURATION:-5}
conns=${CONNS:-"1 16 64"}
command -v wrk >/dev/null || { echo "serve_wrk: wrk not found (Debian: apt-get install wrk)"; exit 1; }
[ -x "$bin" ] || { echo "serve_wrk: $bin not built (scripts/build.sh)"; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "serve_wrk: generating $users users x $items items, d=$dim, precomputed K=$k"
/usr/bin/python3 tests/py/serve_fixture.py "$work/fx" --users "$users" --items "$items" \
  --dim "$dim" --k "$k" >/dev/null
head -n $((users - 2)) "$work/fx/dataset/user_ids.txt" >"$work/users.txt"

# One worker per connection at the largest concurrency, so wrk measures service, not queueing
# for a worker (cpp-httplib holds a worker per open connection).
threads_opt=(--threads "${SERVE_THREADS:-64}")
"$bin" serve --model "$work/fx/model_a" --recommendations "$work/fx/recs_a" --port 0 \
  "${threads_opt[@]}" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
port=""
for _ in $(seq 100); do
  port=$(grep -o '127.0.0.1:[0-9]*' "$work/server.out" 2>/dev/null | head -1 | cut -d: -f2 || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/server.err"; echo "serve_wrk: server did not start"; exit 1; }
for _ in $(seq 200); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
server_threads=$(grep -o 'with [0-9]* worker threads' "$work/server.err" | grep -o '[0-9]*' || true)

runs=()
for endpoint in precomputed live; do
  if [ "$endpoint" = precomputed ]; then query="?k=10"; else query="?k=10&source=live"; fi
  for c in $conns; do
    t=$(( c < 2 ? 1 : 2 ))
    out=$(SERVE_USERS="$work/users.txt" SERVE_QUERY="$query" wrk -t "$t" -c "$c" -d "${duration}s" \
      --timeout 10s -s bench/serve_wrk.lua "http://127.0.0.1:$port")
    line=$(grep '^WRKJSON ' <<<"$out" | sed 's/^WRKJSON //')
    echo "serve_wrk: $endpoint c=$c: $line"
    runs+=("{\"endpoint\": \"$endpoint\", \"query\": \"$query\", \"connections\": $c, \"wrk_threads\": $t, \"result\": $line}")
  done
done

load=$(cut -d' ' -f1-3 /proc/loadavg)
live_topk=$(if [ -f runtime/ops_topk_stub.cpp ]; then echo "naive stub (runtime/ops_topk_stub.cpp)"; else echo "runtime/ops_topk"; fi)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//' || echo unknown)
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
mkdir -p bench/results
{
  echo "{"
  echo "  \"benchmark\": \"serve_wrk\", \"commit\": \"$commit\", \"date\": \"$(date -u +%FT%TZ)\","
  echo "  \"cpu\": \"$cpu\", \"cores\": $(nproc), \"server_threads\": ${server_threads:-null},"
  echo "  \"fixture\": {\"users\": $users, \"items\": $items, \"dim\": $dim, \"precomputed_k\": $k},"
  echo "  \"duration_s\": $duration, \"k\": 10, \"load_average_after\": \"$load\","
  echo "  \"live_topk\": \"$live_topk\","
  echo "  \"runs\": ["
  for i in "${!runs[@]}"; do
    sep=","; [ "$i" -eq $(( ${#runs[@]} - 1 )) ] && sep=""
    echo "    ${runs[$i]}$sep"
  done
  echo "  ]"
  echo "}"
} >bench/results/serve_wrk.json
/usr/bin/python3 - bench/results/serve_wrk.json >bench/results/serve_wrk.md <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("# gnnrec serve under wrk\n")
print("Commit %s, %s. %s, %d cores shared by wrk and the server (%s worker threads)."
      % (r["commit"], r["date"], r["cpu"], r["cores"], r["server_threads"]))
f = r["fixture"]
print("Synthetic model: %d users, %d items, d=%d, precomputed K=%d; every request asks k=%d for a "
      "random known user; %d s per run.\n" % (f["users"], f["items"], f["dim"], f["precomputed_k"],
                                              r["k"], r["duration_s"]))
print("Live requests score every item with topk_masked: %s. Load average after the runs "
      "(other jobs share the machine): %s.\n" % (r["live_topk"], r["load_average_after"]))
print("| endpoint | connections | requests/s | p50 ms | p90 ms | p99 ms | errors |")
print("|---|---:|---:|---:|---:|---:|---:|")
for run in r["runs"]:
    x = run["result"]
    print("| %s | %d | %.0f | %.3f | %.3f | %.3f | %d |" % (
        run["endpoint"], run["connections"], x["requests_per_s"], x["p50_ms"], x["p90_ms"],
        x["p99_ms"], sum(x["errors"].values())))
PY
cat bench/results/serve_wrk.md
