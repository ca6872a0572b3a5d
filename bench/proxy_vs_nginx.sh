#!/usr/bin/env bash
# sluice vs nginx as reverse proxies in front of the same trivial upstream (a second nginx answering fixed
# bodies from memory), measured with wrk in one run on this machine:
#   - non-streaming chat completions: POST /v1/chat/completions, ~400-byte JSON body → RPS, p50, p99
#   - streaming chat completions: same with "stream": true, 16-chunk SSE answer → streams/s, p50, p99
# sluice runs with one worker thread; nginx with one worker process and upstream keep-alive; both without
# access logs. sluice runs twice: with its defaults (usage ledger on: per-second totals in SQLite) and with
# the ledger off ("sluice-nl"), which is what nginx does with access_log off. The proxy under test is
# pinned to one CPU, wrk and the upstream to the other. Each measurement is preceded by a warm-up; the
# proxies take turns (ABC CBA), ROUNDS times each, and the median is reported. Everything binds 127.0.0.1
# and is cleaned up on exit.
#
# Usage: bench/proxy_vs_nginx.sh [--update-doc]
#   --update-doc   also replace the "Gateway proxy vs nginx" section of docs/benchmarks.md with the results
# Environment: SLUICE_BIN (build/sluice), NGINX_BIN (/usr/sbin/nginx), WRK_BIN (wrk), DURATION (10, seconds),
#   WARMUP (2), CONNECTIONS (64), ROUNDS (2), PROXY_CPU (0), LOAD_CPU (1), QUIET_WAIT (30, seconds to wait
#   for other work on the machine to stop before measuring), RETRIES (3, disturbed runs repeated at most),
#   KEEP_TMP (0; 1 keeps the rendered configs and logs)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/bench/proxy
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
WRK_BIN=${WRK_BIN:-wrk}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-2}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
QUIET_WAIT=${QUIET_WAIT:-30}
RETRIES=${RETRIES:-3}
UPDATE_DOC=0
DOC=$ROOT/docs/benchmarks.md
SECTION_TITLE="## Gateway proxy vs nginx"

for arg in "$@"; do
  case "$arg" in
    --update-doc) UPDATE_DOC=1 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

die() { echo "proxy_vs_nginx: $*" >&2; exit 1; }
log() { echo "[bench] $*" >&2; }

[ -x "$SLUICE_BIN" ] || die "sluice binary not found at $SLUICE_BIN (run make build)"
[ -x "$NGINX_BIN" ] || die "nginx not found at $NGINX_BIN (apt-get install nginx-light)"
command -v "$WRK_BIN" >/dev/null || die "wrk not found (apt-get install wrk)"
for tool in taskset curl ss awk; do command -v "$tool" >/dev/null || die "$tool not found"; done
for v in DURATION WARMUP CONNECTIONS ROUNDS PROXY_CPU LOAD_CPU QUIET_WAIT RETRIES; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer"
done
[ "$ROUNDS" -ge 1 ] && [ "$DURATION" -ge 1 ] || die "ROUNDS and DURATION must be at least 1"
NCPU=$(nproc)
if [ "$NCPU" -lt 2 ]; then
  log "only $NCPU CPU: proxy, wrk and upstream all share CPU 0"
  PROXY_CPU=0 LOAD_CPU=0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")
