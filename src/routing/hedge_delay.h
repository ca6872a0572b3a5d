#pragma once
// When to send a hedge: a fixed delay, or a learned quantile (p95 by default) of recent time-to-first-token
// samples of the group, clamped to [min, max]. Until enough samples exist the learned delay is `max`, so a
// cold group hedges late rather than doubling its load.
// observe() is called by every worker (mutex, a few hundred ns per finished attempt); delay() is one relaxed
// atomic load on the hot path.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace sluice::routing {

struct HedgePolicy {
  std::optional<std::chrono::milliseconds> fixed;  // nullopt = learned
  double quantile = 0.95;
  std::chrono::milliseconds min{50};
  std::chrono::milliseconds max{30'000};
  std::uint32_t min_samples = 20;
  std::uint32_t window = 512;  // most recent samples kept
};

class HedgeDelay {
 public:
  explicit HedgeDelay(HedgePolicy p);

  void observe(double ttft_ms);
  std::chrono::milliseconds delay() const { return std::chrono::milliseconds(delay_ms_.load(std::memory_order_relaxed)); }
  std::size_t samples() const;

 private:
  void recompute();  // under mu_

  HedgePolicy p_;
  mutable std::mutex mu_;
  std::vector<double> ring_;
  std::size_t next_ = 0;
  std::uint64_t seen_ = 0;
  std::atomic<std::int64_t> delay_ms_;
};

}  // namespace sluice::routing
