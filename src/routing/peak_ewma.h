#pragma once
// Peak-EWMA latency estimate (Finagle/Linkerd): jumps up to a slower sample at once, decays toward faster
// ones with time constant tau. Used as cost = estimate × (in-flight + 1) by the balancer.
#include <chrono>
#include <cmath>

namespace sluice::routing {

class PeakEwma {
 public:
  explicit PeakEwma(std::chrono::milliseconds tau = std::chrono::seconds(10)) : tau_ms_(double(tau.count())) {}

  void observe(double sample_ms, std::chrono::steady_clock::time_point now) {
    if (!seeded_ || sample_ms >= value_) {
      value_ = sample_ms;
      seeded_ = true;
    } else {
      double dt = std::chrono::duration<double, std::milli>(now - last_).count();
      double w = std::exp(-std::max(0.0, dt) / tau_ms_);
      value_ = value_ * w + sample_ms * (1 - w);
    }
    last_ = now;
  }
  double value() const { return value_; }
  bool seeded() const { return seeded_; }

 private:
  double tau_ms_;
  double value_ = 0;
  bool seeded_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace sluice::routing