PIDS=()
cleanup() {
  local pid i
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Others may rebuild build/sluice while we measure: run a private copy.
cp "$SLUICE_BIN" "$TMP/sluice"

# --- ports ----------------------------------------------------------------------------------------------
# shellcheck source=bench/proxy/templates.sh
source "$HERE/templates.sh"
wait_listen() {  # port pid name
  local i
  for i in $(seq 1 100); do
    kill -0 "$2" 2>/dev/null || die "$3 exited during startup (see above)"
    [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ] && return 0
    sleep 0.05
  done
  die "$3 is not listening on 127.0.0.1:$1 after 5 s"
}
UPSTREAM_PORT=$(free_port)
NGINX_CHAT_PORT=$(free_port)
NGINX_STREAM_PORT=$(free_port)

# --- configs --------------------------------------------------------------------------------------------
render_proxy_template "$HERE/upstream.nginx.conf.in" >"$TMP/upstream.conf"
render_proxy_template "$HERE/nginx.conf.in" >"$TMP/nginx-proxy.conf"
render_proxy_template "$HERE/sluice.yaml.in" >"$TMP/sluice.yaml"
render_proxy_template "$HERE/sluice-full.yaml.in" >"$TMP/sluice-full.yaml"
{ cat "$TMP/sluice.yaml"; echo "  enabled: false"; } >"$TMP/sluice-nl.yaml"  # the template ends in `ledger:`

# --- processes ------------------------------------------------------------------------------------------
start_nginx() {  # cpu conf name → sets STARTED_PID (the master; its worker inherits the CPU pinning)
  "$NGINX_BIN" -t -q -p "$TMP" -c "$2" -e "$TMP/$3-startup.log" || die "$3: nginx rejected $2"
  taskset -c "$1" "$NGINX_BIN" -p "$TMP" -c "$2" -e "$TMP/$3-startup.log" &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}
start_nginx "$LOAD_CPU" "$TMP/upstream.conf" upstream
UPSTREAM_PID=$STARTED_PID
start_nginx "$PROXY_CPU" "$TMP/nginx-proxy.conf" nginx-proxy
NGINX_PID=$STARTED_PID
taskset -c "$PROXY_CPU" "$TMP/sluice" serve -c "$TMP/sluice.yaml" 2>"$TMP/sluice.err" &
SLUICE_PID=$!
PIDS+=("$SLUICE_PID")
taskset -c "$PROXY_CPU" "$TMP/sluice" serve -c "$TMP/sluice-nl.yaml" 2>"$TMP/sluice-nl.err" &
SLUICE_NL_PID=$!
PIDS+=("$SLUICE_NL_PID")
taskset -c "$PROXY_CPU" "$TMP/sluice" serve -c "$TMP/sluice-full.yaml" 2>"$TMP/sluice-full.err" &
SLUICE_FULL_PID=$!
PIDS+=("$SLUICE_FULL_PID")

wait_listen "$UPSTREAM_PORT" "$UPSTREAM_PID" "upstream nginx"
wait_listen "$NGINX_CHAT_PORT" "$NGINX_PID" "nginx proxy"
wait_listen "$NGINX_STREAM_PORT" "$NGINX_PID" "nginx proxy"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
SLUICE_PORT=$(port_from "$TMP/sluice.err" sluice)
SLUICE_NL_PORT=$(port_from "$TMP/sluice-nl.err" sluice)
SLUICE_FULL_PORT=$(port_from "$TMP/sluice-full.err" sluice)
NGINX_WORKER_PID=""
for i in $(seq 1 100); do
  NGINX_WORKER_PID=$(ps -o pid= --ppid "$NGINX_PID" | head -1 | tr -d ' ')
  [ -n "$NGINX_WORKER_PID" ] && break
  sleep 0.05
done
[ -n "$NGINX_WORKER_PID" ] || die "nginx proxy has no worker process"

# --- endpoints and a correctness check before measuring -------------------------------------------------
declare -A URL
URL[sluice:chat]=http://127.0.0.1:$SLUICE_PORT/v1/chat/completions
URL[sluice:stream]=http://127.0.0.1:$SLUICE_PORT/v1/chat/completions
URL[sluice-nl:chat]=http://127.0.0.1:$SLUICE_NL_PORT/v1/chat/completions
URL[sluice-nl:stream]=http://127.0.0.1:$SLUICE_NL_PORT/v1/chat/completions
URL[sluice-full:chat]=http://127.0.0.1:$SLUICE_FULL_PORT/v1/chat/completions
URL[sluice-full:stream]=http://127.0.0.1:$SLUICE_FULL_PORT/v1/chat/completions
URL[nginx:chat]=http://127.0.0.1:$NGINX_CHAT_PORT/v1/chat/completions
URL[nginx:stream]=http://127.0.0.1:$NGINX_STREAM_PORT/v1/chat/completions
URL[direct:chat]=http://127.0.0.1:$UPSTREAM_PORT/plain/chat/completions
URL[direct:stream]=http://127.0.0.1:$UPSTREAM_PORT/sse/chat/completions
declare -A WORKPID=([sluice]=$SLUICE_PID [sluice-nl]=$SLUICE_NL_PID [sluice-full]=$SLUICE_FULL_PID [nginx]=$NGINX_WORKER_PID)

check() {  # proxy scenario
  local model=deepseek-chat stream=false out
  [ "$2" = stream ] && model=deepseek-chat-stream stream=true
  out=$(curl -sS --max-time 5 -H 'content-type: application/json' -H 'Authorization: Bearer sk-bench-not-checked' \
    -d "{\"model\":\"$model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":$stream}" \
    -w '\nHTTP %{http_code}' "${URL[$1:$2]}") || die "$1 $2: request failed"
  [[ $out == *"HTTP 200" ]] || die "$1 $2: unexpected answer: $out"
  if [ "$2" = stream ]; then
    local n
    n=$(grep -c '^data: ' <<<"$out" || true)
    [ "$n" -eq 17 ] && [[ $out == *'data: [DONE]'* ]] || die "$1 stream: expected 16 chunks + [DONE], got $n data lines: $out"
  else
    [[ $out == *'"chat.completion"'* ]] || die "$1 chat: not a chat completion: $out"
  fi
}
for p in sluice sluice-nl sluice-full nginx direct; do for s in chat stream; do check "$p" "$s"; done; done

# --- measuring ------------------------------------------------------------------------------------------
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_line() { awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6, $9}' /proc/stat; }  # busy idle steal
ledger_tid() { (grep -lx sluice-ledger /proc/"$1"/task/*/comm 2>/dev/null || true) | head -1 | cut -d/ -f5; }  # pid → tid
pct() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.0f", (b > 0 ? 100 * a / b : 0)}'; }
HZ=$(getconf CLK_TCK)
RESULTS=$TMP/results  # proxy scenario round rps p50_us p99_us errors proxy_cpu% proxy_us_per_req cpuP_busy% cpuL_busy% steal% ledger_us_per_req
: >"$RESULTS"
declare -A BODY_BYTES
measure_once() {  # proxy scenario round → appends one line to $RESULTS
  local url=${URL[$1:$2]} st=0 line t0=0 t1=0 wpid=${WORKPID[$1]:-} p0 p1 l0 l1 ltid="" lt0=0 lt1=0 lus="-"
  [ "$2" = stream ] && st=1
  if [ "$WARMUP" -gt 0 ]; then
    BENCH_STREAM=$st taskset -c "$LOAD_CPU" "$WRK_BIN" -t1 -c"$CONNECTIONS" -d"${WARMUP}s" \
      -s "$HERE/chat.lua" "$url" >/dev/null
  fi
  [ -n "$wpid" ] && t0=$(cpu_ticks "$wpid") && ltid=$(ledger_tid "$wpid")
  [ -n "$ltid" ] && lt0=$(cpu_ticks "$wpid/task/$ltid")
  read -ra p0 <<<"$(cpu_line "$PROXY_CPU")"; read -ra l0 <<<"$(cpu_line "$LOAD_CPU")"
  line=$(BENCH_STREAM=$st taskset -c "$LOAD_CPU" "$WRK_BIN" -t1 -c"$CONNECTIONS" -d"${DURATION}s" \
    -s "$HERE/chat.lua" "$url" | grep '^BENCH ') || die "wrk produced no result for $1 $2"
  read -ra p1 <<<"$(cpu_line "$PROXY_CPU")"; read -ra l1 <<<"$(cpu_line "$LOAD_CPU")"
  [ -n "$wpid" ] && t1=$(cpu_ticks "$wpid")
  [ -n "$ltid" ] && lt1=$(cpu_ticks "$wpid/task/$ltid")
  local rps p50 p99 errs reqs cpu="-" us="-" pb lb steal
  rps=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$line")
  reqs=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$line")
  p50=$(sed -n 's/.* p50_us=\([0-9]*\).*/\1/p' <<<"$line")
  p99=$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<<"$line")
  errs=$(awk '{s=0; for(i=1;i<=NF;i++) if ($i ~ /^err_/) {split($i,a,"="); s+=a[2]} print s}' <<<"$line")
  BODY_BYTES[$2]=$(sed -n 's/.* body_bytes=\([0-9]*\).*/\1/p' <<<"$line")
  if [ -n "$wpid" ]; then
    cpu=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v s="$DURATION" 'BEGIN{printf "%.0f", 100 * d / hz / s}')
    us=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v n="$reqs" 'BEGIN{printf "%.1f", (n > 0 ? 1e6 * d / hz / n : 0)}')
  fi
  [ -n "$ltid" ] && lus=$(awk -v d=$((lt1 - lt0)) -v hz="$HZ" -v n="$reqs" 'BEGIN{printf "%.1f", (n > 0 ? 1e6 * d / hz / n : 0)}')
  pb=$(pct $((p1[0] - p0[0])) $((p1[0] - p0[0] + p1[1] - p0[1])))
  lb=$(pct $((l1[0] - l0[0])) $((l1[0] - l0[0] + l1[1] - l0[1])))
  steal=$(pct $((p1[2] - p0[2] + l1[2] - l0[2])) $((p1[0] - p0[0] + p1[1] - p0[1] + l1[0] - l0[0] + l1[1] - l0[1])))
  echo "$1 $2 $3 $rps $p50 $p99 $errs $cpu $us $pb $lb $steal $lus" >>"$RESULTS"
  LAST_OTHER=0
  [ "$cpu" != - ] && LAST_OTHER=$((pb - cpu))
  log "$(printf '%-9s %-6s round %s: %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %s  proxy CPU %s%% (%s us/req%s)  CPU%s %s%% CPU%s %s%% busy' \
    "$1" "$2" "$3" "$rps" "$(awk -v v="$p50" 'BEGIN{print v/1000}')" "$(awk -v v="$p99" 'BEGIN{print v/1000}')" \
    "$errs" "$cpu" "$us" "${ltid:+, ledger thread $lus}" "$PROXY_CPU" "$pb" "$LOAD_CPU" "$lb")"
}

