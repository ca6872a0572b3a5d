#!/usr/bin/env bash
# User-space instructions per proxied request, sluice vs nginx, counted by valgrind (callgrind).
#
# Wall-clock benchmarks on this host swing by up to 1.5x within minutes; instruction counts do not. This
# runs each proxy under callgrind in front of the same trivial upstream as bench/proxy_vs_nginx.sh (same
# templates, same wrk script), warms it up, counts instructions only while a fixed-length wrk load runs,
# and divides by the requests served. Kernel time (about 60 % of either proxy's CPU) is not counted, and an
# instruction is not a nanosecond (simdjson's SIMD runs at a higher IPC than branchy header parsing), so use
# it to compare builds of sluice and to see where its user-space work goes, next to the wall-clock figures.
# sluice runs with the ledger off (LEDGER=on counts it too: its writer thread is in the same count), one
# worker; nginx with one process.
#
# Usage: bench/proxy_instructions.sh [--top N]
#   --top N   also print sluice's N most expensive functions (self instructions per request)
# Environment: SLUICE_BIN (build/sluice), NGINX_BIN (/usr/sbin/nginx), WRK_BIN (wrk), DURATION (5, seconds
#   of counted load), CONNECTIONS (8), LEDGER (off | on), FEATURES (minimal | full: bench/proxy/sluice-full.yaml.in,
#   every per-request feature on; LEDGER is then ignored), KEEP_TMP (0)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/bench/proxy
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
WRK_BIN=${WRK_BIN:-wrk}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-8}
LEDGER=${LEDGER:-off}
FEATURES=${FEATURES:-minimal}
case "$FEATURES" in minimal|full) ;; *) echo "FEATURES must be minimal or full, not: $FEATURES" >&2; exit 2 ;; esac
case "$LEDGER" in on|off) ;; *) echo "LEDGER must be on or off, not: $LEDGER" >&2; exit 2 ;; esac
TOP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --top) TOP=${2:?--top needs a number}; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done

