#!/usr/bin/env bash
# Issue 4: hedging against a slow-first-token tail. Two identical sims, TTFT p50 80 ms, and 3 % of requests
# whose first token takes 5 s (a queue, a cold node). Streaming requests at a fixed Poisson rate through sluice,
# without hedging and with a learned-p95 hedge; p50/p99 TTFT and the extra attempts hedging cost.
# Usage: bench/resil/hedging.sh   Env: SLUICE_BIN, RATE (20 req/s), SECONDS_PER_RUN (25), SEED (1), OUT_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RATE=${RATE:-20}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-25}
SEED=${SEED:-1}

cat >"$TMP/slow.yaml" <<'YAML'
name: slow-tail
defaults:
  slots: 128
  ttft: {p50: 80ms, p99: 200ms}
  itl: 5ms
  output_tokens: 24
  faults:
    slow_first_token: 0.03
    slow_first_token_ttft: 5s
YAML

run() {  # run NAME HEDGE_YAML
  start_sim A a "$SEED" "$TMP/slow.yaml"
  start_sim B b $((SEED + 1)) "$TMP/slow.yaml"
  cat >"$TMP/$1.yaml" <<YAML
listen: 127.0.0.1:0
workers: 1
log_level: warn
access_log: "off"
upstreams:
  a: {base_url: "http://127.0.0.1:$A"}
  b: {base_url: "http://127.0.0.1:$B"}
models:
  deepseek-chat:
    balancer: round_robin
    deployments: [{upstream: a}, {upstream: b}]
$2
YAML
  start_gateway GW "$1" "$TMP/$1.yaml"
  log "$1: $RATE req/s for $SECONDS_PER_RUN s"
  "$SLUICE" bench --url "http://127.0.0.1:$GW" --stream --rate "$RATE" --duration "${SECONDS_PER_RUN}s" \
    --max-tokens 24 --seed "$SEED" --quiet --json "$OUT_DIR/$1.json" >/dev/null
  echo $(( $(sim_stat "$A" requests) + $(sim_stat "$B" requests) )) >"$OUT_DIR/$1.attempts"
  stop_all
}

run no_hedge ""
run hedge "    hedge: {delay: auto, quantile: 95, min_samples: 20, min_delay: 50ms, max_delay: 2s}"

node - "$OUT_DIR" <<'JS' | tee "$OUT_DIR/summary.md"
const dir = process.argv[2], fs = require('fs');
const r = (n) => JSON.parse(fs.readFileSync(`${dir}/${n}.json`, 'utf8'));
const att = (n) => Number(fs.readFileSync(`${dir}/${n}.attempts`, 'utf8'));
console.log('| 3 % of first tokens take 5 s | requests | success | TTFT p50 ms | TTFT p90 ms | TTFT p99 ms | upstream attempts / request |');
console.log('|---|---|---|---|---|---|---|');
for (const [n, label] of [['no_hedge', 'no hedging'], ['hedge', 'hedge after learned p95']]) {
  const x = r(n), t = x.latency_ms.ttft;
  console.log(`| ${label} | ${x.requests} | ${x.success_pct.toFixed(1)} % | ${t.p50} | ${t.p90} | ${t.p99} | ${(att(n) / x.requests).toFixed(3)} |`);
}
const gain = r('no_hedge').latency_ms.ttft.p99 / r('hedge').latency_ms.ttft.p99;
console.log(`\np99 TTFT reduced ${gain.toFixed(1)}×`);
JS
