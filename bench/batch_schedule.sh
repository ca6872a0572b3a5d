#!/usr/bin/env bash
# Issue 27's scheduling benchmark on a compressed clock: a day of interactive traffic plus batches with mixed
# deadlines, at DeepSeek's 2025 prices (deepseek-chat, off-peak 16:30-00:30 UTC at half price).
#
# Time: batch.time_scale = SCALE makes the gateway's planning clock run SCALE times faster than real time from
# its start (plan = start + (real - start) × SCALE): completion windows, pricing windows, the planner and each
# line's price use plan time; leases, polls, backoff and upstream latency stay real. SCALE=144 (default) is a
# day in 600 real seconds. The interactive load runs for the same real span at a constant rate (the sim's
# latency does not scale, so a line takes the same real time and "runs longer" in plan time: the throughput
# the planner measures is divided by SCALE). batch.time_start = DAY_START (14:00 UTC) starts the virtual day at
# that hour whatever the real time, so the prices a run sees do not depend on when it runs: batches submitted
# at 14:00 (peak price) with 6-24 h windows, each of which reaches the 16:30-00:30 off-peak window.
#
#   1. baseline: interactive only (sluice bench, open loop, INTERACTIVE_RATE req/s, streams) for DAY_S seconds;
#   2. the same with BATCHES batches submitted at the start (off_peak, windows from WINDOWS), through a group
#      gate (adaptive: aimd) whose batch_reserve keeps capacity for interactive traffic. Not `gradient`: its
#      floor is the fastest single first token, and with this sim's spread (p50 300 ms, p99 900 ms) the ratio
#      reads as queueing and shrinks the limit below the interactive load alone (docs/admission.md);
#   3. report: each batch's cost (lines priced at their virtual finishing time) against the same tokens at the
#      price of the submission moment, deadlines met, and interactive p99 TTFT against the baseline.
# Targets (issue 27): ≥ 45 % cheaper than running at once, every deadline met, p99 TTFT within 10 %.
#
# Lines run through the gateway's LineRunner (docs/batch.md).
# Usage: bench/batch_schedule.sh
# Environment: SLUICE_BIN (build/sluice), SCALE (144), DAY_START (14:00), INTERACTIVE_RATE (8), BATCH_LINES (400),
#   WINDOWS ("6h 12h 24h 24h"), SLOTS (32), SEED (1), OUT_DIR (a temp dir, kept)
set -euo pipefail

NAME=batch_schedule
# shellcheck source=bench/batch_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/batch_lib.sh"
SCALE=${SCALE:-144}
DAY_START=${DAY_START:-14:00}
INTERACTIVE_RATE=${INTERACTIVE_RATE:-8}
BATCH_LINES=${BATCH_LINES:-400}
WINDOWS=${WINDOWS:-"6h 12h 24h 24h"}
SLOTS=${SLOTS:-32}
SEED=${SEED:-1}
DAY_S=$(( 86400 / SCALE ))
KEY=bench-batch-key-1

start_sim() {  # $1: stderr file; sets SIM_PORT
  "$SLUICE_BIN" sim --port 0 --seed "$SEED" --slots "$SLOTS" --ttft 300ms/900ms --itl 10ms \
    --output-tokens 64/128 2>"$1" &
  PIDS+=($!)
  SIM_PORT=$(port_from "$1" sluice-sim)
}
start_sim "$TMP/sim.err"

