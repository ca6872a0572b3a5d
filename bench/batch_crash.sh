#!/usr/bin/env bash
# Issue 27's crash-safety check: a LINES-line batch (default 10,000) against `sluice sim`.
#   1. SQLite: the gateway is killed with SIGKILL twice mid-run and restarted on the same data directory;
#   2. PostgreSQL (started here from Debian's binaries, initdb + pg_ctl in a temporary directory on a free
#      port, as the postgres user when run as root): two replicas on one database, one killed mid-run.
# Each part then checks that the output and error files together hold exactly LINES lines, each custom_id
# once, and that the ledger (/admin/usage, upstream requests of the batch's key) counts exactly LINES requests:
# each line's usage once, although a killed process lost what it had in memory and lines that ran on it
# without a stored result ran again (the ledger is fed from the stored results: docs/batch.md "Exactly once
# in the ledger"). Exits 1 when a check fails.
#
# Lines run through the gateway's LineRunner (docs/batch.md); if none completes the script
# says so after WAIT_RUN seconds.
# Usage: bench/batch_crash.sh [sqlite|postgres|both]
# Environment: SLUICE_BIN (build/sluice), LINES (10000), KILL_AFTER (lines done before each kill: LINES/4),
#   WAIT_RUN (600), SEED (1), OUT_DIR (a temp dir, kept)
set -euo pipefail

NAME=batch_crash
# shellcheck source=bench/batch_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/batch_lib.sh"
LINES=${LINES:-10000}
KILL_AFTER=${KILL_AFTER:-$((LINES / 4))}
WAIT_RUN=${WAIT_RUN:-600}
SEED=${SEED:-1}
WHAT=${1:-both}
KEY=bench-crash-key-1
ADMIN=bench-crash-admin-0123456789
PG_BIN=/usr/lib/postgresql/15/bin
DRIVER="$ROOT/bench/batch_driver.mjs"

PG_DATA=""
AS_PG=""
cleanup_extra() {
  if [ -n "$PG_DATA" ]; then
    $AS_PG "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$(dirname "$PG_DATA")"
  fi
}

"$SLUICE_BIN" sim --port 0 --seed "$SEED" --slots 64 --ttft 20ms/80ms --itl 1ms --output-tokens 16/32 \
  2>"$TMP/sim.err" &
PIDS+=($!)
SIM_PORT=$(port_from "$TMP/sim.err" sluice-sim)

config() {  # $1: file, $2: data dir, $3: extra batch lines
  cat >"$1" <<EOF
listen: 127.0.0.1:0
workers: 2
log_level: warn
access_log: "off"
keys: [{name: bench, secret_env: BENCH_KEY}]
upstreams:
  sim: {base_url: "http://127.0.0.1:$SIM_PORT"}
models:
  deepseek-chat: {upstream: sim}
ledger: {path: "$2/ledger.db", flush_interval: 200ms}
batch:
  data_dir: "$2"
  poll_interval: 200ms
  lease: 5s
  concurrency: 64
$3
EOF
}

start_gateway() {  # $1: config; sets GW_PORT and GW_PID (also appended to PIDS)
  : >"$1.err"
  BENCH_KEY=$KEY SLUICE_ADMIN_KEY=$ADMIN SLUICE_BATCH_PG="${PG_DSN:-}" "$SLUICE_BIN" serve -c "$1" 2>"$1.err" &
  GW_PID=$!
  PIDS+=("$GW_PID")
  GW_PORT=$(port_from "$1.err" sluice)
}

done_lines() {  # $1: url, $2: batch id
  curl -s -H "Authorization: Bearer $KEY" "$1/v1/batches/$2" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const b=JSON.parse(s);console.log(b.request_counts.completed+b.request_counts.failed)})'
}

wait_done_lines() {  # $1: url, $2: id, $3: lines
  local start=$SECONDS n
  for (( ; ; )); do
    n=$(done_lines "$1" "$2")
    [ "$n" -ge "$3" ] && return 0
    [ $((SECONDS - start)) -gt "$WAIT_RUN" ] && die "only $n line(s) done after $WAIT_RUN s (is the LineRunner wired? docs/batch.md)"
    sleep 0.2
  done
}

ledger_requests() {  # $1: url; the requests of key `bench` with source `upstream`
  curl -s -H "Authorization: Bearer $ADMIN" "$1/admin/usage?group_by=key,source" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const g=JSON.parse(s).groups.find(
      (x)=>x.key==="bench"&&x.source==="upstream");console.log(g?g.requests:0)})'
}

