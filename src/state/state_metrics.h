#pragma once
// The state module's rows of the metrics contract (docs/metrics.md), resolved once; the hot path only
// increments. WindowTally feeds the overshoot gauge: units admitted per limit window, ÷ the limit.
#include <atomic>
#include <cstdint>
#include <string>

#include "state/gcra.h"
#include "telemetry/metrics.h"

namespace sluice::state {

struct StateMetrics {
  telemetry::Gauge* up = nullptr;                // sluice_state_backend_up
  telemetry::Gauge* replicas = nullptr;          // sluice_state_replicas
  telemetry::Counter* err_timeout = nullptr;     // sluice_state_errors_total{kind}
  telemetry::Counter* err_connection = nullptr;
  telemetry::Counter* err_unavailable = nullptr;
  telemetry::Counter* err_reply = nullptr;
  telemetry::Counter* round_trips = nullptr;     // sluice_state_round_trips_total
  telemetry::Counter* fallback = nullptr;        // sluice_state_fallback_total: decided from the local share
  telemetry::Counter* refills = nullptr;         // sluice_state_lease_refills_total
};
// `backend`: "local" or "redis" (the label of sluice_state_backend_up).
StateMetrics make_state_metrics(const std::string& backend);

// sluice_limit_overshoot_ratio{key, kind, model} for a counter named like Backend::rate's (tag, name).
telemetry::Gauge& overshoot_gauge(const std::string& key, const std::string& name);

// Units admitted in the current and the last whole window (windows aligned to the wall clock, so every replica
// counts the same windows). Lock-free; a request racing a window change may land in either window.
class WindowTally {
 public:
  // Counts `units` admitted at `unix_ms` (negative: a settled request used fewer than it reserved). True when
  // this call started a new window (last() changed).
  bool add(std::int64_t units, std::int64_t unix_ms, std::int64_t window_ms);
  std::int64_t last() const { return last_.load(std::memory_order_relaxed); }
  std::int64_t index() const { return index_.load(std::memory_order_relaxed); }
  // Units counted since the last call, with the window they were counted in (the Redis backend adds them to
  // the shared tally of that window).
  std::int64_t take_unsent() { return unsent_.exchange(0, std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> index_{-1};
  std::atomic<std::int64_t> count_{0};
  std::atomic<std::int64_t> last_{0};
  std::atomic<std::int64_t> unsent_{0};
};

// The window of a GCRA limit in milliseconds (limit × emission interval).
inline std::int64_t window_ms(const GcraParams& p) {
  return static_cast<std::int64_t>(p.emission_ns * double(p.limit) / 1e6 + 0.5);
}

}  // namespace sluice::state