die() { echo "proxy_instructions: $*" >&2; exit 1; }
log() { echo "[bench] $*" >&2; }
[ -x "$SLUICE_BIN" ] || die "sluice binary not found at $SLUICE_BIN (run make build)"
[ -x "$NGINX_BIN" ] || die "nginx not found at $NGINX_BIN (apt-get install nginx-light)"
for tool in "$WRK_BIN" valgrind callgrind_control callgrind_annotate curl ss; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install valgrind wrk curl)"
done
for v in DURATION CONNECTIONS TOP; do [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer"; done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-instr.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cp "$SLUICE_BIN" "$TMP/sluice"

# shellcheck source=bench/proxy/templates.sh
source "$HERE/templates.sh"
UPSTREAM_PORT=$(free_port)
NGINX_CHAT_PORT=$(free_port)
NGINX_STREAM_PORT=$(free_port)
SLUICE_PORT=$(free_port)

render_proxy_template "$HERE/upstream.nginx.conf.in" >"$TMP/upstream.conf"
# Under valgrind nginx must be one process: no master, the worker's work is the process's.
render_proxy_template "$HERE/nginx.conf.in" | sed 's/^daemon off;/daemon off;\nmaster_process off;/' >"$TMP/nginx-proxy.conf"
grep -q '^master_process off;' "$TMP/nginx-proxy.conf" || die "nginx.conf.in no longer has 'daemon off;'"
if [ "$FEATURES" = full ]; then
  render_proxy_template "$HERE/sluice-full.yaml.in" | sed "s/127\.0\.0\.1:0/127.0.0.1:$SLUICE_PORT/" >"$TMP/sluice.yaml"
else
  {
    render_proxy_template "$HERE/sluice.yaml.in" | sed "s/127\.0\.0\.1:0/127.0.0.1:$SLUICE_PORT/"
    [ "$LEDGER" = on ] || echo "  enabled: false"  # the template ends in its `ledger:` block
  } >"$TMP/sluice.yaml"
fi

"$NGINX_BIN" -p "$TMP" -c "$TMP/upstream.conf" -e "$TMP/upstream.log" &
PIDS+=($!)

wait_up() {  # url pid name
  for _ in $(seq 1 300); do
    kill -0 "$2" 2>/dev/null || die "$3 exited during startup (see $TMP)"
    curl -s -o /dev/null --max-time 2 "$1" && return 0
    sleep 0.1
  done
  die "$3 did not answer $1"
}
load() {  # url scenario seconds → BENCH line
  BENCH_STREAM=$([ "$2" = stream ] && echo 1 || echo 0) "$WRK_BIN" -t1 -c"$CONNECTIONS" -d"$3"s \
    -s "$HERE/chat.lua" "$1" | grep '^BENCH'
}

# count NAME URL_CHAT URL_STREAM -- COMMAND...: one line per scenario, "NAME SCENARIO REQUESTS IR_PER_REQUEST"
count() {
  local name=$1 chat=$2 stream=$3 pid out s r n ir
  shift 4
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$TMP/$name.cg" "$@" \
    >"$TMP/$name.out" 2>"$TMP/$name.err" &
  pid=$!
  PIDS+=("$pid")
  wait_up "${chat%/v1/chat/completions}/" "$pid" "$name"
  for s in chat stream; do
    local url=$chat
    [ $s = stream ] && url=$stream
    load "$url" $s 2 >/dev/null
    callgrind_control -z "$pid" >/dev/null 2>&1
    callgrind_control -i on "$pid" >/dev/null 2>&1
    r=$(load "$url" $s "$DURATION")
    callgrind_control -i off "$pid" >/dev/null 2>&1
    rm -f "$TMP/$name.cg".*
    callgrind_control -d "$pid" >/dev/null 2>&1
    n=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$r")
    [[ $r == *"err_status=0 "* ]] || die "$name $s: the load saw errors: $r"
    out=$(ls "$TMP/$name.cg".* | head -1)
    ir=$(callgrind_annotate --auto=no "$out" | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
    echo "$name $s $n $((ir / n))"
    if [ "$TOP" -gt 0 ] && [ "$name" = sluice ]; then
      { callgrind_annotate --auto=no --threshold=100 "$out" | grep -E '^ *[0-9,]+ \(' | grep -v 'PROGRAM TOTALS' |
        awk -v n="$n" -v top="$TOP" 'NR <= top {x=$1; gsub(",","",x); sub(/^ *[0-9,]+ +(\([^)]*\) +)?/, ""); printf "    %7.0f %s\n", x/n, substr($0,1,150)}' >&2; } || true
    fi
  done
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

log "counting (valgrind is ~50x slower than native; rates below are not throughput)"
{
  count sluice "http://127.0.0.1:$SLUICE_PORT/v1/chat/completions" "http://127.0.0.1:$SLUICE_PORT/v1/chat/completions" \
    -- "$TMP/sluice" serve -c "$TMP/sluice.yaml"
  count nginx "http://127.0.0.1:$NGINX_CHAT_PORT/v1/chat/completions" \
    "http://127.0.0.1:$NGINX_STREAM_PORT/v1/chat/completions" -- "$NGINX_BIN" -p "$TMP" -c "$TMP/nginx-proxy.conf" \
    -e "$TMP/nginx.log"
} >"$TMP/results"
awk '{ir[$1" "$2]=$4; n[$1" "$2]=$3}
  END {
    printf "| test | sluice instructions/request | nginx instructions/request | sluice / nginx |\n|---|---:|---:|---:|\n"
    split("chat stream", s, " ")
    for (i = 1; i <= 2; i++) {
      a = ir["sluice " s[i]]; b = ir["nginx " s[i]]
      printf "| %s | %d | %d | %.2fx |\n", (s[i] == "chat" ? "non-stream" : "stream (16 events)"), a, b, a / b
    }
  }' "$TMP/results"
