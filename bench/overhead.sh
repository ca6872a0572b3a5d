#!/usr/bin/env bash
# Reproduction 3 of issue 8: what a proxy in the path costs. The same zero-latency upstream (`sluice sim
# --scenario instant`) is driven by `sluice bench` directly, through nginx (reverse proxy, upstream
# keep-alive, one worker) and through the sluice gateway (`workers: 1`), non-streaming and streaming:
#   - open loop at a fixed rate (Poisson, seeded): the latency a proxy adds when it is not saturated;
#   - closed loop at fixed concurrency: the most requests/s each path sustains here.
# The proxy under test is pinned to CPU PROXY_CPU; the sim and the load generator share LOAD_CPU.
# Prints a Markdown table (the one in docs/benchmarks.md); raw --json files stay in OUT_DIR.
#
# Usage: bench/overhead.sh
# Environment: SLUICE_BIN (build/sluice), NGINX_BIN (/usr/sbin/nginx), RATE (1000 req/s), OPEN_SECONDS (8),
#   CLOSED_SECONDS (5), CONCURRENCY (32), PROXY_CPU (0), LOAD_CPU (1), OUT_DIR (a temp dir, kept), SEED (1)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
RATE=${RATE:-1000}
OPEN_SECONDS=${OPEN_SECONDS:-8}
CLOSED_SECONDS=${CLOSED_SECONDS:-5}
CONCURRENCY=${CONCURRENCY:-32}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
SEED=${SEED:-1}

die() { echo "overhead: $*" >&2; exit 1; }
log() { echo "[overhead] $*" >&2; }

[ -x "$SLUICE_BIN" ] || die "sluice binary not found at $SLUICE_BIN (set SLUICE_BIN)"
[ -x "$NGINX_BIN" ] || die "nginx not found at $NGINX_BIN (apt-get install nginx-light)"
for tool in taskset node; do command -v "$tool" >/dev/null || die "$tool not found"; done
if [ "$(nproc)" -lt 2 ]; then PROXY_CPU=0 LOAD_CPU=0; log "one CPU: everything shares CPU 0"; fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-overhead.XXXXXX")
OUT_DIR=${OUT_DIR:-$TMP/results}
mkdir -p "$OUT_DIR"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  [ "$OUT_DIR" = "$TMP/results" ] && log "raw results: $OUT_DIR (kept)"
  find "$TMP" -mindepth 1 -maxdepth 1 ! -name results -exec rm -rf {} +
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Others may rebuild the binary while we measure: run a private copy.
cp "$SLUICE_BIN" "$TMP/sluice"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# --- upstream: the zero-latency sim -------------------------------------------------------------------
taskset -c "$LOAD_CPU" "$TMP/sluice" sim --port 0 --scenario instant --workers 1 --log-level warn \
  2>"$TMP/sim.err" &
PIDS+=($!)
SIM_PORT=$(port_from "$TMP/sim.err" sluice-sim)
log "sim on $SIM_PORT"

# --- nginx: one worker, keep-alive to the upstream, no buffering (SSE passes through as it comes) -----
NGINX_PORT=$(free_port)
USER_LINE=""
[ "$(id -u)" = 0 ] && USER_LINE="user root;"
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx.conf" <<CONF
$USER_LINE
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  keepalive_requests 1000000;
  upstream sim {
    server 127.0.0.1:$SIM_PORT;
    keepalive 128;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    location / {
      proxy_pass http://sim;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
CONF
taskset -c "$PROXY_CPU" "$NGINX_BIN" -c "$TMP/nginx.conf" -p "$TMP/nginx" 2>"$TMP/nginx.err" &
PIDS+=($!)

# --- sluice gateway: one worker ----------------------------------------------------------------------
cat >"$TMP/sluice.yaml" <<CONF
listen: "127.0.0.1:0"
workers: 1
access_log: "off"
log_level: warn
upstreams:
  sim:
    base_url: http://127.0.0.1:$SIM_PORT
models:
  deepseek-chat:
    upstream: sim
CONF
taskset -c "$PROXY_CPU" "$TMP/sluice" serve -c "$TMP/sluice.yaml" 2>"$TMP/sluice.err" &
PIDS+=($!)
GW_PORT=$(port_from "$TMP/sluice.err" sluice)
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null && break
  sleep 0.05
done
log "nginx on $NGINX_PORT, sluice on $GW_PORT"

declare -A URL=([direct]="http://127.0.0.1:$SIM_PORT" [nginx]="http://127.0.0.1:$NGINX_PORT"
  [sluice]="http://127.0.0.1:$GW_PORT")

# run NAME ARGS...: one bench run pinned with the sim, JSON kept.
run() {
  local name=$1; shift
  taskset -c "$LOAD_CPU" "$TMP/sluice" bench --quiet --seed "$SEED" --max-tokens 16 --prompt-tokens 100 \
    --timeout 10s --json "$OUT_DIR/$name.json" "$@" >/dev/null
}

# Warm-up: open connections and fault in code paths once per path.
for p in direct nginx sluice; do
  run "warmup-$p" --url "${URL[$p]}" --concurrency 8 --duration 1s
done

for stream in 0 1; do
  flag=(); kind=chat
  [ "$stream" = 1 ] && { flag=(--stream); kind=stream; }
  for p in direct nginx sluice; do
    log "$kind via $p: open loop $RATE req/s for ${OPEN_SECONDS}s"
    run "$p-$kind-open" --url "${URL[$p]}" "${flag[@]}" --rate "$RATE" --duration "${OPEN_SECONDS}s"
    log "$kind via $p: closed loop c=$CONCURRENCY for ${CLOSED_SECONDS}s"
    run "$p-$kind-closed" --url "${URL[$p]}" "${flag[@]}" --concurrency "$CONCURRENCY" --duration "${CLOSED_SECONDS}s"
  done
done

# --- the table --------------------------------------------------------------------------------------
node - "$OUT_DIR" "$RATE" "$CONCURRENCY" <<'JS'
const fs = require('fs');
const [dir, rate, conc] = process.argv.slice(2);
const read = (n) => JSON.parse(fs.readFileSync(`${dir}/${n}.json`, 'utf8'));
const ms = (v) => (v < 1 ? `${(v * 1000).toFixed(0)} µs` : `${v.toFixed(2)} ms`);
console.log(`| test | path | open loop ${rate} req/s: success | p50 | p90 | p99 | TTFT p50 / p99 | closed loop c=${conc}: req/s | p50 | p99 |`);
console.log('|---|---|---:|---:|---:|---:|---|---:|---:|---:|');
for (const kind of ['chat', 'stream']) {
  const base = read(`direct-${kind}-open`).latency_ms.e2e;
  for (const p of ['direct', 'nginx', 'sluice']) {
    const o = read(`${p}-${kind}-open`);
    const c = read(`${p}-${kind}-closed`);
    const e = o.latency_ms.e2e;
    const add = p === 'direct' ? '' : ` (+${ms(Math.max(0, e.p50 - base.p50))})`;
    const ttft = kind === 'stream' ? `${ms(o.latency_ms.ttft.p50)} / ${ms(o.latency_ms.ttft.p99)}` : '-';
    console.log(`| ${kind === 'chat' ? 'non-stream' : 'stream'} | ${p} | ${o.success_pct.toFixed(2)} % | ${ms(e.p50)}${add} | ` +
      `${ms(e.p90)} | ${ms(e.p99)} | ${ttft} | ${c.rps.toFixed(0)} | ${ms(c.latency_ms.e2e.p50)} | ${ms(c.latency_ms.e2e.p99)} |`);
  }
}
JS