gateway() {  # $1: data dir; sets PORT (the pid goes to PIDS)
  cat >"$1.yaml" <<EOF
listen: 127.0.0.1:0
workers: 2
log_level: warn
access_log: "off"
keys: [{name: bench, secret_env: BENCH_KEY}]
upstreams:
  sim: {base_url: "http://127.0.0.1:$SIM_PORT", timeouts: {first_token: 60s, total: 300s}}
models:
  deepseek-chat: {upstream: sim}
pricing:
  deepseek-chat: {input_cache_hit: 0.07, input_cache_miss: 0.27, output: 1.10, off_peak: ["16:30-00:30"],
                  off_peak_multiplier: 0.5}
ledger: {path: "$1/ledger.db"}
admission:
  groups:
    deepseek-chat: {max_concurrent: $SLOTS, adaptive: aimd, batch_reserve: 25}
batch:
  data_dir: "$1"
  time_scale: $SCALE
  time_start: "$DAY_START"
  poll_interval: 250ms
  lease: 10s
  concurrency: 16
  min_completion_window: 1m
  initial_line_time: 3s
EOF
  BENCH_KEY=$KEY "$SLUICE_BIN" serve -c "$1.yaml" 2>"$1.err" &
  PIDS+=($!)
  PORT=$(port_from "$1.err" sluice)
}

interactive() {  # $1: port, $2: output json
  "$SLUICE_BIN" bench --url "http://127.0.0.1:$1" --api-key "$KEY" --stream --rate "$INTERACTIVE_RATE" \
    --duration "${DAY_S}s" --max-tokens 64 --seed "$SEED" --quiet --json "$2" >/dev/null
}

log "baseline: interactive only, ${DAY_S} s (a virtual day at ×$SCALE)"
mkdir -p "$TMP/base"
gateway "$TMP/base"
interactive "$PORT" "$OUT_DIR/baseline.json"
stop_all
start_sim "$TMP/sim2.err"

log "with batches: windows $WINDOWS, $BATCH_LINES lines each"
mkdir -p "$TMP/run"
gateway "$TMP/run"
URL="http://127.0.0.1:$PORT"
IDS=()
i=0
for w in $WINDOWS; do
  IDS+=("$(node "$ROOT/bench/batch_driver.mjs" submit "$URL" "$KEY" "$BATCH_LINES" "$w" off_peak "b$i")")
  i=$((i + 1))
done
interactive "$PORT" "$OUT_DIR/with_batches.json"
node "$ROOT/bench/batch_driver.mjs" wait "$URL" "$KEY" "$DAY_S" "${IDS[@]}" || log "not every batch is final"
node "$ROOT/bench/batch_driver.mjs" report "$URL" "$KEY" "${IDS[@]}" >"$OUT_DIR/batches.json"
node -e 'process.exit(require(process.argv[1]).totals.completed > 0 ? 0 : 1)' "$OUT_DIR/batches.json" ||
  die "no batch line ran: is the LineRunner wired (docs/batch.md)?"

node - "$OUT_DIR" <<'EOF'
const dir = process.argv[2];
const fs = require('node:fs');
const read = (f) => JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8'));
const base = read('baseline.json'), run = read('with_batches.json'), b = read('batches.json');
const p99 = (j) => j.latency_ms.ttft.p99;
// Running a batch at once pays the price of its submission moment (plan clock): 16:30-00:30 UTC is half price.
const mult = (unixS) => { const m = Math.floor((unixS % 86400) / 60); return m >= 990 || m < 30 ? 0.5 : 1; };
let cost = 0, atOnce = 0;
console.log('| batch | window | status | lines | cost USD | at once USD | finished before expires_at |');
console.log('|---|---|---|---|---|---|---|');
for (const x of b.batches) {
  const once = x.full_price_usd * mult(x.created_at);
  cost += x.cost_usd;
  atOnce += once;
  console.log(`| ${x.id} | ${x.window} | ${x.status} | ${x.completed}/${x.lines} | ${x.cost_usd.toFixed(6)} | ` +
    `${once.toFixed(6)} | ${x.met_deadline} |`);
}
console.log(`\ncost ${cost.toFixed(6)} USD vs ${atOnce.toFixed(6)} at once: ${(100 * (1 - cost / atOnce)).toFixed(1)} % less; ` +
  `missed deadlines: ${b.totals.missed_deadlines}`);
console.log(`interactive p99 TTFT: ${p99(base).toFixed(0)} ms alone, ${p99(run).toFixed(0)} ms with batches ` +
  `(${(100 * (p99(run) / p99(base) - 1)).toFixed(1)} %)`);
EOF
log "raw results in $OUT_DIR"
