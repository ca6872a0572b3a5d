#pragma once
// Entry point of `sluice bench` (docs/bench.md).
#include "bench/options.h"

namespace sluice::bench {

// Validates, runs the load, prints the table and writes --json / --html. Returns the process exit code:
// 0 when the run completed (even if requests failed), 2 on bad options, 1 on other errors.
int run_bench(const BenchOptions& options);

}  // namespace sluice::bench
