#pragma once
// The standard process_* metrics (CPU, memory, file descriptors, start time), read from /proc at scrape time.
#include "telemetry/metrics.h"

namespace sluice::telemetry {

struct ProcessStats {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0;  // unix time
  double open_fds = 0;
  double max_fds = 0;
};

// False when /proc is not readable (the metrics then stay at their last values).
bool read_process_stats(ProcessStats& out);

// Registers the families and a collector that refreshes them on every scrape.
void register_process_metrics(Registry& r);

}  // namespace sluice::telemetry
