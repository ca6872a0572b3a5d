#include "routing/backoff.h"

#include <gtest/gtest.h>

namespace sluice::routing {
namespace {

TEST(RoutingBackoff, FullJitterStaysWithinTheGrowingCeiling) {
  std::mt19937_64 rng(42);
  BackoffPolicy p{Ms{100}, Ms{2000}};
  for (unsigned retry = 0; retry < 10; ++retry) {
    std::int64_t ceiling = std::min<std::int64_t>(2000, 100LL << retry);
    std::int64_t max_seen = 0;
    for (int i = 0; i < 2000; ++i) {
      auto d = full_jitter(p, retry, rng).count();
      ASSERT_GE(d, 0);
      ASSERT_LE(d, ceiling);
      max_seen = std::max(max_seen, d);
    }
    EXPECT_GT(max_seen, ceiling * 9 / 10) << "jitter should cover the whole range, retry " << retry;
  }
}

TEST(RoutingBackoff, FullJitterIsDeterministicForASeed) {
  std::mt19937_64 a(7), b(7);
  for (unsigned i = 0; i < 20; ++i) {
    EXPECT_EQ(full_jitter({}, i % 5, a), full_jitter({}, i % 5, b));
  }
}

TEST(RoutingBackoff, HugeRetryCountDoesNotOverflow) {
  std::mt19937_64 rng(1);
  EXPECT_LE(full_jitter({Ms{100}, Ms{2000}}, 4000, rng).count(), 2000);
}

TEST(RoutingBackoff, RetryAfterJitterIsBetweenTAnd1_5T) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 1000; ++i) {
    auto d = retry_after_jitter(Ms{2000}, rng).count();
    ASSERT_GE(d, 2000);
    ASSERT_LE(d, 3000);
  }
  EXPECT_EQ(retry_after_jitter(Ms{0}, rng).count(), 0);
}

TEST(RoutingBackoff, ParseRetryAfter) {
  EXPECT_EQ(parse_retry_after("3"), Ms{3000});
  EXPECT_EQ(parse_retry_after(" 1.5 "), Ms{1500});
  EXPECT_EQ(parse_retry_after("0"), Ms{0});
  EXPECT_FALSE(parse_retry_after(""));
  EXPECT_FALSE(parse_retry_after("-1"));
  EXPECT_FALSE(parse_retry_after("soon"));
  EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
  EXPECT_FALSE(parse_retry_after("999999"));
}

TEST(RoutingBackoff, NeverSleepsPastTheDeadline) {
  EXPECT_EQ(fit_before_deadline(Ms{100}, Ms{1000}), Ms{100});
  EXPECT_FALSE(fit_before_deadline(Ms{980}, Ms{1000}));
  EXPECT_FALSE(fit_before_deadline(Ms{100}, Ms{0}));
}

}  // namespace
}  // namespace sluice::routing
