#include "routing/hedge_delay.h"

#include <gtest/gtest.h>

#include <random>

namespace sluice::routing {
namespace {
using std::chrono::milliseconds;

TEST(HedgeDelay, FixedDelayIgnoresSamples) {
  HedgeDelay d{HedgePolicy{milliseconds(300)}};
  for (int i = 0; i < 100; ++i) {
    d.observe(5000);
  }
  EXPECT_EQ(d.delay(), milliseconds(300));
}

TEST(HedgeDelay, ColdGroupHedgesAtMax) {
  HedgePolicy p;
  p.max = milliseconds(10'000);
  p.min_samples = 20;
  HedgeDelay d{p};
  for (int i = 0; i < 19; ++i) {
    d.observe(100);
  }
  EXPECT_EQ(d.delay(), milliseconds(10'000));
  d.observe(100);
  EXPECT_EQ(d.delay(), milliseconds(100));
}

TEST(HedgeDelay, LearnsP95NotTheTail) {
  HedgePolicy p;
  p.min_samples = 20;
  HedgeDelay d{p};
  // 97 % fast (100..196 ms), 3 % very slow: p95 must sit among the fast ones, below the slow tail.
  for (int i = 0; i < 400; ++i) {
    d.observe(i % 100 < 3 ? 30'000.0 : 100.0 + (i % 97));
  }
  EXPECT_GE(d.delay(), milliseconds(180));
  EXPECT_LE(d.delay(), milliseconds(197));
}

TEST(HedgeDelay, NearestRankOnKnownSamples) {
  HedgePolicy p;
  p.min_samples = 1;
  p.min = milliseconds(0);
  HedgeDelay d{p};
  // 1..160 shuffled; recomputed every 8 samples, and 160 is a multiple of 8.
  std::vector<int> v(160);
  for (int i = 0; i < 160; ++i) {
    v[i] = i + 1;
  }
  std::shuffle(v.begin(), v.end(), std::mt19937_64(7));
  for (int x : v) {
    d.observe(x);
  }
  EXPECT_EQ(d.delay(), milliseconds(152));  // ceil(0.95 * 160) = 152nd smallest
}

TEST(HedgeDelay, ClampedToMinAndMax) {
  HedgePolicy p;
  p.min_samples = 8;
  p.min = milliseconds(50);
  p.max = milliseconds(2000);
  HedgeDelay fast{p};
  HedgeDelay slow{p};
  for (int i = 0; i < 64; ++i) {
    fast.observe(1);
    slow.observe(60'000);
  }
  EXPECT_EQ(fast.delay(), milliseconds(50));
  EXPECT_EQ(slow.delay(), milliseconds(2000));
}

TEST(HedgeDelay, WindowForgetsOldSamples) {
  HedgePolicy p;
  p.min_samples = 8;
  p.min = milliseconds(0);
  p.window = 64;
  HedgeDelay d{p};
  for (int i = 0; i < 64; ++i) {
    d.observe(5000);
  }
  EXPECT_EQ(d.delay(), milliseconds(5000));
  for (int i = 0; i < 64; ++i) {
    d.observe(200);
  }
  EXPECT_EQ(d.delay(), milliseconds(200));
  EXPECT_EQ(d.samples(), 64u);
}

TEST(HedgeDelay, RejectsNegativeAndNan) {
  HedgePolicy p;
  p.min_samples = 1;
  HedgeDelay d{p};
  d.observe(-1);
  d.observe(std::nan(""));
  EXPECT_EQ(d.samples(), 0u);
}

}  // namespace
}  // namespace sluice::routing
