// Adaptive retry throttling: partial failure keeps every retry, an outage stops them, the window forgets, and
// the decision is a seeded draw against p = max(0, (requests − K·accepts) / (requests + 1)).
#include "routing/retry_budget.h"

#include <gtest/gtest.h>

#include <random>

namespace sluice::routing {
namespace {

using namespace std::chrono_literals;
const RetryBudget::Clock::time_point kT0 = RetryBudget::Clock::time_point{} + 1h;

// Share of 10,000 retry questions let through, after `n` attempts of which `ok_share` were accepted.
double admitted_share(double ok_share, int n = 1000, double k = 2.0) {
  RetryBudget b{{k, 120s, 0}};
  for (int i = 0; i < n; ++i) {
    b.record(i < n * ok_share, kT0);
  }
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  int admitted = 0;
  for (int i = 0; i < 10'000; ++i) {
    admitted += b.try_acquire_retry(kT0, u(rng)) ? 1 : 0;
  }
  return admitted / 10'000.0;
}

TEST(RetryBudget, PartialFailureKeepsRetrying) {
  EXPECT_EQ(admitted_share(0.95), 1.0);
  EXPECT_EQ(admitted_share(0.80), 1.0) << "a 20 % fault rate must not starve retries";
  EXPECT_EQ(admitted_share(0.50), 1.0) << "K = 2: p stays 0 while half the attempts are accepted";
}

TEST(RetryBudget, AnOutageStopsAmplifying) {
  EXPECT_LT(admitted_share(0.0), 0.01);
  const double at_75 = admitted_share(0.25);  // p = (1 − 0.5) ≈ 0.5
  EXPECT_GT(at_75, 0.45);
  EXPECT_LT(at_75, 0.55);
}

TEST(RetryBudget, RejectProbabilityFollowsTheFormula) {
  RetryBudget b{{2.0, 120s, 0}};
  EXPECT_EQ(b.reject_probability(kT0), 0.0);  // no history: retries go
  for (int i = 0; i < 9; ++i) {
    b.record(false, kT0);
  }
  b.record(true, kT0);
  EXPECT_DOUBLE_EQ(b.reject_probability(kT0), (10.0 - 2.0 * 1.0) / 11.0);
  EXPECT_FALSE(b.try_acquire_retry(kT0, 0.5));
  EXPECT_TRUE(b.try_acquire_retry(kT0, 0.99));
  EXPECT_EQ(b.throttled(), 1u);
}

TEST(RetryBudget, TheWindowForgetsOldAttempts) {
  RetryBudget b{{2.0, 120s}};
  for (int i = 0; i < 100; ++i) {
    b.record(false, kT0);
  }
  EXPECT_GT(b.reject_probability(kT0 + 100s), 0.9);
  EXPECT_EQ(b.reject_probability(kT0 + 130s), 0.0) << "an outage two minutes ago says nothing now";
  b.record(true, kT0 + 130s);
  EXPECT_EQ(b.reject_probability(kT0 + 131s), 0.0);
}

TEST(RetryBudget, AHealthyWindowAbsorbsTheStartOfAnOutage) {
  RetryBudget b{{2.0, 120s}};
  for (int i = 0; i < 100; ++i) {
    b.record(true, kT0);
  }
  for (int i = 0; i < 100; ++i) {
    b.record(false, kT0 + 60s);
  }
  EXPECT_EQ(b.reject_probability(kT0 + 61s), 0.0);  // 200 − 2·100 = 0
  for (int i = 0; i < 100; ++i) {
    b.record(false, kT0 + 70s);
  }
  EXPECT_NEAR(b.reject_probability(kT0 + 71s), 100.0 / 301.0, 1e-9);
}

TEST(RetryBudget, TooFewAttemptsSayNothing) {
  RetryBudget b{{2.0, 120s, 10}};
  for (int i = 0; i < 9; ++i) {
    b.record(false, kT0);  // a quiet group's first failures
  }
  EXPECT_EQ(b.reject_probability(kT0), 0.0);
  EXPECT_TRUE(b.try_acquire_retry(kT0, 0.0));
  b.record(false, kT0);
  EXPECT_DOUBLE_EQ(b.reject_probability(kT0), 10.0 / 11.0);
  EXPECT_FALSE(b.try_acquire_retry(kT0, 0.0));
  EXPECT_EQ(b.reject_probability(kT0 + 130s), 0.0) << "the window forgot them";
}

TEST(RetryBudget, ABurstsFastFailuresDoNotSpeakForItsSlowSuccesses) {
  RetryBudget b{{2.0, 120s, 10}};
  for (int i = 0; i < 30; ++i) {
    b.record(false, kT0);  // a third of a 100-request burst failed fast; 70 attempts are still out
  }
  EXPECT_EQ(b.reject_probability(kT0, 70), 0.0);
  EXPECT_TRUE(b.try_acquire_retry(kT0, 0.0, 70));
  EXPECT_GT(b.reject_probability(kT0, 20), 0.9) << "once the window heard from most of the traffic, it decides";
}

}  // namespace
}  // namespace sluice::routing
