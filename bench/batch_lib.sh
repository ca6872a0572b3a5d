# Shared by bench/batch_*.sh (sourced after NAME is set): checks, a temp dir with OUT_DIR, started processes
# tracked in PIDS and stopped on exit (plus the caller's cleanup_extra, if defined), port_from.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
die() { echo "$NAME: $*" >&2; exit 1; }
log() { echo "[$NAME] $*" >&2; }
[ -x "$SLUICE_BIN" ] || die "sluice binary not found at $SLUICE_BIN (set SLUICE_BIN)"
command -v node >/dev/null || die "node not found"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-$NAME.XXXXXX")
OUT_DIR=${OUT_DIR:-$TMP/results}
mkdir -p "$OUT_DIR"
PIDS=()
stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
on_exit() {
  stop_all
  if declare -F cleanup_extra >/dev/null; then cleanup_extra; fi
}
trap on_exit EXIT
