#include "sim/distributions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace sluice::sim {
namespace {

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

TEST(SimDistributions, LogNormalHitsP50AndP99) {
  LogNormal d{200, 2000};
  Rng rng{42};
  std::vector<double> xs;
  for (int i = 0; i < 100'000; ++i) {
    xs.push_back(d.sample(rng));
  }
  EXPECT_NEAR(quantile(xs, 0.5), 200, 200 * 0.03);
  EXPECT_NEAR(quantile(xs, 0.99), 2000, 2000 * 0.06);
}

TEST(SimDistributions, ZeroAndConstant) {
  Rng rng{1};
  LogNormal zero{0, 0};
  EXPECT_TRUE(zero.zero());
  EXPECT_EQ(zero.sample(rng), 0);
  LogNormal constant{50, 50};
  for (int i = 0; i < 100; ++i) {
    EXPECT_DOUBLE_EQ(constant.sample(rng), 50);
  }
}

TEST(SimDistributions, SeededRngReplays) {
  Rng a{7};
  Rng b{7};
  Rng c{8};
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs |= x != c.next();
  }
  EXPECT_TRUE(differs);
  Rng u{3};
  for (int i = 0; i < 1000; ++i) {
    double v = u.uniform();
    EXPECT_GE(v, 0.0);
    EXPECT_LT(v, 1.0);
  }
}

TEST(SimDistributions, LatencyInMicroseconds) {
  LatencyDist d{LogNormal{2, 2}};
  Rng rng{1};
  EXPECT_EQ(d.sample(rng).count(), 2000);
}

}  // namespace
}  // namespace sluice::sim