# A run during which other processes took more than 15% of the proxy's CPU is repeated once after waiting for
# the machine to calm down (at most RETRIES runs in all), and the less disturbed of the two is kept.
measure() {  # proxy scenario round
  measure_once "$@"
  if [ "$LAST_OTHER" -gt 15 ] && [ "$RETRIES" -gt 0 ]; then
    RETRIES=$((RETRIES - 1))
    local first_other=$LAST_OTHER first
    first=$(tail -1 "$RESULTS"); sed -i '$d' "$RESULTS"
    log "other processes took ${first_other}% of CPU $PROXY_CPU; repeating this run"
    wait_quiet 15
    measure_once "$@"
    if [ "$LAST_OTHER" -gt "$first_other" ]; then sed -i '$d' "$RESULTS"; echo "$first" >>"$RESULTS"; fi
  fi
}

# Other work on the machine (builds, tests) distorts the figures: wait a while for it to calm down.
busy_pct_all() {
  local a b
  read -ra a <<<"$(awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat)"
  sleep 1
  read -ra b <<<"$(awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat)"
  pct $((b[0] - a[0])) $((b[0] - a[0] + b[1] - a[1]))
}
wait_quiet() {  # max seconds → sets IDLE_BUSY
  local i
  IDLE_BUSY=$(busy_pct_all)
  for i in $(seq 1 "$1"); do
    [ "$IDLE_BUSY" -le 10 ] && return 0
    [ "$i" -eq 1 ] && log "machine is ${IDLE_BUSY}% busy with other work; waiting up to ${1}s for it to calm down"
    IDLE_BUSY=$(busy_pct_all)
  done
}
wait_quiet "$QUIET_WAIT"
START_BUSY=$IDLE_BUSY
[ "$START_BUSY" -le 10 ] || log "WARNING: machine still ${START_BUSY}% busy with other work; figures will be noisy"

