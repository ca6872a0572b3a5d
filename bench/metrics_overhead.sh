#!/usr/bin/env bash
# What the metrics instrumentation costs on the request path: the same closed-loop load (c=32, 5 s,
# non-streaming then streaming, max_tokens 16) through a gateway built without metrics (BASE_BIN) and one
# with them (SLUICE_BIN), against `sluice sim --scenario instant`, alternating A B A B. Prints req/s and
# p50/p99 per run. ~45 s.
#
# Usage: BASE_BIN=/path/to/old/sluice bench/metrics_overhead.sh
# Environment: SLUICE_BIN (build/sluice), BASE_BIN (required), ROUNDS (2)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
BASE_BIN=${BASE_BIN:?set BASE_BIN to a sluice binary without the metrics}
ROUNDS=${ROUNDS:-2}
DIR=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$DIR"' EXIT

port_of() {  # waits for "listening on HOST:PORT" in $1 and prints PORT
  for _ in $(seq 100); do
    if grep -q "listening on" "$1"; then
      grep -o "listening on [0-9.]*:[0-9]*" "$1" | head -1 | sed 's/.*://'
      return
    fi
    sleep 0.1
  done
  echo "no listening line in $1" >&2
  exit 1
}

run() {  # run BIN LABEL
  local bin=$1 label=$2
  "$bin" sim --port 0 --scenario instant --workers 1 --log-level warn 2> "$DIR/sim.err" &
  local sim=$!
  local sport
  sport=$(port_of "$DIR/sim.err")
  printf 'listen: 127.0.0.1:0\nworkers: 1\nlog_level: warn\nupstreams:\n  sim: {base_url: "http://127.0.0.1:%s"}\nmodels:\n  deepseek-chat: {upstream: sim}\n' \
    "$sport" > "$DIR/gw.yaml"
  "$bin" serve -c "$DIR/gw.yaml" > /dev/null 2> "$DIR/gw.err" &
  local gw=$!
  local gport
  gport=$(port_of "$DIR/gw.err")
  for mode in "" --stream; do
    "$bin" bench --url "http://127.0.0.1:$gport" --concurrency 32 --duration 5s --max-tokens 16 $mode --quiet \
      --json "$DIR/out.json" > /dev/null 2>&1
    python3 -c "
import json, sys
d = json.load(open(sys.argv[1])); e = d['latency_ms']['e2e']
print(f\"{sys.argv[2]:6} {sys.argv[3] or 'non-stream':11} {d['requests'] / 5:8.0f} req/s  p50 {e['p50']:.2f} ms  p99 {e['p99']:.2f} ms\")
" "$DIR/out.json" "$label" "${mode#--}"
  done
  kill "$gw" "$sim"
  wait "$gw" "$sim" 2> /dev/null || true
}

for _ in $(seq "$ROUNDS"); do
  run "$BASE_BIN" base
  run "$SLUICE_BIN" metrics
done
