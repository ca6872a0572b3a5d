#pragma once
// Retry admission for one model group: Google SRE's adaptive client-side throttling (Site Reliability
// Engineering, ch. 21). Over a sliding window (default 2 minutes), `requests` counts attempts sent and
// `accepts` attempts the upstream answered usefully (anything but a retriable failure). A retry, hedge or
// stream resume is let through with probability 1 − p, where
//
//     p = max(0, (requests − K · accepts) / (requests + 1)),   K = 2 by default.
//
// While most attempts succeed, K · accepts exceeds requests and every retry goes (at a 20 % fault rate p is
// 0; it stays 0 up to 50 % with K = 2). When almost nothing succeeds p approaches 1, so an outage is not
// multiplied by retries: at 100 % failure a request costs barely more than one attempt. Below a minimum of
// attempts in the window every retry goes: a quiet group's first failures say too little to throttle on
// (with one failure p would already be 1/2). The window is kept in
// 10-second buckets of relaxed atomics; thread-safe, shared by all workers of the group, O(buckets) per
// question.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace sluice::routing {

struct RetryBudgetPolicy {
  double k = 2.0;  // accepts weigh K times: K = 2 allows up to 2× the accepted load
  std::chrono::milliseconds window{120'000};
  std::int64_t min_attempts = 10;  // fewer attempts in the window: every retry goes
};

class RetryBudget {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RetryBudget(RetryBudgetPolicy p = {});

  // Whether a retry may go now; `uniform01` is a draw from [0, 1) (the caller's seeded RNG).
  // `in_flight`: attempts sent and not finished; while the window holds fewer finished attempts than that, it
  // has not heard from most of the traffic yet (a burst's fast failures come back before its slow successes).
  bool try_acquire_retry(Clock::time_point now, double uniform01, std::int64_t in_flight = 0);
  // Attempts, as they finish: accepted (answered, or refused for the request's own fault) or not.
  void record(bool accepted, Clock::time_point now);

  // The current reject probability p (metrics, tests); 0 below min_attempts.
  double reject_probability(Clock::time_point now, std::int64_t in_flight = 0) const;
  std::uint64_t throttled() const { return throttled_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::size_t kBuckets = 12;
  struct Bucket {
    std::atomic<std::int64_t> epoch{-1};  // bucket number since the clock's epoch
    std::atomic<std::int64_t> requests{0};
    std::atomic<std::int64_t> accepts{0};
  };
  std::int64_t epoch_of(Clock::time_point now) const;
  Bucket& current(Clock::time_point now);

  RetryBudgetPolicy p_;
  std::chrono::nanoseconds bucket_span_;
  std::array<Bucket, kBuckets> buckets_;
  std::atomic<std::uint64_t> throttled_{0};
};

}  // namespace sluice::routing
