#!/usr/bin/env bash
# Issue 8, reproduction 1: the "server busy" completion test. 100 concurrent clients send 1000 non-stream chat
# requests to a fleet of three sims (two `flaky`, one `overloaded-503`):
#   - direct, no retries;
#   - direct, with the naive retry loop (backoff 1 s, 2 s, 4 s; 20 s client timeout), spreading over the fleet;
#   - through sluice (clients do not retry; sluice retries with budget, ejects, times out stalls).
# Reports completion rate, attempts and latency of completed requests.
# Usage: bench/resil/server_busy.sh   Env: SLUICE_BIN, CLIENTS (100), REQUESTS (1000), SEED (1), OUT_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CLIENTS=${CLIENTS:-100}
REQUESTS=${REQUESTS:-1000}
SEED=${SEED:-1}
NAIVE="$ROOT/bench/resil/naive_clients.mjs"

fleet() {
  start_sim A a "$SEED" flaky
  start_sim B b $((SEED + 1)) flaky
  start_sim C c $((SEED + 2)) overloaded-503
  URLS="http://127.0.0.1:$A,http://127.0.0.1:$B,http://127.0.0.1:$C"
}
fleet_attempts() { echo $(( $(sim_stat "$A" requests) + $(sim_stat "$B" requests) + $(sim_stat "$C" requests) )); }

run() {  # run NAME URLS RETRIES
  log "$1"
  node "$NAIVE" --urls "$2" --clients "$CLIENTS" --requests "$REQUESTS" --retries "$3" --timeout 20000 \
    --seed "$SEED" >"$OUT_DIR/$1.json"
  node -e "const r=JSON.parse(require('fs').readFileSync('$OUT_DIR/$1.json','utf8'));r.upstream_attempts=$(fleet_attempts);require('fs').writeFileSync('$OUT_DIR/$1.json',JSON.stringify(r))"
}

fleet
[ -n "${ONLY_SLUICE:-}" ] || run direct_no_retry "$URLS" 0
stop_all
fleet
[ -n "${ONLY_SLUICE:-}" ] || run direct_naive_retry "$URLS" 3
stop_all
fleet
cat >"$TMP/gw.yaml" <<YAML
listen: 127.0.0.1:0
workers: 1
log_level: warn
access_log: stdout
upstreams:
$(for p in $A $B $C; do echo "  s$p: {base_url: \"http://127.0.0.1:$p\", timeouts: {connect: 1s, first_token: 30s, idle: 5s, total: 60s}}"; done)
models:
  deepseek-chat:
    balancer: peak_ewma
    deployments: [{upstream: s$A}, {upstream: s$B}, {upstream: s$C}]
    retry: {max_attempts: 4, backoff_base: 50ms, backoff_cap: 1s, throttle_k: 4}
YAML
start_gateway GW gw "$TMP/gw.yaml"
run sluice "http://127.0.0.1:$GW" 0
cp "$TMP/gw.access" "$OUT_DIR/sluice_access.jsonl"

node - "$OUT_DIR" <<'JS' | tee "$OUT_DIR/summary.md"
const dir = process.argv[2];
const r = (n) => JSON.parse(require('fs').readFileSync(`${dir}/${n}.json`, 'utf8'));
console.log('| 100 clients, 1000 requests, 2 × flaky + 1 × overloaded-503 | completed | upstream attempts | p50 ms | p99 ms | mean ms |');
console.log('|---|---|---|---|---|---|');
for (const [name, label] of [['direct_no_retry', 'direct, no retries'], ['direct_naive_retry', 'direct, naive retries (1/2/4 s backoff)'], ['sluice', 'through sluice']]) {
  if (!require('fs').existsSync(`${dir}/${name}.json`)) continue;  // ONLY_SLUICE=1 skips the direct legs
  const x = r(name);
  console.log(`| ${label} | ${x.completion_pct.toFixed(1)} % | ${x.upstream_attempts} | ${x.p50_ms} | ${x.p99_ms} | ${x.mean_ms} |`);
}
JS
