# Shared helpers for the resilience benchmarks (sourced). Starts sims and gateways on free ports from a private
# copy of the binary, tracks their pids, and stops them on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
[ -x "$SLUICE_BIN" ] || { echo "sluice binary not found at $SLUICE_BIN (set SLUICE_BIN)" >&2; exit 1; }
command -v node >/dev/null || { echo "node not found" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-resil.XXXXXX")
OUT_DIR=${OUT_DIR:-$TMP/results}
mkdir -p "$OUT_DIR"
PIDS=()
log() { echo "[$(basename "$0" .sh)] $*" >&2; }
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
cp "$SLUICE_BIN" "$TMP/sluice"  # others may rebuild the binary while we measure
SLUICE="$TMP/sluice"

# port_from FILE PREFIX: waits for "PREFIX: listening on 127.0.0.1:PORT" and prints PORT.
port_from() {
  local port=""
  for _ in $(seq 1 200); do
    port=$(sed -n "s/^$2: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p" "$1" | head -1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.05
  done
  cat "$1" >&2
  echo "$2 did not report its port" >&2
  exit 1
}

# start_sim VAR NAME SEED SCENARIO_FILE_OR_NAME [args...]: starts a sim, sets VAR to its port.
start_sim() {
  local var=$1 name=$2 seed=$3 scenario=$4
  shift 4
  "$SLUICE" sim --port 0 --seed "$seed" --scenario "$scenario" --log-level warn "$@" >/dev/null 2>"$TMP/$name.err" &
  PIDS+=($!)
  printf -v "$var" '%s' "$(port_from "$TMP/$name.err" sluice-sim)"
}

# start_gateway VAR NAME CONFIG_FILE: starts `sluice serve`, sets VAR to its port; access log in $TMP/NAME.access.
start_gateway() {
  "$SLUICE" serve -c "$3" --listen 127.0.0.1:0 >"$TMP/$2.access" 2>"$TMP/$2.err" &
  PIDS+=($!)
  printf -v "$1" '%s' "$(port_from "$TMP/$2.err" sluice)"
}

# stop_all: stops every process started so far (between phases).
stop_all() {
  cleanup_pids=("${PIDS[@]}")
  PIDS=()
  local pid
  for pid in "${cleanup_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${cleanup_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}

sim_stat() {  # sim_stat PORT FIELD
  curl -s "http://127.0.0.1:$1/sim/stats" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s)['$2']))"
}

# jq-less JSON field read: json_get FILE 'expr on o' (JavaScript).
json_get() {
  node -e "const o=JSON.parse(require('fs').readFileSync('$1','utf8'));console.log($2)"
}