# Waits until the ledger holds LINES requests (the feed runs every poll) or stops changing for 10 s, then
# once more after a second (a late double count would show); appends the figures to $2.
FAILED=0
ledger_check() {  # $1: url, $2: results file
  local n prev=-1 same=0
  for (( ; ; )); do
    n=$(ledger_requests "$1")
    [ "$n" -ge "$LINES" ] && break
    if [ "$n" = "$prev" ]; then same=$((same + 1)); else same=0; fi
    [ "$same" -ge 50 ] && break
    prev=$n
    sleep 0.2
  done
  sleep 1
  n=$(ledger_requests "$1")
  local exact=false
  [ "$n" -eq "$LINES" ] && exact=true
  echo "{\"lines\": $LINES, \"ledger_upstream_requests\": $n, \"ledger_exact\": $exact}" | tee -a "$2"
  [ "$exact" = true ] || { log "ledger counted $n request(s) for $LINES lines"; FAILED=1; }
}

sqlite_part() {
  log "SQLite: $LINES lines, SIGKILL twice"
  local dir="$TMP/sqlite" cfg="$TMP/sqlite.yaml" url id
  mkdir -p "$dir"
  config "$cfg" "$dir" ""
  start_gateway "$cfg"
  url="http://127.0.0.1:$GW_PORT"
  id=$(node "$DRIVER" submit "$url" "$KEY" "$LINES" 24h asap crash)
  for k in 1 2; do
    wait_done_lines "$url" "$id" $((KILL_AFTER * k))
    kill -KILL "$GW_PID"
    wait "$GW_PID" 2>/dev/null || true
    log "killed at $(( KILL_AFTER * k ))+ lines; restarting"
    start_gateway "$cfg"
    url="http://127.0.0.1:$GW_PORT"
  done
  node "$DRIVER" wait "$url" "$KEY" "$WAIT_RUN" "$id"
  node "$DRIVER" check-output "$url" "$KEY" "$LINES" "$id" | tee "$OUT_DIR/sqlite.json"
  ledger_check "$url" "$OUT_DIR/sqlite.json"
}

postgres_part() {
  [ -x "$PG_BIN/initdb" ] || die "postgresql-15 is not installed"
  log "PostgreSQL: two replicas, one killed"
  local pgdir port
  pgdir=$(mktemp -d /tmp/sluice-pg.XXXXXX)  # not under $TMP: the postgres user must reach it
  if [ "$(id -u)" = 0 ]; then AS_PG="runuser -u postgres --"; chown postgres:postgres "$pgdir"; fi
  PG_DATA="$pgdir/data"
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  $AS_PG "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U postgres -E UTF8 --no-sync >"$TMP/initdb.log" 2>&1
  $AS_PG "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$pgdir/server.log" -w \
    -o "-p $port -k $pgdir -c listen_addresses='' -c fsync=off" start >/dev/null
  PG_DSN="host=$pgdir port=$port user=postgres dbname=postgres"
  local extra="  store: postgres"$'\n'"  postgres: {connections: 2}"
  mkdir -p "$TMP/ra" "$TMP/rb"
  config "$TMP/ra.yaml" "$TMP/ra" "$extra"
  config "$TMP/rb.yaml" "$TMP/rb" "$extra"
  local ua ub id victim
  start_gateway "$TMP/ra.yaml"
  victim=$GW_PID
  ua="http://127.0.0.1:$GW_PORT"
  start_gateway "$TMP/rb.yaml"
  ub="http://127.0.0.1:$GW_PORT"
  id=$(node "$DRIVER" submit "$ua" "$KEY" "$LINES" 24h asap pgcrash)
  wait_done_lines "$ub" "$id" "$KILL_AFTER"
  kill -KILL "$victim"
  log "killed replica A at $KILL_AFTER+ lines; B carries on (A's leases expire)"
  node "$DRIVER" wait "$ub" "$KEY" "$WAIT_RUN" "$id"
  node "$DRIVER" check-output "$ub" "$KEY" "$LINES" "$id" | tee "$OUT_DIR/postgres.json"
  ledger_check "$ub" "$OUT_DIR/postgres.json"
}

case "$WHAT" in
  sqlite) sqlite_part ;;
  postgres) postgres_part ;;
  both) sqlite_part; postgres_part ;;
  *) die "usage: bench/batch_crash.sh [sqlite|postgres|both]" ;;
esac
log "raw results in $OUT_DIR"
exit "$FAILED"
