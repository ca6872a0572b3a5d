#include "admission/adaptive.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sluice::admission {
namespace {

constexpr Nanos kMs = 1'000'000;

AdaptiveParams params(config::AdaptiveAlgorithm a) {
  AdaptiveParams p;
  p.algorithm = a;
  p.min_limit = 1;
  p.max_limit = 256;
  p.initial = 4;
  return p;
}

// A fake upstream with `slots` slots that answers 503 beyond them (sim --overload 503), driven in rounds of
// one service time by a saturating load: every round the gateway sends exactly `limit` requests.
double run_503(AdaptiveLimit& a, int slots, Nanos& now, int rounds, double* mean_tail = nullptr) {
  double sum = 0;
  int n = 0;
  for (int r = 0; r < rounds; ++r) {
    const int sent = static_cast<int>(std::floor(a.limit()));
    for (int i = 0; i < sent; ++i) {
      now += 100 * kMs / std::max(sent, 1);
      if (i < slots) {
        a.on_success(50, true, now);
      } else {
        a.on_overload(now);
      }
    }
    if (r >= rounds - 50) {
      sum += a.limit();
      ++n;
    }
  }
  if (mean_tail) {
    *mean_tail = sum / n;
  }
  return a.limit();
}

// A fake upstream that queues beyond its slots (DeepSeek): first-token latency grows with the queue.
double run_queue(AdaptiveLimit& a, int slots, Nanos& now, int rounds, double* mean_tail) {
  double sum = 0;
  int n = 0;
  const double base = 200;     // ms to first token with a free slot
  const double service = 800;  // ms a request holds its slot
  for (int r = 0; r < rounds; ++r) {
    const int sent = static_cast<int>(std::floor(a.limit()));
    for (int i = 0; i < sent; ++i) {
      now += 100 * kMs / std::max(sent, 1);
      const double wait = (i / slots) * service;
      a.on_success(base + wait, true, now);
    }
    if (r >= rounds - 50) {
      sum += a.limit();
      ++n;
    }
  }
  *mean_tail = sum / n;
  return a.limit();
}

TEST(AdaptiveLimit, AimdConvergesToSlotsWithin30sAndReadapts) {
  AdaptiveLimit a(params(config::AdaptiveAlgorithm::kAimd));
  Nanos now = 1000 * 1000 * kMs;
  double mean = 0;
  run_503(a, 32, now, 300, &mean);  // 300 rounds of 100 ms = 30 s
  EXPECT_NEAR(mean, 32, 32 * 0.2);
  run_503(a, 12, now, 300, &mean);  // capacity drops
  EXPECT_NEAR(mean, 12, 12 * 0.2);
  run_503(a, 24, now, 300, &mean);  // and comes back
  EXPECT_NEAR(mean, 24, 24 * 0.2);
}

TEST(AdaptiveLimit, GradientConvergesOnAQueueingUpstreamAndReadapts) {
  AdaptiveLimit a(params(config::AdaptiveAlgorithm::kGradient));
  Nanos now = 1000 * 1000 * kMs;
  double mean = 0;
  run_queue(a, 32, now, 300, &mean);
  EXPECT_NEAR(mean, 32, 32 * 0.2);
  run_queue(a, 12, now, 300, &mean);
  EXPECT_NEAR(mean, 12, 12 * 0.2);
}

TEST(AdaptiveLimit, OverloadCutsAtMostOncePerCooldown) {
  AdaptiveLimit a(params(config::AdaptiveAlgorithm::kGradient));
  Nanos now = 1000 * kMs;
  a.on_overload(now);
  EXPECT_DOUBLE_EQ(a.limit(), 4 * 0.9);
  a.on_overload(now + 10 * kMs);
  EXPECT_DOUBLE_EQ(a.limit(), 4 * 0.9);
  a.on_overload(now + 300 * kMs);
  EXPECT_DOUBLE_EQ(a.limit(), 4 * 0.81);
}

TEST(AdaptiveLimit, StaysWithinBoundsAndIgnoresUnsaturatedSamples) {
  auto p = params(config::AdaptiveAlgorithm::kAimd);
  p.max_limit = 10;
  AdaptiveLimit a(p);
  Nanos now = 0;
  for (int i = 0; i < 1000; ++i) {
    a.on_success(10, true, now += kMs);
  }
  EXPECT_DOUBLE_EQ(a.limit(), 10);
  AdaptiveLimit b(params(config::AdaptiveAlgorithm::kAimd));
  for (int i = 0; i < 1000; ++i) {
    b.on_success(10, false, now += kMs);
  }
  EXPECT_DOUBLE_EQ(b.limit(), 4);
  for (int i = 0; i < 100; ++i) {
    b.on_overload(now += 1000 * kMs);
  }
  EXPECT_DOUBLE_EQ(b.limit(), 1);
}

}  // namespace
}  // namespace sluice::admission
