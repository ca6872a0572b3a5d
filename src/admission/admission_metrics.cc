#include "admission/admission_metrics.h"

#include "admission/group_gate.h"

namespace sluice::admission {

GateMetrics make_gate_metrics(const std::string& group) {
  auto& reg = telemetry::metrics();
  auto& wait = reg.histogram("sluice_queue_wait_seconds", "Time admitted requests waited for a group slot",
                             telemetry::kLatencyBuckets, {"group", "priority"});
  auto& shed = reg.counter("sluice_shed_total", "Requests shed before any upstream work",
                           {"group", "priority", "reason"});
  auto& depth = reg.gauge("sluice_queue_depth", "Requests waiting for a group slot", {"group", "priority"});
  auto& limit = reg.gauge("sluice_concurrency_limit", "Current concurrency limit of the group (adaptive or static)",
                          {"group"});
  GateMetrics m;
  for (std::size_t c = 0; c < config::kPriorityCount; ++c) {
    const std::string prio = config::to_string(static_cast<config::Priority>(c));
    m.wait[c] = &wait.with({group, prio});
    m.depth[c] = &depth.with({group, prio});
    for (std::size_t r = 1; r < kShedReasons; ++r) {
      m.shed[c][r] = &shed.with({group, prio, to_string(static_cast<ShedReason>(r))});
    }
  }
  m.limit = &limit.with({group});
  m.pending =
      &reg.gauge("sluice_group_pending_work",
                 "Requests of the group this pod cannot start now: queued plus in flight above the limit",
                 {"group"})
           .with({group});
  m.pending_total = &pending_work_total();
  return m;
}

telemetry::Gauge& pending_work_total() {
  return telemetry::metrics()
      .gauge("sluice_pending_work",
             "Requests this pod cannot start now, over all groups (the autoscaling signal)")
      .with({});
}

std::array<telemetry::Counter*, kLimitKinds> make_key_metrics(const std::string& key) {
  auto& fam = telemetry::metrics().counter("sluice_rate_limited_total",
                                           "Requests refused by a per-key limit or budget", {"key", "kind"});
  return {&fam.with({key, "requests"}), &fam.with({key, "tokens"}), &fam.with({key, "concurrency"}),
          &fam.with({key, "budget"}), &fam.with({key, "unavailable"})};
}

}  // namespace sluice::admission
