#include "routing/retry_budget.h"

#include <gtest/gtest.h>

namespace sluice::routing {
namespace {

TEST(RoutingRetryBudget, ConcurrencyIsMaxOfMinimumAndRatio) {
  RetryBudget b{{0.2, 3, 10, 0.1}};
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(b.try_acquire_retry());
  }
  EXPECT_FALSE(b.try_acquire_retry()) << "minimum of 3 with no active requests";
  for (int i = 0; i < 50; ++i) {
    b.request_started();
  }
  // 20 % of 50 = 10 concurrent retries.
  int granted = 0;
  while (b.try_acquire_retry()) {
    ++granted;
  }
  EXPECT_EQ(granted, 7);
  b.retry_finished();
  EXPECT_TRUE(b.try_acquire_retry());
}

TEST(RoutingRetryBudget, TokenThrottleStopsRetriesDuringAnOutage) {
  RetryBudget b{{1.0, 1000, 10, 0.1}};
  for (int i = 0; i < 5; ++i) {
    b.record_failure();
  }
  EXPECT_DOUBLE_EQ(b.tokens(), 5.0);
  EXPECT_FALSE(b.try_acquire_retry()) << "retries only while tokens > max/2";
  for (int i = 0; i < 20; ++i) {
    b.record_failure();
  }
  EXPECT_DOUBLE_EQ(b.tokens(), 0.0);
  for (int i = 0; i < 50; ++i) {
    b.record_success();
  }
  EXPECT_DOUBLE_EQ(b.tokens(), 5.0);
  EXPECT_FALSE(b.try_acquire_retry());
  b.record_success();
  EXPECT_TRUE(b.try_acquire_retry());
  for (int i = 0; i < 1000; ++i) {
    b.record_success();
  }
  EXPECT_DOUBLE_EQ(b.tokens(), 10.0) << "capped at max";
}

}  // namespace
}  // namespace sluice::routing