START_EPOCH=$(date +%s)
log "proxy on CPU $PROXY_CPU, wrk + upstream on CPU $LOAD_CPU; wrk -t1 -c$CONNECTIONS, ${WARMUP}s warm-up + ${DURATION}s per run"
for s in chat stream; do measure direct "$s" 1; done   # the ceiling: wrk straight at the upstream
for r in $(seq 1 "$ROUNDS"); do
  for s in chat stream; do
    if [ $((r % 2)) -eq 1 ]; then
      measure sluice "$s" "$r"; measure sluice-nl "$s" "$r"; measure sluice-full "$s" "$r"; measure nginx "$s" "$r"
    else
      measure nginx "$s" "$r"; measure sluice-full "$s" "$r"; measure sluice-nl "$s" "$r"; measure sluice "$s" "$r"
    fi
  done
done
ELAPSED=$(( $(date +%s) - START_EPOCH ))

rss_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
SLUICE_RSS=$(rss_kb "$SLUICE_PID" VmRSS); SLUICE_HWM=$(rss_kb "$SLUICE_PID" VmHWM)
NGINX_RSS=$(rss_kb "$NGINX_WORKER_PID" VmRSS); NGINX_HWM=$(rss_kb "$NGINX_WORKER_PID" VmHWM)
kill -0 "$SLUICE_PID" 2>/dev/null || die "sluice died during the run"
kill -0 "$SLUICE_NL_PID" 2>/dev/null || die "sluice (ledger off) died during the run"
kill -0 "$SLUICE_FULL_PID" 2>/dev/null || die "sluice (every feature on) died during the run"

