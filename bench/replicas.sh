#!/usr/bin/env bash
# Issue 25's figures: three gateway replicas behind HAProxy (standing in for a Kubernetes Service) in front of
# `sluice sim`, sharing state through one redis-server (docs/scale-out.md).
#   1. accuracy: one key with a request limit, overloaded through HAProxy; admitted per limit window, read
#      from Redis's per-window tally (sluice_limit_overshoot_ratio) and from the client's count;
#   2. cost: CPU per request of the three gateways (and of redis-server) with state.backend redis against
#      local, at the same open-loop rate, a key with request/token/concurrency limits and a budget that never
#      refuse (every request goes through every shared counter);
#   3. outage: the same load while redis-server is killed (kill -9) and restarted: requests served.
# Prints Markdown tables; raw files stay in OUT_DIR.
#
# Usage: bench/replicas.sh
# Environment: SLUICE_BIN (build/sluice), RATE (cost phase, 600 req/s), SECONDS_PER_RUN (20), LIMIT (accuracy:
#   requests per window, 600), WINDOW_S (10), OVERLOAD (1.5), OUT_DIR (temp dir, kept), SEED (1)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
RATE=${RATE:-600}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-20}
LIMIT=${LIMIT:-600}
WINDOW_S=${WINDOW_S:-10}
OVERLOAD=${OVERLOAD:-1.5}
SEED=${SEED:-1}

die() { echo "replicas: $*" >&2; exit 1; }
log() { echo "[replicas] $*" >&2; }
[ -x "$SLUICE_BIN" ] || die "sluice binary not found at $SLUICE_BIN (set SLUICE_BIN)"
command -v redis-server >/dev/null || die "redis-server is not installed (scripts/install-deps.sh bench)"
command -v haproxy >/dev/null || die "haproxy is not installed (scripts/install-deps.sh bench)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-replicas.XXXXXX")
OUT_DIR=${OUT_DIR:-$TMP/results}
mkdir -p "$OUT_DIR"
PIDS=()
REDIS_PID=""
stop_gateways() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
stop_redis() {
  [ -n "$REDIS_PID" ] && { kill -KILL "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; }
  REDIS_PID=""
}
cleanup() { stop_gateways; stop_redis; [ -n "${SIM_PID:-}" ] && kill "$SIM_PID" 2>/dev/null; log "raw results: $OUT_DIR"; }
trap cleanup EXIT
cp "$SLUICE_BIN" "$TMP/sluice"  # others may rebuild the binary while we measure

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

REDIS_PORT=$(free_port)
ADMIN_KEY=bench-admin-key-0123456789
metrics() { curl -s -H "authorization: Bearer $ADMIN_KEY" "http://127.0.0.1:$1/metrics"; }
start_redis() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$TMP" --save "" --appendonly no --loglevel warning \
    >/dev/null &
  REDIS_PID=$!
  for _ in $(seq 1 200); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  die "redis-server did not start"
}

"$TMP/sluice" sim --port 0 --scenario instant --log-level warn 2>"$TMP/sim.err" &
SIM_PID=$!
SIM_PORT=$(port_from "$TMP/sim.err" sluice-sim)

