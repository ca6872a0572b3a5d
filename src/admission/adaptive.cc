#include "admission/adaptive.h"

#include <algorithm>
#include <cmath>

namespace sluice::admission {

void AdaptiveLimit::set_params(const AdaptiveParams& p) {
  p_ = p;
  clamp();
}

void AdaptiveLimit::clamp() { limit_ = std::clamp(limit_, p_.min_limit, p_.max_limit); }

void AdaptiveLimit::on_success(double ttft_ms, bool saturated, Nanos now) {
  using config::AdaptiveAlgorithm;
  const bool calm = now - last_signal_ >= p_.cooldown_ns;
  if (p_.algorithm == AdaptiveAlgorithm::kAimd) {
    if (saturated && calm) {
      limit_ += 1.0 / limit_;
      clamp();
    }
    return;
  }
  if (p_.algorithm != AdaptiveAlgorithm::kGradient) {
    return;
  }
  if (count_ == 0) {
    window_start_ = now;
  }
  sum_ += ttft_ms;
  ++count_;
  window_min_ = count_ == 1 ? ttft_ms : std::min(window_min_, ttft_ms);
  if (now - window_start_ < p_.window_ns || count_ < p_.min_samples) {
    return;
  }
  const double sample = std::max(sum_ / count_, 0.001);
  sum_ = 0;
  count_ = 0;
  // The floor is the fastest single answer (a request that found a free slot); the window average is the
  // sample, so queueing shows up as their ratio.
  min_rtt_ = min_rtt_ == 0 ? window_min_ : std::min(window_min_, min_rtt_ * (1.0 + p_.min_rtt_forget));
  if (!saturated) {
    return;  // an idle group's latency is its floor, not a verdict on the limit
  }
  const double g = std::clamp(p_.tolerance * min_rtt_ / sample, 0.5, 2.0);
  if (g >= 1.0 && !calm) {
    return;
  }
  const double scaled = g * limit_;
  // Headroom log10(L) (as in Netflix's Vegas limit) rather than √L: enough to probe for more capacity, small
  // enough that the limit settles within ~10 % of the upstream's slots instead of queueing √L deep there.
  limit_ = (1.0 - p_.smoothing) * limit_ + p_.smoothing * (scaled + std::log10(std::max(scaled, 1.0)) + 1.0);
  clamp();
}

void AdaptiveLimit::on_overload(Nanos now) {
  if (p_.algorithm == config::AdaptiveAlgorithm::kOff) {
    return;
  }
  last_signal_ = now;
  if (now - last_cut_ < p_.cooldown_ns) {
    return;
  }
  last_cut_ = now;
  limit_ *= p_.backoff;
  clamp();
}

}  // namespace sluice::admission
