#!/usr/bin/env bash
# Issue 9's pacing figure: one provider (a `sluice sim` enforcing per-key request windows and publishing
# x-ratelimit-* headers) reached through sluice with two API keys of unequal limits. The same open-loop load,
# below the keys' combined limit, is sent with key pacing on and off (off = plain round robin over the keys);
# the sim counts the 429s it had to send. Prints a Markdown table; raw --json files stay in OUT_DIR.
#
# Usage: bench/key_pacing.sh
# Environment: SLUICE_BIN (build/sluice), RATE (20 req/s), SECONDS_PER_RUN (30), LIMITS (sk-a=60,sk-b=180),
#   WINDOW (10s), OUT_DIR (a temp dir, kept), SEED (1)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
RATE=${RATE:-20}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-30}
LIMITS=${LIMITS:-sk-a=60,sk-b=180}
WINDOW=${WINDOW:-10s}
SEED=${SEED:-1}

die() { echo "key_pacing: $*" >&2; exit 1; }
log() { echo "[key_pacing] $*" >&2; }
[ -x "$SLUICE_BIN" ] || die "sluice binary not found at $SLUICE_BIN (set SLUICE_BIN)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-pacing.XXXXXX")
OUT_DIR=${OUT_DIR:-$TMP/results}
mkdir -p "$OUT_DIR"
PIDS=()
stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
trap 'stop_all; log "raw results: $OUT_DIR"' EXIT
cp "$SLUICE_BIN" "$TMP/sluice"  # others may rebuild the binary while we measure

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

for pacing in true false; do
  "$TMP/sluice" sim --port 0 --ttft 50ms --itl 1ms --key-limit "$LIMITS" --key-window "$WINDOW" \
    --log-level warn 2>"$TMP/sim-$pacing.err" &
  PIDS+=($!)
  SIM_PORT=$(port_from "$TMP/sim-$pacing.err" sluice-sim)
  cat >"$TMP/sluice-$pacing.yaml" <<CONF
listen: "127.0.0.1:0"
workers: 1
access_log: "off"
log_level: error
upstreams:
  ds:
    base_url: http://127.0.0.1:$SIM_PORT
    api_key_env: [KEY_A, KEY_B]
    key_pacing: $pacing
models:
  deepseek-chat:
    upstream: ds
CONF
  KEY_A=sk-a KEY_B=sk-b "$TMP/sluice" serve -c "$TMP/sluice-$pacing.yaml" 2>"$TMP/gw-$pacing.err" &
  PIDS+=($!)
  GW_PORT=$(port_from "$TMP/gw-$pacing.err" sluice)
  log "pacing=$pacing: $RATE req/s for ${SECONDS_PER_RUN}s (limits $LIMITS per $WINDOW)"
  "$TMP/sluice" bench --quiet --seed "$SEED" --url "http://127.0.0.1:$GW_PORT" --rate "$RATE" \
    --duration "${SECONDS_PER_RUN}s" --max-tokens 8 --timeout 30s --json "$OUT_DIR/pacing-$pacing.json" >/dev/null
  curl -s "http://127.0.0.1:$SIM_PORT/sim/stats" >"$OUT_DIR/sim-$pacing.json"
  stop_all
done

node - "$OUT_DIR" "$RATE" "$LIMITS" "$WINDOW" <<'JS'
const fs = require('fs');
const [dir, rate, limits, windowLen] = process.argv.slice(2);
const read = (n) => JSON.parse(fs.readFileSync(`${dir}/${n}.json`, 'utf8'));
console.log(`| key pacing | offered | client success | upstream 429s | upstream requests | p50 | p99 |`);
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const p of ['true', 'false']) {
  const b = read(`pacing-${p}`);
  const s = read(`sim-${p}`);
  const e = b.latency_ms.e2e;
  console.log(`| ${p === 'true' ? 'on' : 'off (round robin)'} | ${rate} req/s, keys ${limits} per ${windowLen} | ` +
    `${b.success_pct.toFixed(2)} % (${b.ok}/${b.requests}) | ${s.errors['429'] ?? 0} | ${(s.requests ?? 0) + (s.errors['429'] ?? 0)} | ` +
    `${e.p50.toFixed(0)} ms | ${e.p99.toFixed(0)} ms |`);
}
JS
