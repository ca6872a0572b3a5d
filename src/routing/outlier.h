#pragma once
// Passive outlier detection for one host (Envoy's consecutive-failure ejection): `consecutive_failures` failed
// attempts in a row eject the host for base × times-ejected (capped). When the ejection ends the host is on
// probation: its next attempt decides — success makes it healthy, failure ejects it again for longer.
// Not thread-safe; HostState guards it. Time comes in as arguments so tests use a fake clock.
#include <chrono>
#include <cstdint>

namespace sluice::routing {

using Clock = std::chrono::steady_clock;

struct OutlierPolicy {
  std::uint32_t consecutive_failures = 5;
  std::chrono::milliseconds base_ejection{30'000};
  std::chrono::milliseconds max_ejection{300'000};
};

class OutlierDetector {
 public:
  enum class State : std::uint8_t { kHealthy, kEjected, kProbation };

  State state(Clock::time_point now) const;
  bool available(Clock::time_point now) const { return state(now) != State::kEjected; }
  // Returns true when this failure ejected the host. `may_eject` false (the host does no worse than its peers):
  // the run of failures is counted, but the host stays in rotation.
  bool on_failure(const OutlierPolicy& p, Clock::time_point now, bool may_eject = true);
  void on_success(Clock::time_point now);
  // Operator-forced ejection (admin API): same length as the next automatic one would be.
  void force_eject(const OutlierPolicy& p, Clock::time_point now) { eject(p, now); }

  std::uint32_t times_ejected() const { return times_ejected_; }
  std::uint32_t consecutive_failures() const { return consecutive_; }
  Clock::time_point ejected_until() const { return until_; }

 private:
  void eject(const OutlierPolicy& p, Clock::time_point now);

  std::uint32_t consecutive_ = 0;
  std::uint32_t times_ejected_ = 0;
  bool ejected_ = false;  // until_ says when it ends; after that: probation until the next result
  Clock::time_point until_{};
  Clock::time_point healthy_since_{};
};

}  // namespace sluice::routing