# $1 backend, $2 limits (YAML flow map), $3 budget (", budget: {...}" or ""), $4 run name
start_gateways() {
  local backend=$1 limits=$2 budget=$3 name=$4 i
  local state="state: {backend: local}"
  if [ "$backend" = redis ]; then
    state="state: {backend: redis, redis: {address: \"127.0.0.1:$REDIS_PORT\", key_prefix: $name}}"
  fi
  cat >"$TMP/$name.yaml" <<CONF
listen: "127.0.0.1:0"
workers: 1
access_log: "off"
log_level: warn
keys:
  - {name: bench, secret_env: BENCH_KEY, limits: $limits$budget}
upstreams:
  sim: {base_url: "http://127.0.0.1:$SIM_PORT"}
models:
  deepseek-chat: {upstream: sim}
pricing:
  deepseek-chat: {input_cache_hit: 0.07, input_cache_miss: 0.27, output: 1.10}
cache: {enabled: false}
ledger: {enabled: false}
admin: {key_env: ADMIN_KEY}
$state
CONF
  GW_PORTS=()
  for i in 1 2 3; do
    BENCH_KEY=sk-bench ADMIN_KEY=$ADMIN_KEY "$TMP/sluice" serve -c "$TMP/$name.yaml" 2>"$TMP/$name-$i.err" &
    PIDS+=($!)
    GW_PORTS+=("$(port_from "$TMP/$name-$i.err" sluice)")
  done
  HA_PORT=$(free_port)
  {
    echo "global"; echo "  maxconn 4096"
    echo "defaults"; echo "  mode http"; echo "  timeout connect 2s"; echo "  timeout client 60s"
    echo "  timeout server 60s"; echo "  option http-keep-alive"
    echo "frontend fe"; echo "  bind 127.0.0.1:$HA_PORT"; echo "  default_backend gws"
    echo "backend gws"; echo "  balance roundrobin"
    for i in 0 1 2; do echo "  server g$i 127.0.0.1:${GW_PORTS[$i]}"; done
  } >"$TMP/$name-haproxy.cfg"
  haproxy -f "$TMP/$name-haproxy.cfg" -db >"$TMP/$name-haproxy.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$HA_PORT/healthz" && break
    sleep 0.05
  done
}

cpu_ticks() {  # user + system clock ticks of the given pids
  local total=0 pid
  for pid in "$@"; do
    read -r -a f <"/proc/$pid/stat"
    total=$((total + f[13] + f[14]))
  done
  echo "$total"
}

bench() {  # $1 json out, $2 rate, $3 seconds
  "$TMP/sluice" bench --quiet --seed "$SEED" --url "http://127.0.0.1:$HA_PORT" --api-key sk-bench \
    --rate "$2" --duration "${3}s" --max-tokens 8 --prompt-tokens 50 --timeout 30s --json "$1" >/dev/null
}

start_redis

# ---- 1. accuracy -------------------------------------------------------------------------------------------
OFFERED=$(python3 -c "print(round($LIMIT / $WINDOW_S * $OVERLOAD))")
start_gateways redis "{rpm: $LIMIT, window: ${WINDOW_S}s, request_burst: $((LIMIT / 10))}" "" acc
ACC_S=$((WINDOW_S * 5))
log "accuracy: $OFFERED req/s offered for ${ACC_S}s against $LIMIT per ${WINDOW_S}s on 3 replicas"
bench "$OUT_DIR/accuracy.json" "$OFFERED" "$ACC_S" &
BENCH_PID=$!
# Sample each replica's view of the last whole window's tally (all replicas) once per window.
: >"$OUT_DIR/accuracy-windows.txt"
sleep $((WINDOW_S + 1))
for _ in 1 2 3 4; do
  sleep "$WINDOW_S"
  metrics "${GW_PORTS[0]}" |
    sed -n 's/^sluice_limit_overshoot_ratio{key="bench",kind="requests",model=""} \(.*\)$/\1/p' \
      >>"$OUT_DIR/accuracy-windows.txt"
done
wait "$BENCH_PID"
metrics "${GW_PORTS[0]}" >"$OUT_DIR/accuracy-metrics.txt"
stop_gateways

# ---- 2. CPU per request: local vs redis ---------------------------------------------------------------------
BIG="{rpm: 100000000, tpm: 100000000000, max_concurrent: 100000}"
for backend in local redis; do
  start_gateways "$backend" "$BIG" ", budget: {daily_usd: 1000000}" "cpu$backend"
  GW_PIDS=("${PIDS[@]:0:3}")
  bench "$OUT_DIR/warm-$backend.json" 100 3
  before=$(cpu_ticks "${GW_PIDS[@]}")
  rbefore=$(cpu_ticks "$REDIS_PID")
  log "cpu: $backend, $RATE req/s for ${SECONDS_PER_RUN}s"
  bench "$OUT_DIR/cpu-$backend.json" "$RATE" "$SECONDS_PER_RUN"
  after=$(cpu_ticks "${GW_PIDS[@]}")
  rafter=$(cpu_ticks "$REDIS_PID")
  echo "$((after - before)) $((rafter - rbefore))" >"$OUT_DIR/cpu-$backend.ticks"
  metrics "${GW_PORTS[0]}" >"$OUT_DIR/cpu-$backend-metrics.txt"
  stop_gateways
done

