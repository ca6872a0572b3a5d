#include "routing/outlier.h"

#include <algorithm>

namespace sluice::routing {

OutlierDetector::State OutlierDetector::state(Clock::time_point now) const {
  if (!ejected_) {
    return State::kHealthy;
  }
  return now < until_ ? State::kEjected : State::kProbation;
}

void OutlierDetector::eject(const OutlierPolicy& p, Clock::time_point now) {
  // A host that stayed healthy for a while earns back one step of its ejection multiplier per base period.
  if (!ejected_ && times_ejected_ > 0 && healthy_since_ != Clock::time_point{}) {
    auto periods = static_cast<std::uint32_t>((now - healthy_since_) / p.base_ejection);
    times_ejected_ -= std::min(times_ejected_, periods);
  }
  ++times_ejected_;
  auto span = std::min<std::chrono::milliseconds>(p.max_ejection, p.base_ejection * times_ejected_);
  ejected_ = true;
  until_ = now + span;
  consecutive_ = 0;
}

bool OutlierDetector::on_failure(const OutlierPolicy& p, Clock::time_point now, bool may_eject) {
  switch (state(now)) {
    case State::kEjected:
      return false;  // a late result from before the ejection
    case State::kProbation:
      if (!may_eject) {
        return false;
      }
      eject(p, now);
      return true;
    case State::kHealthy:
      if (++consecutive_ >= p.consecutive_failures && may_eject) {
        eject(p, now);
        return true;
      }
      return false;
  }
  return false;
}

void OutlierDetector::on_success(Clock::time_point now) {
  consecutive_ = 0;
  if (ejected_ && now >= until_) {
    ejected_ = false;  // probation passed
    healthy_since_ = now;
  } else if (!ejected_ && healthy_since_ == Clock::time_point{}) {
    healthy_since_ = now;
  }
}

}  // namespace sluice::routing
