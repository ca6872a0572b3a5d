#!/usr/bin/env bash
# Rollout rehearsal (docs/kubernetes.md, results in docs/benchmarks.md): 3 sluice replicas behind HAProxy, which
# stands in for a Kubernetes Service (health checks on /readyz, no retries, no redispatch: a refused or cut
# connection reaches the client as a failure), in front of `sluice sim`.
#   1. Rolling update under steady load (`sluice bench`, open loop: non-stream and stream requests at once):
#      each replica in turn is replaced the way a Deployment with maxSurge 1 / maxUnavailable 0 does it:
#      start the new one, wait until HAProxy sees it up, SIGTERM the old one (server.shutdown_delay, then
#      drain). Must show 0 failed requests, 0 cut streams, every old replica exiting 0 with nothing cut.
#   2. Load step: steady load, 3x for STEP seconds, back to steady. The sum of sluice_pending_work over the
#      replicas (the autoscaling signal) must rise during the step and fall back to 0 after it.
# Prints a summary; --json FILE writes the figures (tests/integration/rollout_rehearsal.test.mjs runs --quick).
#
# Usage: bench/rollout.sh [--quick] [--json FILE]
# Environment: SLUICE_BIN (build/sluice), OUT_DIR (a temp dir, kept), ROLL_RATE (8 req/s non-stream, ~1 s
#   each) and STREAM_RATE (2 streams/s, ~4.4 s each) during the rolling update: ~17 of the 36 slots busy;
#   RATE (16 req/s before and after the step, 3x = 48 req/s during it, over a capacity of ~36 req/s), SEED (1),
#   SHUTDOWN_DELAY (1500ms; 0 shows what happens without it)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
QUICK=0
JSON_OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --json) JSON_OUT=$2; shift ;;
    *) echo "usage: $0 [--quick] [--json FILE]" >&2; exit 2 ;;
  esac
  shift
done
ROLL_RATE=${ROLL_RATE:-8}
STREAM_RATE=${STREAM_RATE:-2}
RATE=${RATE:-16}
SHUTDOWN_DELAY=${SHUTDOWN_DELAY:-1500ms}
SEED=${SEED:-1}
SLOTS_PER_REPLICA=12       # admission gate per replica: 3 replicas x 12 slots / ~1 s per request ≈ 36 req/s
# Streams outlast the shutdown delay (1.5 s), so replicas drain with streams in flight; PER_REPLICA seconds of
# load are budgeted for each replacement.
if [ "$QUICK" = 1 ]; then
  WARMUP=2; PRE=3; STEP=6; POST=6; STREAM_TOKENS=120; PER_REPLICA=6
else
  WARMUP=5; PRE=10; STEP=15; POST=20; STREAM_TOKENS=200; PER_REPLICA=8
fi

die() { echo "rollout: $*" >&2; exit 1; }
log() { echo "[rollout] $*" >&2; }
[ -x "$SLUICE_BIN" ] || die "sluice binary not found at $SLUICE_BIN (set SLUICE_BIN)"
for tool in haproxy curl node; do command -v $tool >/dev/null || die "$tool not found (scripts/install-deps.sh test)"; done
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-rollout.XXXXXX")
OUT_DIR=${OUT_DIR:-$WORK/results}
mkdir -p "$OUT_DIR" "$WORK/run"
PIDS=()
trap 'stop_pids "${PIDS[@]}"; rm -rf "$WORK/run"' EXIT

free_ports() {  # N distinct free loopback ports
  node -e '
    const net = require("net"); const n = Number(process.argv[1]); const out = []; const socks = [];
    (function next() {
      if (out.length === n) { socks.forEach((s) => s.close()); console.log(out.join(" ")); return; }
      const s = net.createServer().listen(0, "127.0.0.1", () => { out.push(s.address().port); socks.push(s); next(); });
    })();' "$1"
}

# --- the upstream: a sim with room for every replica's slots, ~1 s per non-stream request ----------------
"$SLUICE_BIN" sim --port 0 --slots 128 --ttft 400ms --itl 20ms --output-tokens 400 --seed "$SEED" >"$WORK/run/sim.log" 2>&1 &
PIDS+=($!)
SIM_PORT=$(port_from "$WORK/run/sim.log" sluice-sim)

# Replica slots: A1..A3 run first; a rolling update starts each replacement on its B port.
read -r -a PORTS <<<"$(free_ports 8)"
SLOT_PORTS=("${PORTS[@]:0:6}")
FRONT_PORT=${PORTS[6]}
STATS_PORT=${PORTS[7]}

cat >"$WORK/run/haproxy.cfg" <<EOF
global
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 120s
  timeout server 120s
  timeout http-keep-alive 10s
  retries 0
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 250ms fastinter 250ms downinter 250ms fall 1 rise 1
frontend api
  bind 127.0.0.1:$FRONT_PORT
  default_backend sluice
backend sluice
  balance roundrobin
$(for i in 0 1 2 3 4 5; do echo "  server s$i 127.0.0.1:${SLOT_PORTS[$i]} check"; done)
listen stats
  bind 127.0.0.1:$STATS_PORT
  stats enable
  stats uri /stats
