#include "ledger/pricing.h"

#include <gtest/gtest.h>

namespace sluice::ledger {
namespace {

// 2026-11-23 is a Monday.
constexpr std::time_t kMonday0000 = 1795392000;
constexpr std::time_t at(int day, int h, int m) { return kMonday0000 + day * 86400 + h * 3600 + m * 60; }

TEST(Pricing, CostPerMillionTokens) {
  config::Price p{0.07, 0.27, 1.10};
  openai::Usage u;
  u.prompt_cache_hit_tokens = 1'000'000;
  u.prompt_cache_miss_tokens = 2'000'000;
  u.completion_tokens = 500'000;
  EXPECT_DOUBLE_EQ(cost_usd(p, u, at(0, 12, 0)), 0.07 + 0.54 + 0.55);
  EXPECT_DOUBLE_EQ(cost_usd({}, "unknown", u, 0), 0.0);
}

TEST(Pricing, OffPeakWindowWrapsMidnight) {
  config::Price p{0.07, 0.27, 1.10};
  p.windows = {{16 * 60 + 30, 30}};  // 16:30-00:30 UTC at half price (the 2025 discount)
  p.off_peak_multiplier = 0.5;
  EXPECT_FALSE(is_off_peak(p, at(0, 16, 29)));
  EXPECT_TRUE(is_off_peak(p, at(0, 16, 30)));
  EXPECT_TRUE(is_off_peak(p, at(1, 0, 29)));
  EXPECT_FALSE(is_off_peak(p, at(1, 0, 30)));
  openai::Usage u;
  u.completion_tokens = 1'000'000;
  EXPECT_DOUBLE_EQ(cost_usd(p, u, at(0, 20, 0)), 0.55);
  EXPECT_DOUBLE_EQ(cost_usd(p, u, at(0, 12, 0)), 1.10);
}

TEST(Pricing, PeakWindowsOnWeekdays) {
  config::Price p;
  p.windows = {{60, 240}, {360, 600}};  // peak 01:00-04:00 and 06:00-10:00, weekdays; off-peak elsewhere
  p.windows_are_peak = true;
  p.weekdays_only = true;
  p.off_peak_multiplier = 0.5;
  EXPECT_FALSE(is_off_peak(p, at(0, 2, 0)));
  EXPECT_TRUE(is_off_peak(p, at(0, 5, 0)));
  EXPECT_FALSE(is_off_peak(p, at(4, 9, 59)));  // Friday
  EXPECT_TRUE(is_off_peak(p, at(5, 2, 0)));    // Saturday: no peak
  EXPECT_FALSE(is_off_peak(config::Price{}, at(0, 2, 0)));
}

}  // namespace
}  // namespace sluice::ledger
