#include "state/state_metrics.h"

namespace sluice::state {

StateMetrics make_state_metrics(const std::string& backend) {
  auto& reg = telemetry::metrics();
  StateMetrics m;
  m.up = &reg.gauge("sluice_state_backend_up",
                    "1 while the shared-state backend answers (always 1 for local), 0 while limits fall back "
                    "to this replica's share",
                    {"backend"})
              .with({backend});
  m.replicas = &reg.gauge("sluice_state_replicas", "Gateway replicas seen recently through the shared state")
                    .with({});
  auto& errors = reg.counter("sluice_state_errors_total",
                             "Shared-state calls that failed: timeout, connection, unavailable (breaker open or "
                             "not connected: refused at once), reply (Redis answered an error)",
                             {"kind"});
  m.err_timeout = &errors.with({"timeout"});
  m.err_connection = &errors.with({"connection"});
  m.err_unavailable = &errors.with({"unavailable"});
  m.err_reply = &errors.with({"reply"});
  m.round_trips = &reg.counter("sluice_state_round_trips_total", "Round trips to the shared-state backend").with({});
  m.fallback = &reg.counter("sluice_state_fallback_total",
                            "Limit and budget decisions taken from this replica's share while the shared state "
                            "was away")
                    .with({});
  m.refills = &reg.counter("sluice_state_lease_refills_total",
                           "Allowance leases refilled from the shared state (requests that needed a round trip)")
                   .with({});
  return m;
}

telemetry::Gauge& overshoot_gauge(const std::string& key, const std::string& name) {
  auto& fam = telemetry::metrics().gauge(
      "sluice_limit_overshoot_ratio",
      "Units admitted in the last whole limit window ÷ the limit (all replicas with the redis backend; 1 = exactly "
      "the limit)",
      {"key", "kind", "model"});
  const auto colon = name.find(':');
  const std::string kind = name.starts_with("rq") ? "requests" : "tokens";
  return fam.with({key, kind, colon == std::string::npos ? std::string() : name.substr(colon + 1)});
}

bool WindowTally::add(std::int64_t units, std::int64_t unix_ms, std::int64_t window_ms) {
  const std::int64_t idx = window_ms > 0 ? unix_ms / window_ms : 0;
  std::int64_t cur = index_.load(std::memory_order_relaxed);
  bool rotated = false;
  if (idx > cur && index_.compare_exchange_strong(cur, idx, std::memory_order_relaxed)) {
    // Only a window that directly follows the current one has a meaningful "last"; a gap means zero.
    last_.store(idx == cur + 1 ? count_.exchange(0, std::memory_order_relaxed)
                               : (count_.store(0, std::memory_order_relaxed), 0),
                std::memory_order_relaxed);
    rotated = true;
  }
  count_.fetch_add(units, std::memory_order_relaxed);
  unsent_.fetch_add(units, std::memory_order_relaxed);
  return rotated;
}

}  // namespace sluice::state
