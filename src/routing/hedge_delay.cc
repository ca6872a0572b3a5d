#include "routing/hedge_delay.h"

#include <algorithm>
#include <cmath>

namespace sluice::routing {

namespace {
constexpr std::uint64_t kRecomputeEvery = 8;  // samples between quantile updates: bounded cost per observe
}

HedgeDelay::HedgeDelay(HedgePolicy p) : p_(p), delay_ms_(p.fixed ? p.fixed->count() : p.max.count()) {
  ring_.reserve(p_.window);
}

void HedgeDelay::observe(double ttft_ms) {
  if (p_.fixed || !(ttft_ms >= 0)) {
    return;
  }
  std::lock_guard lock(mu_);
  if (ring_.size() < p_.window) {
    ring_.push_back(ttft_ms);
  } else {
    ring_[next_] = ttft_ms;
    next_ = (next_ + 1) % p_.window;
  }
  ++seen_;
  if (ring_.size() >= p_.min_samples && (seen_ % kRecomputeEvery == 0 || ring_.size() == p_.min_samples)) {
    recompute();
  }
}

void HedgeDelay::recompute() {
  std::vector<double> v = ring_;
  // Nearest-rank quantile: the smallest sample with at least q of the samples at or below it.
  auto rank = static_cast<std::size_t>(std::ceil(p_.quantile * double(v.size())));
  rank = std::clamp<std::size_t>(rank, 1, v.size()) - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank), v.end());
  auto ms = static_cast<std::int64_t>(std::ceil(v[rank]));
  delay_ms_.store(std::clamp<std::int64_t>(ms, p_.min.count(), p_.max.count()), std::memory_order_relaxed);
}

std::size_t HedgeDelay::samples() const {
  std::lock_guard lock(mu_);
  return ring_.size();
}

}  // namespace sluice::routing
