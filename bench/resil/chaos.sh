#!/usr/bin/env bash
# Issue 4's chaos figures.
#  A. A flaky fleet: one host refusing connections, one answering 30 % 503, one healthy. 2000 requests, direct
#     round robin (sluice bench spreads its --url list, never retries) vs through sluice (default peak_ewma,
#     3 attempts, outlier ejection). Success %, p99, and how many attempts went to the dead host.
#  B. A total outage: two hosts answer every request with 503 for 20 s (then healthy again) while requests arrive
#     at a fixed rate through sluice. Upstream attempts per request during the outage, and how long until success
#     is back at >= 99 % per second.
# Usage: bench/resil/chaos.sh   Env: SLUICE_BIN, RATE (40 req/s in B), SEED (1), OUT_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RATE=${RATE:-40}
SEED=${SEED:-1}

scen() {  # scen NAME 'yaml body': writes $TMP/NAME.yaml
  printf 'name: %s\n%s\n' "$1" "$2" >"$TMP/$1.yaml"
  echo "$TMP/$1.yaml"
}
fast='  slots: 256
  ttft: {p50: 20ms, p99: 80ms}
  itl: 1ms
  output_tokens: 16'

# --- A ----------------------------------------------------------------------------------------------
start_sim DEAD dead $SEED "$(scen dead "defaults:
$fast
  outage: refuse")"
start_sim FLAKY flaky $((SEED + 1)) "$(scen flaky "defaults:
$fast
  errors: {503: 0.3}")"
start_sim HEALTHY healthy $((SEED + 2)) "$(scen healthy "defaults:
$fast")"
log "A: dead=$DEAD flaky=$FLAKY healthy=$HEALTHY"
"$SLUICE" bench --url "http://127.0.0.1:$DEAD" --url "http://127.0.0.1:$FLAKY" --url "http://127.0.0.1:$HEALTHY" \
  --requests 2000 --concurrency 32 --max-tokens 16 --seed "$SEED" --quiet --json "$OUT_DIR/a_direct.json" >/dev/null
direct_flaky=$(sim_stat "$FLAKY" requests)
direct_healthy=$(sim_stat "$HEALTHY" requests)
cat >"$TMP/a.yaml" <<YAML
listen: 127.0.0.1:0
workers: 1
log_level: warn
access_log: stdout
upstreams:
  dead: {base_url: "http://127.0.0.1:$DEAD", timeouts: {connect: 1s, first_token: 10s, idle: 5s, total: 30s}}
  flaky: {base_url: "http://127.0.0.1:$FLAKY", timeouts: {connect: 1s, first_token: 10s, idle: 5s, total: 30s}}
  healthy: {base_url: "http://127.0.0.1:$HEALTHY", timeouts: {connect: 1s, first_token: 10s, idle: 5s, total: 30s}}
models:
  deepseek-chat:
    deployments: [{upstream: dead}, {upstream: flaky}, {upstream: healthy}]
    retry: {max_attempts: 3, backoff_base: 10ms, backoff_cap: 100ms, budget_ratio: 50, budget_min: 16, throttle_tokens: 100}
YAML
start_gateway GW a "$TMP/a.yaml"
"$SLUICE" bench --url "http://127.0.0.1:$GW" --requests 2000 --concurrency 32 --max-tokens 16 --seed "$SEED" \
  --quiet --json "$OUT_DIR/a_sluice.json" >/dev/null
sleep 0.5
attempts=$(node -e "const l=require('fs').readFileSync('$TMP/a.access','utf8').trim().split('\n').map(JSON.parse);console.log(l.reduce((s,x)=>s+(x.attempts||0),0))")
served=$(( $(sim_stat "$FLAKY" requests) - direct_flaky + $(sim_stat "$HEALTHY" requests) - direct_healthy ))
dead_attempts=$((attempts - served))
stop_all

# --- B ----------------------------------------------------------------------------------------------
outage_yaml="defaults:
$fast
phases:
  - {name: healthy, duration: 10s}
  - {name: outage, duration: 20s, outage: errors, outage_status: 503}
  - {name: recovered}"
t_sims=$(date +%s%3N)
start_sim X x $SEED "$(scen x "$outage_yaml")"
start_sim Y y $((SEED + 1)) "$(scen y "$outage_yaml")"
cat >"$TMP/b.yaml" <<YAML
listen: 127.0.0.1:0
workers: 1
log_level: warn
access_log: "off"
upstreams:
  x: {base_url: "http://127.0.0.1:$X", timeouts: {connect: 1s, first_token: 10s, idle: 5s, total: 30s}}
  y: {base_url: "http://127.0.0.1:$Y", timeouts: {connect: 1s, first_token: 10s, idle: 5s, total: 30s}}
