#include "bench/arrivals.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sluice::bench {

TEST(BenchArrivals, SeededAndReplayable) {
  PoissonArrivals a(100, 42);
  PoissonArrivals b(100, 42);
  PoissonArrivals c(100, 43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    auto x = a.next();
    EXPECT_EQ(x, b.next());
    differs = differs || x != c.next();
  }
  EXPECT_TRUE(differs);
}

TEST(BenchArrivals, RateAndExponentialGaps) {
  PoissonArrivals a(1000, 1);
  const int n = 200000;
  std::chrono::nanoseconds prev{0};
  std::chrono::nanoseconds last{0};
  double sum_sq = 0;
  for (int i = 0; i < n; ++i) {
    last = a.next();
    ASSERT_GE(last, prev);
    const double gap = static_cast<double>((last - prev).count());
    sum_sq += gap * gap;
    prev = last;
  }
  const double mean = static_cast<double>(last.count()) / n;
  EXPECT_NEAR(mean, 1e6, 1e4);  // 1 ms mean gap within 1 %
  // Exponential: standard deviation equals the mean.
  const double sd = std::sqrt(sum_sq / n - mean * mean);
  EXPECT_NEAR(sd / mean, 1.0, 0.02);
}

}  // namespace sluice::bench
