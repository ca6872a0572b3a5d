#pragma once
// The Redis client's own circuit breaker: after `threshold` failures in a row (timeouts, connection errors) it
// opens and every call fails at once (the caller falls back) for a cooldown that doubles with each failed
// probe up to a cap; then one call probes (half-open) and its outcome closes or reopens it. Pure: the caller
// passes the clock.
#include <chrono>
#include <cstdint>

namespace sluice::state::redis {

class Breaker {
 public:
  using Nanos = std::int64_t;
  struct Settings {
    std::uint32_t threshold = 3;
    Nanos base_cooldown = 100'000'000;  // 100 ms
    Nanos max_cooldown = 2'000'000'000;  // 2 s
  };
  Breaker() = default;
  explicit Breaker(Settings s) : s_(s) {}

  enum class State : std::uint8_t { kClosed, kOpen, kHalfOpen };
  // May a call go out now? In the open state the first call after the cooldown is let through as the probe.
  bool allow(Nanos now);
  void success();
  void failure(Nanos now);
  State state() const { return state_; }
  bool clean() const { return failures_ == 0; }  // nothing failed since the last success
  Nanos reopen_at() const { return until_; }

 private:
  Settings s_;
  State state_ = State::kClosed;
  std::uint32_t failures_ = 0;
  Nanos cooldown_ = 0;
  Nanos until_ = 0;
};

}  // namespace sluice::state::redis