models:
  deepseek-chat:
    deployments: [{upstream: x}, {upstream: y}]
    retry: {max_attempts: 3, backoff_base: 10ms, backoff_cap: 100ms, budget_ratio: 50, budget_min: 16, throttle_tokens: 100}
YAML
start_gateway GW b "$TMP/b.yaml"
log "B: outage sims x=$X y=$Y, $RATE req/s for 45 s"
t_bench=$(date +%s%3N)
# Upstream attempts inside the outage: the sims' request counters at its start and end.
sample_at() {  # sample_at SECONDS_AFTER_SIMS_START FILE
  local wait_ms=$(( t_sims + $1 * 1000 - $(date +%s%3N) ))
  [ "$wait_ms" -gt 0 ] && sleep "$(node -e "console.log($wait_ms/1000)")"
  echo $(( $(sim_stat "$X" requests) + $(sim_stat "$Y" requests) )) >"$2"
}
( sample_at 10 "$TMP/at10"; sample_at 30 "$TMP/at30" ) &
SAMPLER=$!
"$SLUICE" bench --url "http://127.0.0.1:$GW" --rate "$RATE" --duration 45s --max-tokens 16 --seed "$SEED" \
  --quiet --json "$OUT_DIR/b_sluice.json" >/dev/null
# The outage ran from 10 s to 30 s of the sims' clock; in the bench's clock it is shifted by the start gap.
offset=$(node -e "console.log(($t_bench - $t_sims) / 1000)")
wait "$SAMPLER"
node - "$OUT_DIR" "$offset" "$RATE" "$(sim_stat "$X" requests)" "$(sim_stat "$Y" requests)" "$attempts" \
  "$dead_attempts" "$(( $(cat "$TMP/at30") - $(cat "$TMP/at10") ))" <<'JS' | tee "$OUT_DIR/summary.md"
const [dir, offset, rate, xr, yr, attempts, deadAttempts, outageAttempts] = process.argv.slice(2);
const fs = require('fs');
const a = (f) => JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8'));
const ad = a('a_direct.json'), as = a('a_sluice.json'), b = a('b_sluice.json');
const row = (name, r, extra) => `| ${name} | ${r.requests} | ${r.success_pct.toFixed(2)} % | ${r.latency_ms.e2e.p50} | ${r.latency_ms.e2e.p99} | ${extra} |`;
console.log('| A: dead + 30 % 503 + healthy | requests | success | p50 ms | p99 ms | attempts to the dead host |');
console.log('|---|---|---|---|---|---|');
console.log(row('direct round robin, no retries', ad, `${Math.round(ad.requests / 3)} (a third)`));
console.log(row('through sluice', as, `${deadAttempts} of ${attempts} (${(100 * deadAttempts / attempts).toFixed(2)} %)`));
const start = 10 - Number(offset), end = 30 - Number(offset);
const tl = b.timeline, step = b.timeline_step_s;
const inOutage = tl.filter((p) => p.t >= start && p.t + step <= end);
const outReq = inOutage.reduce((s, p) => s + p.completed, 0);
let recovered = null;
for (const p of tl) {
  if (p.t < end || p.completed === 0) continue;
  const rest = tl.filter((q) => q.t >= p.t && q.completed > 0);
  if (rest.every((q) => q.ok / q.completed >= 0.99)) { recovered = p.t - end; break; }
}
const total = Number(xr) + Number(yr);
console.log();
console.log(`| B: 20 s total outage at ${rate} req/s | value |`);
console.log('|---|---|');
console.log(`| requests (45 s) | ${b.requests} |`);
console.log(`| upstream attempts / requests, whole run | ${(total / b.requests).toFixed(3)} |`);
console.log(`| requests completed during the outage | ${outReq} |`);
console.log(`| upstream attempts during the outage | ${outageAttempts} (${(outageAttempts / Math.max(1, outReq)).toFixed(3)} per request) |`);
console.log(`| success during the outage | ${(100 * inOutage.reduce((s, p) => s + p.ok, 0) / Math.max(1, outReq)).toFixed(1)} % |`);
console.log(`| success back to >= 99 % per second after the outage ended | ${recovered === null ? 'never' : `${Math.max(0, recovered).toFixed(1)} s`} |`);
console.log(`| overall success | ${b.success_pct.toFixed(2)} % |`);
JS
