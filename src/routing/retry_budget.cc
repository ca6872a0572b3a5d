#include "routing/retry_budget.h"

#include <algorithm>
#include <cmath>

namespace sluice::routing {

RetryBudget::RetryBudget(RetryBudgetPolicy p)
    : p_(p), milli_tokens_(static_cast<std::int64_t>(std::llround(p.max_tokens * 1000))) {}

bool RetryBudget::try_acquire_retry() {
  if (milli_tokens_.load(std::memory_order_relaxed) * 2 <= static_cast<std::int64_t>(p_.max_tokens * 1000)) {
    return false;
  }
  auto limit = std::max<std::int64_t>(p_.min_concurrent,
                                      static_cast<std::int64_t>(p_.ratio * static_cast<double>(active())));
  auto cur = retries_.load(std::memory_order_relaxed);
  while (cur < limit) {
    if (retries_.compare_exchange_weak(cur, cur + 1, std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

void RetryBudget::record_success() {
  auto max = static_cast<std::int64_t>(p_.max_tokens * 1000);
  auto add = static_cast<std::int64_t>(p_.token_ratio * 1000);
  auto cur = milli_tokens_.load(std::memory_order_relaxed);
  while (cur < max && !milli_tokens_.compare_exchange_weak(cur, std::min(max, cur + add),
                                                           std::memory_order_relaxed)) {
  }
}

void RetryBudget::record_failure() {
  auto cur = milli_tokens_.load(std::memory_order_relaxed);
  while (cur > 0 && !milli_tokens_.compare_exchange_weak(cur, std::max<std::int64_t>(0, cur - 1000),
                                                         std::memory_order_relaxed)) {
  }
}

}  // namespace sluice::routing
