// Operator-facing parts of HostState and Router: drain/eject, status views, health carry-over on reload.
#include "routing/router.h"

namespace sluice::routing {

void HostState::force_eject(Clock::time_point now) {
  std::lock_guard lock(mu_);
  outlier_.force_eject(policy_, now);
}

HostStatus HostState::status(Clock::time_point now) const {
  HostStatus s;
  s.in_flight = in_flight_.load(std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  s.ewma_ttft_ms = ttft_.value();
  s.consecutive_failures = outlier_.consecutive_failures();
  s.times_ejected = outlier_.times_ejected();
  switch (outlier_.state(now)) {
    case OutlierDetector::State::kHealthy: s.state = "healthy"; break;
    case OutlierDetector::State::kProbation: s.state = "probation"; break;
    case OutlierDetector::State::kEjected:
      s.state = "ejected";
      s.ejected_for_ms = std::chrono::duration_cast<std::chrono::milliseconds>(outlier_.ejected_until() - now).count();
      break;
  }
  if (drained()) {
    s.state = "drained";  // the operator's word wins over what the detector thinks
  }
  return s;
}

void HostState::adopt(const HostState& old) {
  if (&old == this) {
    return;
  }
  std::scoped_lock lock(mu_, old.mu_);
  outlier_ = old.outlier_;
  ttft_ = old.ttft_;
  success_ewma_ = old.success_ewma_;
  drained_.store(old.drained(), std::memory_order_relaxed);
}

void Router::adopt_health(const Router& old) {
  for (auto& [name, h] : hosts_) {
    const HostState* prev = old.host(name);
    if (!prev) {
      continue;
    }
    const config::Upstream& a = h->upstream();
    const config::Upstream& b = prev->upstream();
    if (a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.base_path == b.base_path) {
      h->adopt(*prev);
    }
  }
}

}  // namespace sluice::routing