# ---- 3. Redis killed and restarted under load ---------------------------------------------------------------
start_gateways redis "$BIG" ", budget: {daily_usd: 1000000}" outage
OUT_RATE=$((RATE / 2))
log "outage: $OUT_RATE req/s for 30s; redis-server killed at 10s, restarted at 20s"
bench "$OUT_DIR/outage.json" "$OUT_RATE" 30 &
BENCH_PID=$!
sleep 10
stop_redis
sleep 10
start_redis
wait "$BENCH_PID"
metrics "${GW_PORTS[0]}" >"$OUT_DIR/outage-metrics.txt"
stop_gateways

TICK=$(getconf CLK_TCK)
node - "$OUT_DIR" "$LIMIT" "$WINDOW_S" "$OFFERED" "$TICK" <<'JS'
const fs = require('fs');
const [dir, limit, windowS, offered, tick] = process.argv.slice(2);
const read = (n) => JSON.parse(fs.readFileSync(`${dir}/${n}`, 'utf8'));
const metric = (file, name) => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(fs.readFileSync(`${dir}/${file}`, 'utf8'));
  return m ? Number(m[1]) : NaN;
};
const acc = read('accuracy.json');
const ratios = fs.readFileSync(`${dir}/accuracy-windows.txt`, 'utf8').trim().split('\n').filter(Boolean).map(Number);
console.log(`### Accuracy: ${limit} requests per ${windowS} s on 3 replicas, ${offered} req/s offered\n`);
console.log('| window (all replicas, from Redis) | admitted | ÷ limit |');
console.log('|---|---:|---:|');
ratios.forEach((r, i) => console.log(`| ${i + 1} | ${Math.round(r * limit)} | ${r.toFixed(3)} |`));
const admitted = acc.ok;
const windows = (acc.duration_s ?? 5 * windowS) / windowS;
console.log(`\nClient: ${acc.requests} sent, ${admitted} admitted over ${windows} windows (the first one starts with a ` +
  `burst of ${limit / 10}); the rest refused with 429.\n`);
console.log('### CPU per request: 3 replicas, local vs redis\n');
console.log('| backend | requests | ok | gateway CPU (3 processes) | per request | redis-server CPU | round trips / request | p50 | p99 |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
const per = {};
for (const b of ['local', 'redis']) {
  const j = read(`cpu-${b}.json`);
  const [gw, rs] = fs.readFileSync(`${dir}/cpu-${b}.ticks`, 'utf8').trim().split(' ').map(Number);
  const cpu = gw / tick;
  per[b] = (cpu / j.requests) * 1e6;
  const rt = metric(`cpu-${b}-metrics.txt`, 'sluice_state_round_trips_total');
  const reqs = metric(`cpu-${b}-metrics.txt`, 'sluice_state_lease_refills_total');
  const e = j.latency_ms.e2e;
  console.log(`| ${b} | ${j.requests} | ${j.success_pct.toFixed(2)} % | ${cpu.toFixed(2)} s | ${per[b].toFixed(0)} µs | ` +
    `${b === 'redis' ? (rs / tick).toFixed(2) + ' s' : '–'} | ${b === 'redis' ? (rt * 3 / j.requests).toFixed(3) + ' (refills ' + (reqs * 3 / j.requests).toFixed(3) + ')' : '–'} | ` +
    `${e.p50.toFixed(1)} ms | ${e.p99.toFixed(1)} ms |`);
}
console.log(`\nredis ÷ local CPU per request: ${(per.redis / per.local).toFixed(2)}×\n`);
const o = read('outage.json');
console.log('### Redis killed (kill -9) at 10 s and restarted at 20 s of a 30 s run\n');
console.log('| requests | ok | failed | p50 | p99 | max | fallback decisions (replica 1) |');
console.log('|---:|---:|---:|---:|---:|---:|---:|');
console.log(`| ${o.requests} | ${o.ok} (${o.success_pct.toFixed(2)} %) | ${o.requests - o.ok} | ${o.latency_ms.e2e.p50.toFixed(1)} ms | ` +
  `${o.latency_ms.e2e.p99.toFixed(1)} ms | ${o.latency_ms.e2e.max.toFixed(1)} ms | ${metric('outage-metrics.txt', 'sluice_state_fallback_total')} |`);
JS
