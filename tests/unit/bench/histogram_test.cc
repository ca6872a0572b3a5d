#include "bench/histogram.h"

#include <gtest/gtest.h>

#include <random>

namespace sluice::bench {

TEST(BenchHistogram, ExactForSmallValues) {
  Histogram h;
  for (std::uint64_t v = 0; v < 256; ++v) {
    EXPECT_EQ(Histogram::index_of(v), v);
    EXPECT_EQ(Histogram::lowest_of(v), v);
    EXPECT_EQ(Histogram::highest_of(v), v);
  }
  h.record(3);
  h.record(5);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.min(), 3u);
  EXPECT_EQ(h.max(), 5u);
  EXPECT_EQ(h.percentile(0.5), 3u);
  EXPECT_EQ(h.percentile(1.0), 5u);
  EXPECT_DOUBLE_EQ(h.mean(), 4.0);
}

TEST(BenchHistogram, BucketsAreContiguousAndBounded) {
  for (std::size_t i = 1; i < Histogram::index_of(Histogram::kMaxValue); ++i) {
    ASSERT_EQ(Histogram::lowest_of(i), Histogram::highest_of(i - 1) + 1) << i;
    ASSERT_EQ(Histogram::index_of(Histogram::lowest_of(i)), i);
    ASSERT_EQ(Histogram::index_of(Histogram::highest_of(i)), i);
    if (i < Histogram::kSubCount) {
      continue;  // exact buckets of width 1
    }
    // Relative width at most 1/128.
    const double width = static_cast<double>(Histogram::highest_of(i) - Histogram::lowest_of(i) + 1);
    ASSERT_LE(width / static_cast<double>(Histogram::lowest_of(i)), 1.0 / 128 + 1e-12);
  }
}

TEST(BenchHistogram, PercentilesWithinPrecision) {
  Histogram h;
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> values;
  for (int i = 0; i < 100000; ++i) {
    values.push_back(rng() % 10'000'000);
    h.record(values.back());
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double exact = static_cast<double>(values[static_cast<std::size_t>(q * values.size()) - 1]);
    EXPECT_NEAR(static_cast<double>(h.percentile(q)), exact, exact / 100) << q;
  }
  EXPECT_EQ(h.percentile(1.0), values.back());
  EXPECT_EQ(h.percentile(0.0), values.front());
}

TEST(BenchHistogram, MergeAndClamp) {
  Histogram a;
  Histogram b;
  a.record(10, 3);
  b.record(Histogram::kMaxValue + 100);
  a.merge(b);
  EXPECT_EQ(a.count(), 4u);
  EXPECT_EQ(a.max(), Histogram::kMaxValue);
  auto buckets = a.buckets();
  ASSERT_EQ(buckets.size(), 2u);
  EXPECT_EQ(buckets[0], (std::pair<std::uint64_t, std::uint64_t>{10, 3}));
  Histogram empty;
  EXPECT_EQ(empty.percentile(0.99), 0u);
  EXPECT_EQ(empty.min(), 0u);
}

}  // namespace sluice::bench
