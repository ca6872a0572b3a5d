#include "batch/schedule.h"

#include <gtest/gtest.h>

#include <ctime>

namespace sluice::batch {
namespace {

// Unix ms of a UTC date and time.
std::int64_t utc(int year, int month, int day, int hour, int minute = 0) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

constexpr std::int64_t kPlanHour = 3'600'000;

// DeepSeek 2025: off-peak 16:30-00:30 UTC at half price.
config::Price night_discount() {
  config::Price p;
  p.input_cache_miss = 0.27;
  p.output = 1.10;
  p.windows = {{16 * 60 + 30, 30}};
  p.off_peak_multiplier = 0.5;
  return p;
}

TEST(PriceSlots, CutAtWindowEdges) {
  const auto price = night_discount();
  const std::int64_t noon = utc(2025, 3, 3, 12);  // a Monday
  auto slots = price_slots(&price, noon, noon + 24 * kPlanHour);
  ASSERT_EQ(slots.size(), 3u);
  EXPECT_EQ(slots[0].start_ms, noon);
  EXPECT_EQ(slots[0].end_ms, utc(2025, 3, 3, 16, 30));
  EXPECT_EQ(slots[0].multiplier, 1.0);
  EXPECT_EQ(slots[1].end_ms, utc(2025, 3, 4, 0, 30));
  EXPECT_EQ(slots[1].multiplier, 0.5);
  EXPECT_EQ(slots[2].end_ms, noon + 24 * kPlanHour);
  EXPECT_EQ(price_slots(nullptr, noon, noon + kPlanHour).size(), 1u);
  EXPECT_TRUE(price_slots(&price, noon, noon).empty());
}

TEST(PriceSlots, PeakWindowsOnWeekdaysOnly) {
  config::Price p;
  p.windows = {{60, 240}, {360, 600}};  // 01:00-04:00, 06:00-10:00 are peak
  p.windows_are_peak = true;
  p.weekdays_only = true;
  p.off_peak_multiplier = 0.5;
  const std::int64_t sat = utc(2026, 3, 7, 0);
  auto weekend = price_slots(&p, sat, sat + 48 * kPlanHour);
  ASSERT_EQ(weekend.size(), 1u);  // Saturday and Sunday are off-peak all day
  EXPECT_EQ(weekend[0].multiplier, 0.5);
  auto monday = price_slots(&p, utc(2026, 3, 9, 0), utc(2026, 3, 9, 12));
  ASSERT_EQ(monday.size(), 5u);
  EXPECT_EQ(monday[1].start_ms, utc(2026, 3, 9, 1));
  EXPECT_EQ(monday[1].multiplier, 1.0);
}

PlanInput base(const config::Price* price, std::int64_t now, std::int64_t deadline, double lines,
               double rate) {
  PlanInput in;
  in.now_ms = now;
  in.deadline_ms = deadline;
  in.remaining_lines = lines;
  in.lines_per_second = rate;
  in.price = price;
  in.rate_share = 0.8;
  return in;
}

TEST(Plan, OffPeakWaitsForTheDiscountWhenItFits) {
  const auto price = night_discount();
  const std::int64_t noon = utc(2025, 3, 3, 12);
  auto plan = make_plan(base(&price, noon, noon + 24 * kPlanHour, 100, 1.0));
  EXPECT_FALSE(plan.run_now);
  EXPECT_TRUE(plan.meets_deadline);
  ASSERT_EQ(plan.slots.size(), 1u);
  EXPECT_EQ(plan.start_ms, utc(2025, 3, 3, 16, 30));
  EXPECT_EQ(plan.finish_ms, utc(2025, 3, 3, 16, 30) + 100'000);  // at the full rate, from the slot's start
  EXPECT_DOUBLE_EQ(plan.mean_multiplier, 0.5);
  EXPECT_DOUBLE_EQ(plan.now_multiplier, 1.0);
}

TEST(Plan, UsesPeakOnlyForWhatTheDiscountCannotHold) {
  const auto price = night_discount();
  const std::int64_t noon = utc(2025, 3, 3, 12);
  const std::int64_t deadline = utc(2025, 3, 3, 20);
  // Off-peak before the deadline: 16:30-20:00 = 12,600 s × 1 line/s × 0.8 = 10,080 lines.
  auto plan = make_plan(base(&price, noon, deadline, 12'000, 1.0));
  EXPECT_TRUE(plan.run_now);
  EXPECT_TRUE(plan.meets_deadline);
  ASSERT_EQ(plan.slots.size(), 2u);
  EXPECT_NEAR(plan.slots[0].lines, 1'920, 1e-6);  // the rest, at peak, now
  EXPECT_EQ(plan.slots[0].multiplier, 1.0);
  EXPECT_NEAR(plan.slots[1].lines, 10'080, 1e-6);
  EXPECT_NEAR(plan.mean_multiplier, (1'920 + 10'080 * 0.5) / 12'000, 1e-9);
  // After those 1,920 lines ran, the rest fits the discount: stop at peak (re-planning corrects itself).
  auto later = make_plan(base(&price, noon + kPlanHour, deadline, 10'080, 1.0));
  EXPECT_FALSE(later.run_now);
  EXPECT_TRUE(later.meets_deadline);
}

TEST(Plan, AsapRunsNowAtWhateverPrice) {
  const auto price = night_discount();
  const std::int64_t noon = utc(2025, 3, 3, 12);
  auto in = base(&price, noon, noon + 24 * kPlanHour, 100, 1.0);
  in.schedule = Schedule::kAsap;
  auto plan = make_plan(in);
  EXPECT_TRUE(plan.run_now);
  EXPECT_EQ(plan.start_ms, noon);
  EXPECT_EQ(plan.finish_ms, noon + 100'000);
  EXPECT_DOUBLE_EQ(plan.mean_multiplier, 1.0);
}

TEST(Plan, ImpossibleDeadlineRunsEverythingNow) {
  const auto price = night_discount();
  const std::int64_t noon = utc(2025, 3, 3, 12);
  auto plan = make_plan(base(&price, noon, noon + kPlanHour, 1e6, 1.0));
  EXPECT_FALSE(plan.meets_deadline);
  EXPECT_TRUE(plan.run_now);
  ASSERT_EQ(plan.slots.size(), 1u);
  EXPECT_EQ(plan.finish_ms, noon + 1'000'000'000);
}

TEST(Plan, MarginKeepsTheEndOfTheWindowFree) {
  const auto price = night_discount();
  const std::int64_t noon = utc(2025, 3, 3, 12);
  // Deadline 17:30: one hour of discount; with a 30 min margin only 16:30-17:00 counts (1,440 lines at
  // 0.8/s).
  auto in = base(&price, noon, utc(2025, 3, 3, 17, 30), 1'440, 1.0);
  in.margin_ms = kPlanHour / 2;
  EXPECT_FALSE(make_plan(in).run_now);
  in.remaining_lines = 1'500;
  EXPECT_TRUE(make_plan(in).run_now);
}

TEST(Plan, WithoutPricesOrLinesThereIsNothingToWaitFor) {
  const std::int64_t noon = utc(2025, 3, 3, 12);
  EXPECT_TRUE(make_plan(base(nullptr, noon, noon + 24 * kPlanHour, 10, 1.0)).run_now);
  auto done = make_plan(base(nullptr, noon, noon + kPlanHour, 0, 1.0));
  EXPECT_FALSE(done.run_now);
  EXPECT_TRUE(done.slots.empty());
}

TEST(ScheduleNames, ParseAndPrint) {
  EXPECT_EQ(parse_schedule("asap"), Schedule::kAsap);
  EXPECT_EQ(parse_schedule("off_peak"), Schedule::kOffPeak);
  EXPECT_FALSE(parse_schedule("cheap"));
  EXPECT_EQ(to_string(Schedule::kOffPeak), "off_peak");
}

TEST(Throughput, PriorUntilEnoughBusyTimeThenMeasured) {
  Throughput t(10.0, 600, 30);  // prior: 0.1 line/s per slot
  EXPECT_DOUBLE_EQ(t.per_slot(), 0.1);
  t.add(15, 6);  // 0.4/s over half the minimum busy time
  EXPECT_DOUBLE_EQ(t.per_slot(), (6 + 0.1 * 15) / 30);
  t.add(15, 6);
  EXPECT_DOUBLE_EQ(t.per_slot(), 12.0 / 30);
}

TEST(Throughput, ForgetsBeyondTheWindow) {
  Throughput t(10.0, 100, 10);
  for (int i = 0; i < 10; ++i) {
    t.add(10, 10);  // 1/s
  }
  EXPECT_DOUBLE_EQ(t.per_slot(), 1.0);
  for (int i = 0; i < 10; ++i) {
    t.add(10, 2);  // 0.2/s: the old samples leave the 100 s window
  }
  EXPECT_NEAR(t.per_slot(), 0.2, 1e-9);
  for (int i = 0; i < 10; ++i) {
    t.add(10, 0);
  }
  EXPECT_DOUBLE_EQ(t.per_slot(), 0.001);  // a stall lowers the rate to 1 % of the prior, never to zero
}

}  // namespace
}  // namespace sluice::batch
