#pragma once
// GCRA (generic cell rate algorithm): a token bucket kept as one number, the theoretical arrival time (TAT).
// `limit` units per `window`, bucket capacity `burst` units (default: the whole limit). A request of `cost`
// units passes when, after charging it, the debt ahead of `now` is at most burst × emission interval.
// O(1), exact (integer nanoseconds), and lock-free in AtomicGcra (one CAS loop). Here, below admission, because
// the state backends count with it (local counters, and the Redis scripts mirror it).
#include <atomic>
#include <chrono>
#include <cstdint>

namespace sluice::state {

using Nanos = std::int64_t;  // steady-clock nanoseconds

struct GcraParams {
  std::uint64_t limit = 0;  // units per window; 0 = unlimited
  std::uint64_t burst = 0;  // bucket capacity in units
  double emission_ns = 0;   // window / limit: one unit refills every emission_ns
  Nanos capacity_ns = 0;    // burst × emission_ns

  static GcraParams make(std::uint64_t limit, std::chrono::nanoseconds window, std::uint64_t burst = 0);
  bool unlimited() const { return limit == 0; }
};

struct GcraDecision {
  bool allowed = true;
  bool too_large = false;     // cost exceeds the bucket: can never pass
  std::uint64_t remaining = 0;  // units that could pass right after this decision
  Nanos reset_ns = 0;           // until the bucket is full again
  Nanos retry_after_ns = 0;     // rejected: until this cost would pass
};

// The pure step: decision and the new TAT (unchanged when rejected).
GcraDecision gcra_decide(const GcraParams& p, Nanos tat, Nanos now, std::uint64_t cost, Nanos& new_tat);

// What a zero-cost look at the bucket says (for rate-limit headers on requests this bucket did not charge).
GcraDecision gcra_peek(const GcraParams& p, Nanos tat, Nanos now);

class AtomicGcra {
 public:
  GcraDecision take(const GcraParams& p, Nanos now, std::uint64_t cost);
  GcraDecision peek(const GcraParams& p, Nanos now) const;
  // Corrects an earlier charge by `delta` units (positive: charge more; negative: refund). A refund never
  // fills the bucket beyond full.
  void adjust(const GcraParams& p, Nanos now, std::int64_t delta);
  Nanos tat() const { return tat_.load(std::memory_order_relaxed); }

 private:
  std::atomic<Nanos> tat_{0};
};

}  // namespace sluice::state