# --- report ---------------------------------------------------------------------------------------------
median() {  # proxy scenario column → median over rounds
  awk -v p="$1" -v s="$2" -v c="$3" '$1 == p && $2 == s {print $c}' "$RESULTS" | sort -g |
    awk '{v[NR] = $1} END {if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
ms() { awk -v v="$1" 'BEGIN{printf "%.2f ms", v / 1000}'; }
fix1() { awk -v v="$1" 'BEGIN{printf "%.1f", v}'; }
num() { awk -v v="$1" 'BEGIN{printf "%.0f", v}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if (b > 0) printf "%.2f×", a / b; else print "n/a"}'; }
total_errors=$(awk '{s += $7} END {print s + 0}' "$RESULTS")
MAX_OTHER=$(awk '$8 != "-" {o = $10 - $8; if (o > m) m = o} END {print m + 0}' "$RESULTS")
[ "$MAX_OTHER" -gt 10 ] && log "WARNING: other processes used up to ${MAX_OTHER}% of CPU $PROXY_CPU during a run; rerun on a quiet machine"

NGINX_VERSION=$("$NGINX_BIN" -v 2>&1 | sed 's/^nginx version: //')
NGINX_PKG=$(dpkg-query -W -f='${Package} ${Version}' nginx-light 2>/dev/null || true)
WRK_VERSION=$( ("$WRK_BIN" -v 2>&1 || true) | head -1 | awk '{print $2}')
SLUICE_VERSION=$("$TMP/sluice" --version 2>/dev/null | head -1 || true)
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$(dirname "$SLUICE_BIN")/CMakeCache.txt" 2>/dev/null || true)
ALLOCATOR="glibc malloc"
ldd "$TMP/sluice" 2>/dev/null | grep -q tcmalloc && ALLOCATOR=tcmalloc_minimal
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || GIT_REV+=" + uncommitted changes"
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
CMD="bench/proxy_vs_nginx.sh"
[ "$UPDATE_DOC" -eq 1 ] && CMD+=" --update-doc"
for v in DURATION WARMUP CONNECTIONS ROUNDS; do
  def=$(case $v in DURATION) echo 10;; WARMUP) echo 2;; CONNECTIONS) echo 64;; ROUNDS) echo 2;; esac)
  [ "${!v}" != "$def" ] && CMD="$v=${!v} $CMD"
