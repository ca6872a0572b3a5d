# Shared by the bench/*.sh scripts (sourced). Needs die() defined by the caller.

# Waits for "PREFIX: listening on 127.0.0.1:PORT" in FILE (what sluice serve/sim print) and prints PORT.
port_from() {
  local file=$1 prefix=$2 port=""
  for _ in $(seq 1 200); do
    port=$(sed -n "s/^$prefix: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p" "$file" | head -1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.05
  done
  cat "$file" >&2
  die "$prefix did not report its port"
}

# Stops the given processes: SIGTERM, up to 5 s for each to exit, then SIGKILL; reaps them.
stop_pids() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
