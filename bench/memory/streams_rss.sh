#!/usr/bin/env bash
# Memory of streams waiting for their first token: N concurrent streams through one gateway worker to a
# `sluice sim` that holds every request for TTFT before its first token. Reports the gateway's RSS idle, with
# all N streams waiting (read once `sluice_streams_in_flight` reaches N), and the difference per stream.
# Usage: bench/memory/streams_rss.sh [N=10000]
# Environment: SLUICE_BIN (build/sluice), TTFT (60s), KEEP_TMP (0)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
N=${1:-10000}
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
TTFT=${TTFT:-60s}
[[ $N =~ ^[0-9]+$ ]] || { echo "N must be a number" >&2; exit 2; }
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((2 * N + 50)) ] || { echo "need $((2 * N + 50)) file descriptors, have $(ulimit -n)" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-mem.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ "${KEEP_TMP:-0}" = 1 ] && echo "kept $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

"$SLUICE_BIN" sim --port 0 --scenario instant --slots 1000000 --ttft "$TTFT" --itl 10ms --log-level warn \
  2>"$TMP/sim.err" &
PIDS+=($!)
SIM_PORT=$(port_from "$TMP/sim.err" sluice-sim)
cat >"$TMP/gw.yaml" <<YAML
listen: 127.0.0.1:0
workers: 1
access_log: "off"
log_level: warn
server: {max_body_bytes: 1MiB}
upstreams:
  sim: {base_url: "http://127.0.0.1:$SIM_PORT", max_idle_connections: 64,
        timeouts: {connect: 10s, first_token: 300s, idle: 300s, total: 600s}}
models:
  deepseek-chat: {upstream: sim, retry: {max_attempts: 1}}
ledger: {enabled: false}
YAML
"$SLUICE_BIN" serve -c "$TMP/gw.yaml" 2>"$TMP/gw.err" &
GW=$!
PIDS+=("$GW")
GW_PORT=$(port_from "$TMP/gw.err" sluice)
rss_kb() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status"; }
in_flight() {
  curl -s "http://127.0.0.1:$GW_PORT/metrics" | awk '$1 == "sluice_streams_in_flight" {printf "%d", $2}'
}
in_flight >/dev/null  # the first scrape allocates what every later one reuses
sleep 1
IDLE=$(rss_kb "$GW")
node "$ROOT/bench/memory/hold_streams.mjs" "http://127.0.0.1:$GW_PORT" "$N" >"$TMP/client.out" &
CLIENT=$!
PIDS+=("$CLIENT")
for _ in $(seq 1 600); do
  [ "$(in_flight)" -ge "$N" ] 2>/dev/null && break
  sleep 0.5
done
IF=$(in_flight)
sleep 2
HELD=$(rss_kb "$GW")
kill -TERM "$CLIENT" 2>/dev/null || true
printf '{"streams":%s,"in_flight":%s,"rss_idle_kb":%s,"rss_held_kb":%s,"kb_per_stream":%.1f,"commit":"%s"}\n' \
  "$N" "${IF:-0}" "$IDLE" "$HELD" "$(awk -v a="$HELD" -v b="$IDLE" -v n="$N" 'BEGIN{print (a - b) / n}')" \
  "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
