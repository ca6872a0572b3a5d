#pragma once
// The admission rows of the metrics contract, resolved once per group / key (Family::with takes a lock).
#include <array>
#include <string>

#include "config/admission_config.h"
#include "telemetry/metrics.h"

namespace sluice::admission {

inline constexpr std::size_t kShedReasons = 7;  // ShedReason values

struct GateMetrics {
  std::array<telemetry::Histogram*, config::kPriorityCount> wait{};                    // sluice_queue_wait_seconds
  std::array<std::array<telemetry::Counter*, kShedReasons>, config::kPriorityCount> shed{};  // sluice_shed_total
  std::array<telemetry::Gauge*, config::kPriorityCount> depth{};                       // sluice_queue_depth
  telemetry::Gauge* limit = nullptr;                                                   // sluice_concurrency_limit
  telemetry::Gauge* pending = nullptr;                                                 // sluice_group_pending_work
  telemetry::Gauge* pending_total = nullptr;                                           // sluice_pending_work
};
GateMetrics make_gate_metrics(const std::string& group);

// sluice_pending_work: the pod's autoscaling signal, the sum of every live gate's pending work. Registered
// with the Admission (so it exists, at 0, without any gate); each gate adds its own share at scrape time.
telemetry::Gauge& pending_work_total();

// sluice_rate_limited_total{key, kind} for kinds requests, tokens, concurrency, budget, unavailable (indexed by
// LimitKind - 1).
inline constexpr std::size_t kLimitKinds = 5;
std::array<telemetry::Counter*, kLimitKinds> make_key_metrics(const std::string& key);

}  // namespace sluice::admission
