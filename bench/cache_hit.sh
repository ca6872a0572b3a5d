#!/usr/bin/env bash
# Issue 6: latency of a response-cache hit through the gateway. One answer is put in the cache (a temperature-0
# request through `sluice sim --scenario instant`), then wrk replays that same request closed-loop on keep-alive
# connections, so every measured request is a hit (the script checks the X-Sluice-Cache counters before and
# after). The gateway (`workers: 1`) is pinned to PROXY_CPU and wrk to LOAD_CPU. Non-stream and stream shapes.
# Prints a Markdown table (the one in docs/benchmarks.md).
#
# Usage: bench/cache_hit.sh
# Environment: SLUICE_BIN (build/sluice), SECONDS_EACH (10), CONNECTIONS ("1 8"), PROXY_CPU (0), LOAD_CPU (1),
#   NICE (empty; e.g. -15)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
SECONDS_EACH=${SECONDS_EACH:-10}
CONNECTIONS=${CONNECTIONS:-"1 8"}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
# NICE=-15 runs the gateway and wrk at a higher CPU weight, so compiles sharing the machine do not dominate
# the tail (the figure then measures the gateway, not the scheduler). Empty = default priority.
NICE=${NICE:-}
PRIO=${NICE:+nice -n $NICE}
# RT=1: SCHED_FIFO instead (short runs only: it starves everything else on the two pinned CPUs).
[ -z "${RT:-}" ] || PRIO="chrt -f 20"

die() { echo "cache_hit: $*" >&2; exit 1; }
[ -x "$SLUICE_BIN" ] || die "sluice binary not found at $SLUICE_BIN (set SLUICE_BIN)"
for tool in wrk taskset curl; do command -v "$tool" >/dev/null || die "$tool not found"; done
if [ "$(nproc)" -lt 2 ]; then PROXY_CPU=0 LOAD_CPU=0; fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-cachehit.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

port_of() {  # waits for "listening on HOST:PORT" in a log file
  local f=$1 i
  for i in $(seq 100); do
    if grep -qo 'listening on [0-9.]*:[0-9]*' "$f" 2>/dev/null; then
      grep -o 'listening on [0-9.]*:[0-9]*' "$f" | head -1 | sed 's/.*://'
      return
    fi
    sleep 0.1
  done
  die "no 'listening on' in $f: $(cat "$f")"
}

taskset -c "$LOAD_CPU" "$SLUICE_BIN" sim --port 0 --scenario instant 2>"$TMP/sim.log" &
PIDS+=($!)
SIM_PORT=$(port_of "$TMP/sim.log")
cat >"$TMP/gw.yaml" <<YAML
listen: 127.0.0.1:0
workers: 1
log_level: warn
access_log: off
upstreams:
  sim: {base_url: "http://127.0.0.1:$SIM_PORT"}
models:
  deepseek-chat: {upstream: sim}
ledger: {path: "$TMP/ledger.db", enabled: ${LEDGER:-true}}
YAML
$PRIO taskset -c "$PROXY_CPU" "$SLUICE_BIN" serve -c "$TMP/gw.yaml" 2>"$TMP/gw.log" &
PIDS+=($!)
GW_PORT=$(port_of "$TMP/gw.log")
URL="http://127.0.0.1:$GW_PORT/v1/chat/completions"

warm() {  # $1: body; $2: the X-Sluice-Cache value expected
  curl -sS -o /dev/null -D "$TMP/h" -H 'content-type: application/json' -d "$1" "$URL"
  grep -qi "^x-sluice-cache: $2" "$TMP/h" || die "expected x-sluice-cache: $2, got: $(cat "$TMP/h")"
}
body() {
  echo "{\"model\":\"deepseek-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"What is a cache? Answer in one paragraph.\"}],\"temperature\":0,\"stream\":$1}"
}
warm "$(body false)" miss  # fills the cache; the stream shape is served from the same entry
warm "$(body true)" hit

echo "| shape | connections | requests/s | p50 ms | p90 ms | p99 ms | p99.9 ms* |"
echo "|---|---|---|---|---|---|---|"
for stream in false true; do
  cat >"$TMP/req.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$(body $stream)'
done = function(summary, latency, requests)
  io.write(string.format("P999 %.3f\n", latency:percentile(99.9) / 1000))
end
LUA
  for c in $CONNECTIONS; do
    out=$($PRIO taskset -c "$LOAD_CPU" wrk -t1 -c"$c" -d"${SECONDS_EACH}s" --latency -s "$TMP/req.lua" "$URL")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    pct() { awk -v p="$1" '$1 == p {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; printf "%.3f", v}' <<<"$out"; }
    if grep -q 'Non-2xx' <<<"$out"; then die "non-2xx answers during the run: $out"; fi
    echo "| $([ "$stream" = true ] && echo stream || echo json) | $c | $rps | $(pct 50%) | $(pct 90%) | $(pct 99%) | $(awk '/^P999/ {print $2}' <<<"$out") |"
  done
done
SIM_REQ=$(curl -sS "http://127.0.0.1:$SIM_PORT/sim/stats" | grep -o '"requests":[0-9]*' | cut -d: -f2)
[ "$SIM_REQ" = 1 ] || die "the upstream saw $SIM_REQ requests; every measured request should have been a hit"
echo
echo "upstream requests during the whole run: $SIM_REQ (the warm-up); every measured request was a cache hit"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs; priority: ${PRIO:-default}"
