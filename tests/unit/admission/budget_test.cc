// Spend budgets: UTC periods, the admission rule (spent + reserved < cap), settling, and the cost estimate.
#include "admission/budget.h"

#include <gtest/gtest.h>

namespace sluice::admission {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;
// 2025-03-31T23:59:00Z and friends (unix ms).
constexpr std::int64_t kMar31Late = 1743465540000;
constexpr std::int64_t kApr1 = 1743465600000;

TEST(BudgetPeriods, DaysAndMonthsAreUtcCalendarPeriods) {
  const BudgetPeriods p = budget_periods(kMar31Late);
  EXPECT_EQ(p.day_end_ms, kApr1);
  EXPECT_EQ(p.month_end_ms, kApr1);  // the month ends with its last day
  EXPECT_EQ(p.month, 2025 * 12 + 2);
  const BudgetPeriods q = budget_periods(kApr1);
  EXPECT_EQ(q.day, p.day + 1);
  EXPECT_EQ(q.month, p.month + 1);
  EXPECT_EQ(q.day_end_ms, kApr1 + kDayMs);
  EXPECT_EQ(q.month_end_ms, kApr1 + 30 * kDayMs);  // April has 30 days
  // December rolls into the next year.
  const BudgetPeriods d = budget_periods(1735603200000);  // 2024-12-31T00:00:00Z
  EXPECT_EQ(d.month_end_ms, 1735689600000);               // 2025-01-01
}

TEST(BudgetAccount, AdmitsWhileSpentPlusReservedIsBelowTheCap) {
  BudgetAccount a(BudgetCaps::from({.daily_usd = 1.0}));
  const NanoUsd est = to_nano_usd(0.4);
  EXPECT_TRUE(a.reserve(est, kApr1).allowed);  // 0.4 reserved
  EXPECT_TRUE(a.reserve(est, kApr1).allowed);  // 0.8 reserved
  EXPECT_TRUE(a.reserve(est, kApr1).allowed);  // 0.8 < 1.0: the last request may overshoot, by one request
  const BudgetVerdict refused = a.reserve(est, kApr1);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.period, BudgetPeriod::kDay);
  EXPECT_EQ(refused.used, to_nano_usd(1.2));
  EXPECT_EQ(refused.resets_at_ms, kApr1 + kDayMs);
  // Requests settle cheaper than estimated: the reserved estimate leaves, the real cost stays.
  for (int i = 0; i < 3; ++i) {
    a.settle(est, to_nano_usd(0.1), kApr1 + 1000);
  }
  const auto v = a.view(kApr1 + 1000);
  EXPECT_EQ(v.reserved, 0);
  EXPECT_EQ(v.day_spent, to_nano_usd(0.3));
  EXPECT_TRUE(a.reserve(est, kApr1 + 2000).allowed);
}

TEST(BudgetAccount, ANewDayStartsEmptyButTheMonthRemembers) {
  BudgetAccount a(BudgetCaps::from({.daily_usd = 1.0, .monthly_usd = 1.5}));
  ASSERT_TRUE(a.reserve(to_nano_usd(1.0), kApr1).allowed);
  a.settle(to_nano_usd(1.0), to_nano_usd(1.0), kApr1);
  EXPECT_FALSE(a.reserve(1, kApr1 + 1).allowed);
  const BudgetVerdict next_day = a.reserve(to_nano_usd(0.6), kApr1 + kDayMs);
  EXPECT_TRUE(next_day.allowed);
  a.settle(to_nano_usd(0.6), to_nano_usd(0.6), kApr1 + kDayMs);
  const BudgetVerdict month = a.reserve(1, kApr1 + kDayMs + 5);
  EXPECT_FALSE(month.allowed);
  EXPECT_EQ(month.period, BudgetPeriod::kMonth);
  EXPECT_EQ(month.resets_at_ms, kApr1 + 30 * kDayMs);
}

TEST(BudgetAccount, ReservationsInFlightCountAcrossTheDayBoundary) {
  BudgetAccount a(BudgetCaps::from({.daily_usd = 1.0}));
  ASSERT_TRUE(a.reserve(to_nano_usd(2.0), kMar31Late).allowed);
  EXPECT_FALSE(a.reserve(1, kApr1 + 1).allowed);  // still reserved by the request in flight
  a.settle(to_nano_usd(2.0), to_nano_usd(0.5), kApr1 + 2);  // it ends in the new day
  EXPECT_TRUE(a.reserve(1, kApr1 + 3).allowed);
  EXPECT_EQ(a.view(kApr1 + 3).day_spent, to_nano_usd(0.5));
}

TEST(BudgetAccount, NoCapNeverRefuses) {
  BudgetAccount a(BudgetCaps{});
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(a.reserve(to_nano_usd(1000), kApr1).allowed);
  }
}

TEST(BudgetEstimate, UsesTheDearestDeploymentOfTheGroup) {
  config::Config cfg;
  config::Model m;
  m.name = "chat";
  m.deployments = {{"a", "cheap", 1}, {"b", "dear", 1}};
  cfg.models["chat"] = m;
  cfg.pricing["cheap"] = config::Price{.input_cache_hit = 0.01, .input_cache_miss = 0.1, .output = 1.0};
  cfg.pricing["dear"] = config::Price{.input_cache_hit = 0.02, .input_cache_miss = 0.5, .output = 2.0};
  const auto ceilings = price_ceilings(cfg);
  const PriceCeiling& c = ceilings.at("chat");
  EXPECT_DOUBLE_EQ(c.input, 0.5);
  EXPECT_DOUBLE_EQ(c.output, 2.0);
  // 1000 prompt tokens at 0.5/M + 500 completion at 2/M = 0.0005 + 0.001 USD.
  EXPECT_EQ(estimate_cost(c, 1000, 500), to_nano_usd(0.0015));
}

TEST(BudgetMessage, SaysWhichCapAndWhenItResets) {
  BudgetVerdict v{false, BudgetPeriod::kDay, to_nano_usd(5), to_nano_usd(5.25), kApr1 + kDayMs};
  const std::string m = budget_message("team-a", v, kApr1 + kDayMs - 90 * 60'000);
  EXPECT_NE(m.find("team-a"), std::string::npos) << m;
  EXPECT_NE(m.find("daily budget of $5.00"), std::string::npos) << m;
  EXPECT_NE(m.find("resets in 1h30m"), std::string::npos) << m;
  EXPECT_NE(m.find("2025-04-02T00:00:00Z"), std::string::npos) << m;
}

}  // namespace
}  // namespace sluice::admission