done

row() {  # label scenario [sluice variant]
  local sr nr s50 n50 s99 n99 sus nus v=${3:-sluice}
  sr=$(median "$v" "$2" 4); nr=$(median nginx "$2" 4)
  s50=$(median "$v" "$2" 5); n50=$(median nginx "$2" 5)
  s99=$(median "$v" "$2" 6); n99=$(median nginx "$2" 6)
  sus=$(median "$v" "$2" 9); nus=$(median nginx "$2" 9)
  printf '| %s | %s | %s | **%s** | %s / %s | %s / %s | **%s** | %s / %s µs (%s) |\n' "$1" \
    "$(num "$sr")" "$(num "$nr")" "$(ratio "$sr" "$nr")" "$(ms "$s50")" "$(ms "$n50")" \
    "$(ms "$s99")" "$(ms "$n99")" "$(ratio "$s99" "$n99")" "$(fix1 "$sus")" "$(fix1 "$nus")" "$(ratio "$sus" "$nus")"
}

SECTION=$TMP/section.md
{
  echo "$SECTION_TITLE"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') with \`$CMD\` (\`make bench\` runs the same script without"
  echo "\`--update-doc\`); the measurements took ${ELAPSED} s."
  echo
  echo "**Machine:** $NCPU cores ($CPU_MODEL), Linux $(uname -r); loopback only, all processes on this one machine."
  echo "The proxy under test is pinned to CPU $PROXY_CPU (\`taskset\`); wrk and the upstream share CPU $LOAD_CPU."
  echo
  echo "**Setup:** the same trivial upstream for both proxies: a separate nginx (one worker) answering"
  echo "\`POST /chat/completions\` from memory, with a 525-byte chat completion or a 16-chunk SSE stream"
  echo "(\`data: {...}\` events, ~3.9 KB, then \`data: [DONE]\`)."
  echo "${SLUICE_VERSION:-sluice} (${BUILD_TYPE:+$BUILD_TYPE build, }git $GIT_REV): \`workers: 1\`, \`access_log: off\`,"
  echo "upstream pool of up to 64 idle connections, $ALLOCATOR; twice: with the usage ledger on (the default: the worker"
  echo "adds each request to per-second totals, which its own thread on the same CPU writes to SQLite every second) and with \`ledger.enabled: false\` (\"ledger off\","
  echo "like nginx's \`access_log off\`). A third instance has every per-request feature on (\`bench/proxy/sluice-full.yaml.in\`:"
  echo "a virtual key with request, token and concurrency limits, an admission group with the adaptive limit, the ledger,"
  echo "the response cache enabled but bypassed by the request's temperature, retries configured)."
  echo "nginx ($NGINX_VERSION, Debian ${NGINX_PKG:-nginx}): \`worker_processes 1\`, \`access_log off\`, upstream \`keepalive 64\`,"
  echo "\`proxy_http_version 1.1\`, empty \`Connection\` header, \`proxy_buffering off\` for the streaming port."
  echo "Configs and scripts: \`bench/proxy/\`."
  echo
  echo "**Load:** wrk $WRK_VERSION, \`wrk -t1 -c$CONNECTIONS -d${DURATION}s -s bench/proxy/chat.lua\`, POST"
  echo "\`/v1/chat/completions\` with a ${BODY_BYTES[chat]}-byte JSON body (${BODY_BYTES[stream]} bytes with \`\"stream\": true\`)."
  echo "Each run is preceded by a ${WARMUP} s warm-up; the sluice instances and nginx alternate (ABCD DCBA), $ROUNDS rounds each;"
  echo "figures are the median over rounds. Latency is wrk's per-request latency (the whole stream for SSE)."
  echo
  echo "| Test (c=$CONNECTIONS) | sluice req/s | nginx req/s | sluice / nginx | p50 sluice / nginx | p99 sluice / nginx | p99 ratio | proxy CPU per request, sluice / nginx |"
  echo "|---|---:|---:|---:|---|---|---:|---|"
  row "Chat completion, non-streaming" chat
  row "Chat completion, non-streaming, ledger off" chat sluice-nl
  row "Chat completion, streaming (16-chunk SSE), streams/s" stream
  row "Streaming, ledger off, streams/s" stream sluice-nl
  row "Non-streaming, every per-request feature on" chat sluice-full
  row "Streaming, every per-request feature on, streams/s" stream sluice-full
  echo
  echo "\"Proxy CPU per request\" is the CPU time (user + system) the proxy process used during the measured"
  echo "window divided by the requests completed: the proxy's efficiency, independent of whether the load side"
  echo "or the proxy was the bottleneck. The per-round table shows how busy each CPU was: when CPU $LOAD_CPU (wrk +"
  echo "upstream) is near 100% while CPU $PROXY_CPU is not, the run was limited by the load side, not by the proxy."
  echo
  printf 'Ceiling (wrk straight at the upstream, no proxy, both on CPU %s): %s req/s non-streaming, %s streams/s streaming.\n' \
    "$LOAD_CPU" "$(num "$(median direct chat 4)")" "$(num "$(median direct stream 4)")"
  echo "Of sluice's CPU per request with the ledger on, its ledger thread (\`sluice-ledger\`, writing the totals) took"
  echo "$(median sluice chat 13) µs non-streaming and $(median sluice stream 13) µs streaming (median)."
  echo "Errors (connect/read/write/timeout/non-2xx) over all runs: $total_errors."
  echo "Background load before the run: ${START_BUSY}% of all CPUs busy; other work on CPU $PROXY_CPU during the proxied runs"
  echo "(CPU $PROXY_CPU busy minus the proxy's own CPU): up to ${MAX_OTHER}% — anything above ~10% means other processes"
  echo "competed with the proxy and the figures of that run are low (such a run is repeated once, up to 3 times"
  echo "per invocation, and the less disturbed result kept)."
  echo
  echo "Memory after the run: sluice (ledger on) RSS $((SLUICE_RSS / 1024)) MiB (peak $((SLUICE_HWM / 1024)) MiB);"
  echo "nginx worker RSS $((NGINX_RSS / 1024)) MiB (peak $((NGINX_HWM / 1024)) MiB)."
  echo
  echo "<details><summary>Per-round figures</summary>"
  echo
  echo "| proxy | test | round | req/s | p50 | p99 | errors | proxy CPU | µs CPU / req | CPU $PROXY_CPU busy | CPU $LOAD_CPU busy | steal |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  while read -r p s r rps p50 p99 e c us pb lb st _; do
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s%% | %s%% | %s%% |\n' "$p" "$s" "$r" "$(num "$rps")" \
      "$(ms "$p50")" "$(ms "$p99")" "$e" "$( [ "$c" = - ] && echo - || echo "$c%")" "$us" "$pb" "$lb" "$st"
  done <"$RESULTS"
  echo
  echo "</details>"
} >"$SECTION"

echo
cat "$SECTION"

if [ "$UPDATE_DOC" -eq 1 ]; then
  mkdir -p "$(dirname "$DOC")"
  [ -f "$DOC" ] || printf '# Benchmarks\n\nEach section is produced by the script it names; rerun it to refresh the figures.\n' >"$DOC"
  # Replace our section (from its heading to the next "## " heading) or append it; other sections stay.
  awk -v title="$SECTION_TITLE" -v sect="$SECTION" '
    function emit(  l) { while ((getline l < sect) > 0) print l; close(sect); done = 1 }
    $0 == title { if (!done) { if (NR > 1 && prev != "") print ""; emit() } skip = 1; next }
    skip && /^## / { skip = 0; print "" }
    !skip { print; prev = $0 }
    END { if (!done) { if (prev != "") print ""; emit() } }
  ' "$DOC" >"$TMP/doc.md"
  cp "$TMP/doc.md" "$DOC"
  log "updated $DOC"
fi
