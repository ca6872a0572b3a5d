#pragma once
// Two brakes on retries, so that a total outage does not multiply the load on the provider:
//  - concurrency budget (Envoy): retries in flight ≤ max(min_concurrent, ratio × active requests);
//  - token throttle (gRPC A6): tokens start at max, −1 per failed attempt, +ratio per success; retries are
//    allowed only while tokens > max / 2.
// Thread-safe (shared by all workers of a group); every operation is O(1).
#include <atomic>
#include <cstdint>

namespace sluice::routing {

struct RetryBudgetPolicy {
  double ratio = 0.2;                // concurrent retries as a share of active requests
  std::uint32_t min_concurrent = 3;  // always allow this many
  double max_tokens = 10;
  double token_ratio = 0.1;          // tokens regained per success
};

class RetryBudget {
 public:
  explicit RetryBudget(RetryBudgetPolicy p = {});

  void request_started() { active_.fetch_add(1, std::memory_order_relaxed); }
  void request_finished() { active_.fetch_sub(1, std::memory_order_relaxed); }

  // Reserves a retry (or hedge) slot; false when either brake is on. Pair a true with retry_finished().
  bool try_acquire_retry();
  void retry_finished() { retries_.fetch_sub(1, std::memory_order_relaxed); }

  void record_success();
  void record_failure();

  double tokens() const { return milli_tokens_.load(std::memory_order_relaxed) / 1000.0; }
  std::int64_t active() const { return active_.load(std::memory_order_relaxed); }
  std::int64_t retries_in_flight() const { return retries_.load(std::memory_order_relaxed); }

 private:
  RetryBudgetPolicy p_;
  std::atomic<std::int64_t> active_{0};
  std::atomic<std::int64_t> retries_{0};
  std::atomic<std::int64_t> milli_tokens_;  // fixed point: no floating-point atomics needed
};

}  // namespace sluice::routing
