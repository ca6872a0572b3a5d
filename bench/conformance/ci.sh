#!/usr/bin/env bash
# The short fault-conformance run for .ci/run (≈ 1 min on 2 cores): every fault class at 20 % and 100 %,
# 64 requests per cell, against build/sluice (or $SLUICE_BIN). Exits 1 only when an invariant breaks:
# a dishonest answer (a 200 or finished stream with the wrong text, an unparseable 200, a stream cut without
# an error event, a forwarded malformed chunk), a request dropped without an HTTP answer or left hanging past
# the client deadline, a lost or duplicated token, a continuation with a wrong prefix or outside /beta, or a
# gateway crash. Success rates and attempts per request are printed, not enforced.
# Extra arguments go to the runner (e.g. --requests 128, --classes stall,malformed).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
export SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
if [ ! -d node_modules/openai ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node --test --test-reporter=dot test/  # the fixture and the verdicts themselves
exec node runner/run.mjs --ci "$@"
