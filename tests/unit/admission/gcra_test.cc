#include "admission/gcra.h"

#include <gtest/gtest.h>

namespace sluice::admission {
namespace {

constexpr Nanos kSec = 1'000'000'000;
constexpr Nanos kStart = 1000 * kSec;

TEST(Gcra, FullBucketAdmitsExactlyTheLimitAtOnce) {
  auto p = GcraParams::make(60, std::chrono::seconds(60));
  AtomicGcra g;
  int allowed = 0;
  for (int i = 0; i < 120; ++i) {
    allowed += g.take(p, kStart, 1).allowed ? 1 : 0;
  }
  EXPECT_EQ(allowed, 60);
}

TEST(Gcra, RefillsOneUnitPerEmissionInterval) {
  auto p = GcraParams::make(60, std::chrono::seconds(60));  // 1 per second
  AtomicGcra g;
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(g.take(p, kStart, 1).allowed);
  }
  auto d = g.take(p, kStart, 1);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ns, kSec);
  EXPECT_EQ(d.remaining, 0u);
  EXPECT_EQ(d.reset_ns, 60 * kSec);
  EXPECT_FALSE(g.take(p, kStart + kSec - 1, 1).allowed);
  EXPECT_TRUE(g.take(p, kStart + kSec, 1).allowed);
  EXPECT_FALSE(g.take(p, kStart + kSec, 1).allowed);
}

TEST(Gcra, RemainingAndResetAfterPartialUse) {
  auto p = GcraParams::make(10, std::chrono::seconds(10));
  AtomicGcra g;
  auto d = g.take(p, kStart, 3);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 7u);
  EXPECT_EQ(d.reset_ns, 3 * kSec);
  auto later = g.peek(p, kStart + 2 * kSec);
  EXPECT_EQ(later.remaining, 9u);
  EXPECT_EQ(later.reset_ns, kSec);
}

TEST(Gcra, SmoothBurstOfOneSpacesRequests) {
  auto p = GcraParams::make(10, std::chrono::seconds(10), 1);
  AtomicGcra g;
  EXPECT_TRUE(g.take(p, kStart, 1).allowed);
  EXPECT_FALSE(g.take(p, kStart + kSec / 2, 1).allowed);
  EXPECT_TRUE(g.take(p, kStart + kSec, 1).allowed);
}

TEST(Gcra, OverAnIntervalAtMostBurstPlusRefill) {
  // 2x the rate, evenly spaced, for one window: burst + window's refill pass, the rest do not.
  auto p = GcraParams::make(60, std::chrono::seconds(60), 1);
  AtomicGcra g;
  int allowed = 0;
  for (int i = 0; i < 120; ++i) {
    allowed += g.take(p, kStart + i * kSec / 2, 1).allowed ? 1 : 0;
  }
  EXPECT_EQ(allowed, 60);
}

TEST(Gcra, CostLargerThanBucketIsTooLarge) {
  auto p = GcraParams::make(100, std::chrono::seconds(60));
  AtomicGcra g;
  auto d = g.take(p, kStart, 101);
  EXPECT_FALSE(d.allowed);
  EXPECT_TRUE(d.too_large);
  EXPECT_TRUE(g.take(p, kStart, 100).allowed);
}

TEST(Gcra, AdjustRefundsAndChargesButNeverBeyondFull) {
  auto p = GcraParams::make(100, std::chrono::seconds(100));  // 1 unit per second
  AtomicGcra g;
  ASSERT_TRUE(g.take(p, kStart, 80).allowed);
  g.adjust(p, kStart, -50);  // estimate 80, real 30
  EXPECT_EQ(g.peek(p, kStart).remaining, 70u);
  g.adjust(p, kStart, -500);
  EXPECT_EQ(g.peek(p, kStart).remaining, 100u);
  g.adjust(p, kStart, 150);  // real usage above the bucket: debt
  EXPECT_EQ(g.peek(p, kStart).remaining, 0u);
  EXPECT_FALSE(g.take(p, kStart + 49 * kSec, 1).allowed);
  EXPECT_TRUE(g.take(p, kStart + 51 * kSec, 1).allowed);
}

TEST(Gcra, UnlimitedAlwaysAllows) {
  GcraParams p;
  AtomicGcra g;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(g.take(p, kStart, 1'000'000).allowed);
  }
}

}  // namespace
}  // namespace sluice::admission
