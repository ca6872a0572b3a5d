#!/usr/bin/env bash
# libFuzzer campaigns for sluice's parsers (tests/fuzz/*.cc; docs/security.md, "Fuzzing").
#
# Usage: scripts/fuzz.sh COMMAND [ARGS]
#   ci [SECONDS]            build, then run every target SECONDS (default 15) from its seed corpus, FUZZ_JOBS at a
#                           time; non-zero exit when any target crashes, leaks, hangs or runs out of memory (CI)
#   build                   configure and build the fuzz preset (build-fuzz/: clang-14, ASan + UBSan + libFuzzer)
#   run TARGET [SECONDS] [-- LIBFUZZER_ARGS]
#                           one target (default 600 s); new inputs accumulate in build-fuzz/corpus/TARGET
#   campaign [SECONDS]      every target SECONDS (default 300) into build-fuzz/corpus/, then merge
#   merge [TARGET...]       add what build-fuzz/corpus/TARGET found to tests/fuzz/corpus/TARGET (-merge=1: only
#                           inputs that reach new coverage), to commit
#   stats [SECONDS]         run every target SECONDS (default 60) and print exec/s, coverage, corpus (for
#                           docs/benchmarks.md)
#   seeds                   rewrite the seed inputs from the tests' messages (tests/fuzz/seeds.mjs)
#   list                    the targets
# A long local campaign: scripts/fuzz.sh campaign 1800 (or `run TARGET 3600` for one), then `git add
# tests/fuzz/corpus`. Crashes are written to build-fuzz/artifacts/TARGET/; reproduce one with
# build-fuzz/fuzz/fuzz_TARGET FILE, fix it, and add it as a unit test.
# Environment: FUZZ_JOBS (targets at once, default 2), FUZZ_BUILD_DIR (default build-fuzz).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
SEEDS=$ROOT/tests/fuzz/corpus
JOBS=${FUZZ_JOBS:-2}
TARGETS=(h1_request h1_response h1_chunked h1_beast_diff sse stitch request_view usage config sim_fault)

die() { echo "fuzz: $*" >&2; exit 2; }
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "FUZZ_JOBS must be a positive integer"

build() {
  "$ROOT/scripts/install-deps.sh" fuzz
  cmake --preset fuzz -S "$ROOT" -B "$BUILD" >/dev/null
  cmake --build "$BUILD" -j "$JOBS" >"$BUILD/build.log" 2>&1 || { tail -40 "$BUILD/build.log" >&2; die "build failed"; }
}

# Per-target options: a dictionary for the text formats, a longer input for configs.
options() {
  case "$1" in
    h1_*) echo "-dict=$ROOT/tests/fuzz/dict/http.dict -max_len=4096" ;;
    request_view | usage | stitch | sse) echo "-dict=$ROOT/tests/fuzz/dict/json.dict -max_len=4096" ;;
    config) echo "-max_len=8192" ;;
    *) echo "-max_len=1024" ;;
  esac
}

# run_one TARGET SECONDS OUT_CORPUS [ARGS...]: one libFuzzer run; its log in $BUILD/logs/TARGET.log.
run_one() {
  local name=$1 seconds=$2 out=$3
  shift 3
  local exe=$BUILD/fuzz/fuzz_$name
  [ -x "$exe" ] || die "no target $name (build first: scripts/fuzz.sh build)"
  mkdir -p "$out" "$BUILD/artifacts/$name" "$BUILD/logs"
  # shellcheck disable=SC2046  # options() is a list of flags
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:handle_abort=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
    $(options "$name") -artifact_prefix="$BUILD/artifacts/$name/" "$@" "$out" "$SEEDS/$name" \
    >"$BUILD/logs/$name.log" 2>&1
}

# The last status line of a run: "name exec/s execs edges features corpus".
summary() {
  local log=$BUILD/logs/$1.log line
  line=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -1)
  local cov ft corp execs rate
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$line")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$line")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\)/\1/p' "$log" | tail -1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1/p' "$log" | tail -1)
  printf '%-14s %6s exec/s %9s execs %5s edges %6s features %5s inputs\n' "$1" "${rate:-?}" "${execs:-?}" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}"
}

# run_all SECONDS OUT_BASE: every target, $JOBS at a time; prints a line per target; returns 1 on a failure.
run_all() {
  local seconds=$1 base=$2 failed=0 name pid
  declare -A pids=()
  for name in "${TARGETS[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
    run_one "$name" "$seconds" "$base/$name" &
    pids[$name]=$!
  done
  for name in "${TARGETS[@]}"; do
    pid=${pids[$name]}
    if wait "$pid"; then
      summary "$name"
    else
      failed=1
      echo "FAILED: $name (log $BUILD/logs/$name.log, artifacts $BUILD/artifacts/$name/)" >&2
      grep -E 'ERROR|SUMMARY|fuzz property broken|Test unit written' "$BUILD/logs/$name.log" | head -8 >&2 || true
    fi
  done
  return "$failed"
}

merge() {
  local name
  for name in "$@"; do
    [ -d "$BUILD/corpus/$name" ] || continue
    mkdir -p "$SEEDS/$name"
    # shellcheck disable=SC2046  # options() is a list of flags
    "$BUILD/fuzz/fuzz_$name" -merge=1 $(options "$name") "$SEEDS/$name" "$BUILD/corpus/$name" \
      >"$BUILD/logs/$name.merge.log" 2>&1 || die "merge of $name failed (see $BUILD/logs/$name.merge.log)"
    echo "$name: $(find "$SEEDS/$name" -type f | wc -l) inputs in tests/fuzz/corpus/$name"
  done
}

cmd=${1:-}
shift || true
case "$cmd" in
  build) build ;;
  ci)
    seconds=${1:-15}
    started=$SECONDS
    build
    built=$SECONDS
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-fuzz.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    status=0
    run_all "$seconds" "$tmp" || status=1
    echo "fuzz ci: build $((built - started)) s, campaign $((SECONDS - built)) s, ${#TARGETS[@]} targets x ${seconds} s" \
      "($JOBS at a time): $([ $status = 0 ] && echo passed || echo FAILED)"
    exit "$status"
    ;;
  run)
    name=${1:?usage: scripts/fuzz.sh run TARGET [SECONDS] [-- ARGS]}
    seconds=${2:-600}
    shift $(($# >= 2 ? 2 : 1))
    [ "${1:-}" = -- ] && shift
    if ! run_one "$name" "$seconds" "$BUILD/corpus/$name" "$@"; then
      echo "FAILED: see $BUILD/logs/$name.log and $BUILD/artifacts/$name/" >&2
      exit 1
    fi
    summary "$name"
    ;;
  campaign)
    seconds=${1:-300}
    status=0
    run_all "$seconds" "$BUILD/corpus" || status=1
    merge "${TARGETS[@]}"
    exit "$status"
    ;;
  merge) merge "${@:-${TARGETS[@]}}" ;;
  stats)
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-fuzz.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    run_all "${1:-60}" "$tmp"
    ;;
  seeds) node "$ROOT/tests/fuzz/seeds.mjs" ;;
  list) printf '%s\n' "${TARGETS[@]}" ;;
  *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; [ -z "$cmd" ] || exit 2 ;;
esac
