#pragma once
// Adaptive concurrency limit of one upstream group, learnt from first-token latency and overload signals.
// Gradient (Envoy / Netflix Gradient2): every sample window, g = clamp(tolerance × minRTT / sampleRTT, 0.5, 2)
// and L ← (1-s)·L + s·(g·L + headroom); minRTT is the fastest single sample seen, slowly forgotten. AIMD (Netflix): +1/L per
// success while the limit is in use, ×backoff on a 429/503/first-token timeout. Both cut the limit on an
// overload signal (at most once per cooldown) and do not grow it within a cooldown of the last signal, so the
// limit saw-tooths just under the capacity instead of settling where growth and cuts balance above it.
// Pure: time comes in as an argument.
#include <cstdint>

#include "admission/gcra.h"
#include "config/admission_config.h"

namespace sluice::admission {

struct AdaptiveParams {
  config::AdaptiveAlgorithm algorithm = config::AdaptiveAlgorithm::kOff;
  double min_limit = 1;
  double max_limit = 64;
  double initial = 32;
  double tolerance = 1.25;        // gradient: latency rise accepted before shrinking
  Nanos window_ns = 250'000'000;  // gradient: sample window
  std::uint32_t min_samples = 8;  // gradient: a window needs this many samples
  double backoff = 0.9;           // multiplicative decrease on an overload signal
  Nanos cooldown_ns = 200'000'000;
  double min_rtt_forget = 0.002;  // per window: minRTT drifts up this fraction so it can re-learn
  double smoothing = 0.2;         // gradient: weight of each window's new estimate (Netflix Gradient2)
};

class AdaptiveLimit {
 public:
  explicit AdaptiveLimit(const AdaptiveParams& p) : p_(p), limit_(p.initial) {}

  // One attempt got its first token after `ttft_ms`; `saturated` = the group's in-flight count was at
  // least half its limit (a limit that is not in use says nothing about capacity).
  void on_success(double ttft_ms, bool saturated, Nanos now);
  // 429, 503 or a first-token timeout from the upstream.
  void on_overload(Nanos now);

  double limit() const { return limit_; }
  double min_rtt_ms() const { return min_rtt_; }
  void set_params(const AdaptiveParams& p);

 private:
  void clamp();

  AdaptiveParams p_;
  double limit_;
  double min_rtt_ = 0;  // 0 = not measured yet
  double sum_ = 0;
  double window_min_ = 0;
  std::uint32_t count_ = 0;
  Nanos window_start_ = 0;
  Nanos last_cut_ = INT64_MIN / 2;
  Nanos last_signal_ = INT64_MIN / 2;
};

}  // namespace sluice::admission
