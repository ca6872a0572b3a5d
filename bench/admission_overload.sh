#!/usr/bin/env bash
# Issue 5's overload benchmark: `sluice sim` with a fixed capacity (SLOTS GPU slots, DeepSeek's queue-when-full
# behaviour) behind the gateway with admission control (adaptive gradient limit, strict priority queue), driven
# by `sluice bench` at OVERLOAD x the sim's measured capacity, 20 % X-Priority: high / 80 % low.
#   1. capacity: bench straight at the sim, closed loop at SLOTS concurrency → ok req/s.
#   2. overload: open loop at OVERLOAD x capacity through the gateway for SECONDS.
#   3. re-adaptation: a sim that answers 429 when its slots are full and whose capacity changes (SLOTS for
#      PHASE s, then SLOTS/2), at the same offered load, with the AIMD limit; the gateway's limit over time comes
#      from its "concurrency limit" log lines.
# Prints the figures as Markdown (docs/benchmarks.md); raw files stay in OUT_DIR.
#
# Usage: bench/admission_overload.sh
# Environment: SLUICE_BIN (build/sluice), SLOTS (16), OVERLOAD (2), SECONDS_RUN (60), PHASE (40), SEED (1),
#   OUT_DIR (a temp dir, kept)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
SLOTS=${SLOTS:-16}
OVERLOAD=${OVERLOAD:-2}
SECONDS_RUN=${SECONDS_RUN:-60}
PHASE=${PHASE:-40}
SEED=${SEED:-1}

die() { echo "admission_overload: $*" >&2; exit 1; }
log() { echo "[admission] $*" >&2; }
[ -x "$SLUICE_BIN" ] || die "sluice binary not found at $SLUICE_BIN (set SLUICE_BIN)"
command -v node >/dev/null || die "node not found"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-admission.XXXXXX")
OUT_DIR=${OUT_DIR:-$TMP/results}
mkdir -p "$OUT_DIR"
PIDS=()
stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
cleanup() {
  stop_all
  if [ "$OUT_DIR" = "$TMP/results" ]; then log "raw results: $OUT_DIR (kept)"; fi
  find "$TMP" -mindepth 1 -maxdepth 1 ! -name results -exec rm -rf {} +
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cp "$SLUICE_BIN" "$TMP/sluice"  # others may rebuild the binary while we measure

port_from() {
  local file=$1 prefix=$2 port=""
  for _ in $(seq 1 100); do
    port=$(sed -n "s/^$prefix: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p" "$file" | head -1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.05
  done
  cat "$file" >&2
  die "$prefix did not report its port"
}

# The sim: constant 200 ms to first token, 5 ms per token, 64 tokens → a slot is held ~0.52 s.
SIM_ARGS=(--ttft 200ms --itl 5ms --output-tokens 64 --keepalive-interval 1s --max-wait 60s --seed "$SEED"
          --log-level warn)
start_sim() {  # $1 = scenario file or ""; sets SIM_PORT (not in a subshell: PIDS must see the process)
  local extra=()
  if [ -n "$1" ]; then extra=(--scenario "$1"); else extra=(--slots "$SLOTS"); fi
  rm -f "$TMP/sim.err"
  "$TMP/sluice" sim --port 0 "${extra[@]}" "${SIM_ARGS[@]}" 2>"$TMP/sim.err" &
  PIDS+=($!)
  SIM_PORT=$(port_from "$TMP/sim.err" sluice-sim)
}

start_gateway() {  # $1 = sim port, $2 = run name, $3 = adaptive algorithm; sets GW_PORT
  cat >"$TMP/gw.yaml" <<YAML
listen: 127.0.0.1:0
workers: 2
log_level: info
access_log: $OUT_DIR/access-$2.log
upstreams:
  sim: {base_url: "http://127.0.0.1:$1", timeouts: {connect: 2s, first_token: 30s, idle: 30s, total: 60s}}
models:
  deepseek-chat: {upstream: sim}
admission:
  policy: strict
  groups:
    deepseek-chat:
      max_concurrent: 64
      adaptive: $3
      min_concurrent: 2
      max_queue: 2000
      max_wait: {high: 5s, medium: 3s, low: 2s}
YAML
  rm -f "$OUT_DIR/access-$2.log"
  "$TMP/sluice" serve -c "$TMP/gw.yaml" 2>"$OUT_DIR/gateway-$2.err" &
  PIDS+=($!)
  GW_PORT=$(port_from "$OUT_DIR/gateway-$2.err" sluice)
}

# --- 1. capacity ------------------------------------------------------------------------------------------
start_sim ""
log "measuring the sim's capacity ($SLOTS slots)"
"$TMP/sluice" bench --url "http://127.0.0.1:$SIM_PORT" --concurrency "$SLOTS" --duration 15s --max-tokens 64 \
  --quiet --json "$OUT_DIR/capacity.json" >/dev/null
CAPACITY=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).ok_rps.toFixed(2))' \
  "$OUT_DIR/capacity.json")
RATE=$(node -e "console.log(($CAPACITY * $OVERLOAD).toFixed(1))")
log "capacity $CAPACITY req/s → offered $RATE req/s"

# --- 2. overload --------------------------------------------------------------------------------------------
start_gateway "$SIM_PORT" overload gradient
BENCH_CMD=(bench --url "http://127.0.0.1:$GW_PORT" --rate "$RATE" --duration "${SECONDS_RUN}s" --max-tokens 64
           --mix 'X-Priority: high=20,low=80' --header 'X-Request-Timeout: 10' --timeout 30s --seed "$SEED" --quiet)
log "overload run: sluice ${BENCH_CMD[*]}"
"$TMP/sluice" "${BENCH_CMD[@]}" --json "$OUT_DIR/overload.json" >"$OUT_DIR/overload.txt"
stop_all

# --- 3. re-adaptation ---------------------------------------------------------------------------------------
HALF=$((SLOTS / 2))
cat >"$TMP/phases.yaml" <<YAML
name: capacity-drop
models: [deepseek-chat]
defaults: {slots: $SLOTS, overload: "429"}
phases:
  - {name: full, duration: ${PHASE}s, slots: $SLOTS}
  - {name: half, slots: $HALF}
YAML
start_sim "$TMP/phases.yaml"
start_gateway "$SIM_PORT" adapt aimd
T0=$(date +%s.%N)
log "re-adaptation run: $SLOTS slots for ${PHASE}s, then $HALF; offered $RATE req/s for $((2 * PHASE))s"
"$TMP/sluice" bench --url "http://127.0.0.1:$GW_PORT" --rate "$RATE" --duration "$((2 * PHASE))s" --max-tokens 64 \
  --mix 'X-Priority: high=20,low=80' --header 'X-Request-Timeout: 10' --timeout 30s --seed "$SEED" --quiet \
  --json "$OUT_DIR/adapt.json" >/dev/null
stop_all

node "$ROOT/bench/admission/report.mjs" "$OUT_DIR" "$CAPACITY" "$RATE" "$SLOTS" "$PHASE" "$T0" "sluice ${BENCH_CMD[*]}"
