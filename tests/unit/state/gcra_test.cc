#include "state/gcra.h"

#include <gtest/gtest.h>

namespace sluice::state {
namespace {

constexpr Nanos kGcraSec = 1'000'000'000;
constexpr Nanos kGcraStart = 1000 * kGcraSec;

TEST(Gcra, FullBucketAdmitsExactlyTheLimitAtOnce) {
  auto p = GcraParams::make(60, std::chrono::seconds(60));
  AtomicGcra g;
  int allowed = 0;
  for (int i = 0; i < 120; ++i) {
    allowed += g.take(p, kGcraStart, 1).allowed ? 1 : 0;
  }
  EXPECT_EQ(allowed, 60);
}

TEST(Gcra, RefillsOneUnitPerEmissionInterval) {
  auto p = GcraParams::make(60, std::chrono::seconds(60));  // 1 per second
  AtomicGcra g;
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(g.take(p, kGcraStart, 1).allowed);
  }
  auto d = g.take(p, kGcraStart, 1);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ns, kGcraSec);
  EXPECT_EQ(d.remaining, 0u);
  EXPECT_EQ(d.reset_ns, 60 * kGcraSec);
  EXPECT_FALSE(g.take(p, kGcraStart + kGcraSec - 1, 1).allowed);
  EXPECT_TRUE(g.take(p, kGcraStart + kGcraSec, 1).allowed);
  EXPECT_FALSE(g.take(p, kGcraStart + kGcraSec, 1).allowed);
}

TEST(Gcra, RemainingAndResetAfterPartialUse) {
  auto p = GcraParams::make(10, std::chrono::seconds(10));
  AtomicGcra g;
  auto d = g.take(p, kGcraStart, 3);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 7u);
  EXPECT_EQ(d.reset_ns, 3 * kGcraSec);
  auto later = g.peek(p, kGcraStart + 2 * kGcraSec);
  EXPECT_EQ(later.remaining, 9u);
  EXPECT_EQ(later.reset_ns, kGcraSec);
}

TEST(Gcra, SmoothBurstOfOneSpacesRequests) {
  auto p = GcraParams::make(10, std::chrono::seconds(10), 1);
  AtomicGcra g;
  EXPECT_TRUE(g.take(p, kGcraStart, 1).allowed);
  EXPECT_FALSE(g.take(p, kGcraStart + kGcraSec / 2, 1).allowed);
  EXPECT_TRUE(g.take(p, kGcraStart + kGcraSec, 1).allowed);
}

TEST(Gcra, OverAnIntervalAtMostBurstPlusRefill) {
  // 2x the rate, evenly spaced, for one window: burst + window's refill pass, the rest do not.
  auto p = GcraParams::make(60, std::chrono::seconds(60), 1);
  AtomicGcra g;
  int allowed = 0;
  for (int i = 0; i < 120; ++i) {
    allowed += g.take(p, kGcraStart + i * kGcraSec / 2, 1).allowed ? 1 : 0;
  }
  EXPECT_EQ(allowed, 60);
}

TEST(Gcra, CostLargerThanBucketIsTooLarge) {
  auto p = GcraParams::make(100, std::chrono::seconds(60));
  AtomicGcra g;
  auto d = g.take(p, kGcraStart, 101);
  EXPECT_FALSE(d.allowed);
  EXPECT_TRUE(d.too_large);
  EXPECT_TRUE(g.take(p, kGcraStart, 100).allowed);
}

TEST(Gcra, AdjustRefundsAndChargesButNeverBeyondFull) {
  auto p = GcraParams::make(100, std::chrono::seconds(100));  // 1 unit per second
  AtomicGcra g;
  ASSERT_TRUE(g.take(p, kGcraStart, 80).allowed);
  g.adjust(p, kGcraStart, -50);  // estimate 80, real 30
  EXPECT_EQ(g.peek(p, kGcraStart).remaining, 70u);
  g.adjust(p, kGcraStart, -500);
  EXPECT_EQ(g.peek(p, kGcraStart).remaining, 100u);
  g.adjust(p, kGcraStart, 150);  // real usage above the bucket: debt
  EXPECT_EQ(g.peek(p, kGcraStart).remaining, 0u);
  EXPECT_FALSE(g.take(p, kGcraStart + 49 * kGcraSec, 1).allowed);
  EXPECT_TRUE(g.take(p, kGcraStart + 51 * kGcraSec, 1).allowed);
}

TEST(Gcra, UnlimitedAlwaysAllows) {
  GcraParams p;
  AtomicGcra g;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(g.take(p, kGcraStart, 1'000'000).allowed);
  }
}

}  // namespace
}  // namespace sluice::state