EOF
haproxy -f "$WORK/run/haproxy.cfg" -db >"$WORK/run/haproxy.log" 2>&1 &
PIDS+=($!)

declare -A REPLICA_PID=()   # slot index → pid
REPLICA_SEQ=0
start_replica() {  # slot index
  local slot=$1 port=${SLOT_PORTS[$1]} n=$((++REPLICA_SEQ))
  cat >"$WORK/run/replica-$n.yaml" <<EOF
listen: 127.0.0.1:$port
workers: 1
log_level: info
access_log: stdout
server: {shutdown_delay: $SHUTDOWN_DELAY, drain_timeout: 30s}
upstreams:
  sim:
    base_url: http://127.0.0.1:$SIM_PORT
    timeouts: {connect: 2s, first_token: 30s, idle: 10s, total: 60s}
models:
  deepseek-chat: {upstream: sim}
ledger: {path: "$WORK/run/ledger-$n.db"}
admission:
  codel: {target: 2s, interval: 10s}   # as in deploy/kubernetes: let a queue build before shedding
  groups:
    deepseek-chat: {max_concurrent: $SLOTS_PER_REPLICA, adaptive: "off", max_queue: 5000}
EOF
  "$SLUICE_BIN" serve -c "$WORK/run/replica-$n.yaml" >"$OUT_DIR/replica-$n.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  REPLICA_PID[$slot]=$pid
  REPLICA_LOG[$slot]="$OUT_DIR/replica-$n.log"
  for _ in $(seq 1 200); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && return 0
    sleep 0.05
  done
  die "replica on port $port did not become ready"
}
declare -A REPLICA_LOG=()

haproxy_up() {  # slot index → 0 when HAProxy has the server UP
  curl -s "http://127.0.0.1:$STATS_PORT/stats;csv" | awk -F, -v s="s$1" '$1=="sluice" && $2==s {print $18}' | grep -q '^UP'
}
wait_haproxy() {  # slot index, want (up|down)
  for _ in $(seq 1 200); do
    if [ "$2" = up ]; then haproxy_up "$1" && return 0; else haproxy_up "$1" || return 0; fi
    sleep 0.05
  done
  die "HAProxy never saw s$1 $2"
}

# SIGTERM one replica the way the kubelet does; records exit code, time to exit and requests cut.
ROLL_RESULTS=()
terminate_replica() {  # slot index
  local slot=$1 pid=${REPLICA_PID[$1]} t0 t1 code=0
  t0=$(date +%s%N)
  kill -TERM "$pid"
  wait_haproxy "$slot" down
  local t_down
  t_down=$(date +%s%N)
  wait "$pid" || code=$?
  t1=$(date +%s%N)
  local cut conns
  cut=$(sed -n 's/.*stopped (\([0-9]*\) request(s) cut.*/\1/p' "${REPLICA_LOG[$slot]}" | tail -1)
  conns=$(sed -n 's/.*draining \([0-9]*\) connection(s).*/\1/p' "${REPLICA_LOG[$slot]}" | tail -1)
  ROLL_RESULTS+=("{\"slot\":$slot,\"exit_code\":$code,\"cut\":${cut:--1},\"connections_at_drain\":${conns:--1},\"unready_ms\":$(((t_down - t0) / 1000000)),\"exit_ms\":$(((t1 - t0) / 1000000))}")
  log "replica s$slot: SIGTERM → out of HAProxy in $(((t_down - t0) / 1000000)) ms, ${conns:-?} connection(s) at the drain, exit $code after $(((t1 - t0) / 1000000)) ms, cut ${cut:-?}"
  unset "REPLICA_PID[$slot]"
}

