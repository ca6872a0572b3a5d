#include "routing/retry_budget.h"

#include <algorithm>

namespace sluice::routing {

RetryBudget::RetryBudget(RetryBudgetPolicy p)
    : p_(p),
      bucket_span_(std::max<std::chrono::nanoseconds>(p.window / kBuckets, std::chrono::milliseconds(1))) {}

std::int64_t RetryBudget::epoch_of(Clock::time_point now) const {
  return now.time_since_epoch() / bucket_span_;
}

// The bucket for `now`, emptied first when it last held an older span. Two threads may both reset a stale
// bucket in the same instant; the counts they lose are a few attempts out of a window.
RetryBudget::Bucket& RetryBudget::current(Clock::time_point now) {
  const std::int64_t e = epoch_of(now);
  Bucket& b = buckets_[static_cast<std::size_t>(e % static_cast<std::int64_t>(kBuckets))];
  std::int64_t seen = b.epoch.load(std::memory_order_relaxed);
  if (seen != e && b.epoch.compare_exchange_strong(seen, e, std::memory_order_relaxed)) {
    b.requests.store(0, std::memory_order_relaxed);
    b.accepts.store(0, std::memory_order_relaxed);
  }
  return b;
}

void RetryBudget::record(bool accepted, Clock::time_point now) {
  Bucket& b = current(now);
  b.requests.fetch_add(1, std::memory_order_relaxed);
  if (accepted) {
    b.accepts.fetch_add(1, std::memory_order_relaxed);
  }
}

double RetryBudget::reject_probability(Clock::time_point now, std::int64_t in_flight) const {
  const std::int64_t e = epoch_of(now);
  std::int64_t requests = 0;
  std::int64_t accepts = 0;
  for (const Bucket& b : buckets_) {
    const std::int64_t be = b.epoch.load(std::memory_order_relaxed);
    if (be <= e && be > e - static_cast<std::int64_t>(kBuckets)) {
      requests += b.requests.load(std::memory_order_relaxed);
      accepts += b.accepts.load(std::memory_order_relaxed);
    }
  }
  if (requests < std::max(p_.min_attempts, in_flight)) {
    return 0.0;
  }
  const double p = (double(requests) - p_.k * double(accepts)) / (double(requests) + 1.0);
  return std::max(0.0, p);
}

bool RetryBudget::try_acquire_retry(Clock::time_point now, double uniform01, std::int64_t in_flight) {
  if (uniform01 < reject_probability(now, in_flight)) {
    throttled_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

}  // namespace sluice::routing