pending_total() {  # sum of sluice_pending_work over the running replicas
  local total=0 v slot
  for slot in "${!REPLICA_PID[@]}"; do
    v=$(curl -s -m 1 "http://127.0.0.1:${SLOT_PORTS[$slot]}/metrics" | awk '$1=="sluice_pending_work" {print $2}')
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

bench() {  # name, extra args...: an open-loop run through HAProxy, JSON into OUT_DIR/name.json
  local name=$1; shift
  "$SLUICE_BIN" bench --url "http://127.0.0.1:$FRONT_PORT" --model deepseek-chat --quiet \
    --json "$OUT_DIR/$name.json" "$@" >"$OUT_DIR/$name.txt" 2>&1
}

for slot in 0 1 2; do start_replica $slot; done
for slot in 0 1 2; do wait_haproxy $slot up; done
log "3 replicas up behind HAProxy on 127.0.0.1:$FRONT_PORT (sim on $SIM_PORT)"

# --- 1. rolling update under steady load --------------------------------------------------------------
ROLL_SECONDS=$((WARMUP + 3 * PER_REPLICA + WARMUP))
log "phase 1: ${ROLL_RATE} req/s + ${STREAM_RATE} streams/s for ${ROLL_SECONDS} s; rolling update after ${WARMUP} s"
bench roll-nonstream --rate "$ROLL_RATE" --duration "${ROLL_SECONDS}s" --max-tokens 30 --seed "$SEED" &
B1=$!
bench roll-stream --rate "$STREAM_RATE" --duration "${ROLL_SECONDS}s" --max-tokens "$STREAM_TOKENS" --stream --seed $((SEED + 1)) &
B2=$!
sleep "$WARMUP"
ROLL_T0=$(date +%s)
for old in 0 1 2; do
  new=$((old + 3))
  start_replica $new
  wait_haproxy $new up
  terminate_replica $old
done
ROLL_TOOK=$(($(date +%s) - ROLL_T0))
kill -0 $B1 2>/dev/null || die "the load ended before the rolling update did (${ROLL_TOOK} s)"
wait $B1 || die "bench roll-nonstream failed: $(cat "$OUT_DIR/roll-nonstream.txt")"
wait $B2 || die "bench roll-stream failed: $(cat "$OUT_DIR/roll-stream.txt")"
log "rolling update of 3 replicas took ${ROLL_TOOK} s"

# --- 2. load step: the scaling signal ------------------------------------------------------------------
TOTAL=$((PRE + STEP + POST))
log "phase 2: ${RATE} req/s for ${TOTAL} s, plus $((2 * RATE)) req/s from ${PRE} s to $((PRE + STEP)) s (3x)"
: >"$OUT_DIR/pending.tsv"
(
  t0=$(date +%s%N)
  while :; do
    echo "$((($(date +%s%N) - t0) / 1000000))	$(pending_total)" >>"$OUT_DIR/pending.tsv"
    sleep 0.25
  done
) &
SAMPLER=$!
PIDS+=("$SAMPLER")
bench step-base --rate "$RATE" --duration "${TOTAL}s" --max-tokens 30 --seed $((SEED + 2)) &
B3=$!
sleep "$PRE"
bench step-extra --rate "$((2 * RATE))" --duration "${STEP}s" --max-tokens 30 --seed $((SEED + 3)) &
B4=$!
wait $B4 || die "bench step-extra failed"
wait $B3 || die "bench step-base failed"
sleep 1
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true

# --- figures -------------------------------------------------------------------------------------------
node - "$OUT_DIR" "$PRE" "$STEP" "$POST" "$JSON_OUT" "$ROLL_TOOK" "${ROLL_RESULTS[@]}" <<'EOF'
const fs = require('fs');
const [dir, pre, step, post, jsonOut, rollTook, ...rolls] = process.argv.slice(2);
const read = (n) => JSON.parse(fs.readFileSync(`${dir}/${n}.json`, 'utf8'));
const summary = (n) => {
  const j = read(n);
  const errors = Object.fromEntries(Object.entries(j.errors).filter(([, v]) => v > 0));
  return { requests: j.requests, ok: j.ok, failed: j.failed, errors, p99_ms: j.latency_ms.e2e.p99 };
};
const samples = fs.readFileSync(`${dir}/pending.tsv`, 'utf8').trim().split('\n').map((l) => l.split('\t').map(Number));
const win = (a, b) => samples.filter(([t]) => t >= a * 1000 && t < b * 1000).map(([, v]) => v);
const stats = (v) => ({ samples: v.length, max: Math.max(0, ...v), mean: v.length ? +(v.reduce((x, y) => x + y, 0) / v.length).toFixed(1) : 0 });
const P = Number(pre), S = Number(step), Q = Number(post);
const out = {
  rollout: {
    seconds: Number(rollTook),
    nonstream: summary('roll-nonstream'),
    stream: summary('roll-stream'),
    replicas: rolls.map((r) => JSON.parse(r)),
  },
  step: {
    base: summary('step-base'),
    extra: summary('step-extra'),
    pending_before: stats(win(0.5, P)),
    pending_during: stats(win(P, P + S)),
    pending_after_last3s: stats(win(P + S + Q - 3, P + S + Q + 2)),
    pending_final: samples.at(-1)[1],
  },
};
const r = out.rollout;
const checks = {
  no_failed_requests: r.nonstream.failed === 0 && r.stream.failed === 0,
  no_cut_streams: (r.stream.errors.truncated ?? 0) === 0 && r.replicas.every((x) => x.cut === 0),
  replicas_exit_0: r.replicas.length === 3 && r.replicas.every((x) => x.exit_code === 0),
  gauge_rises_with_3x_load: out.step.pending_during.max >= 10 && out.step.pending_during.max >= 5 * (out.step.pending_before.max + 1),
  gauge_falls_after: out.step.pending_final === 0 && out.step.pending_after_last3s.max <= out.step.pending_during.max / 10,
};
out.checks = checks;
console.log(JSON.stringify(out, null, 2));
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(out, null, 2));
const bad = Object.entries(checks).filter(([, ok]) => !ok).map(([k]) => k);
if (bad.length) { console.error(`rollout: FAILED: ${bad.join(', ')}`); process.exit(1); }
console.error('rollout: all checks passed');
EOF
log "raw files: $OUT_DIR"
