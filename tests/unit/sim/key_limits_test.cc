#include "sim/key_limits.h"

#include <gtest/gtest.h>

namespace sluice::sim {
namespace {

using std::chrono::milliseconds;

TEST(SimKeyLimits, ParsesSpecs) {
  KeyLimitSpec s;
  EXPECT_EQ(parse_key_limits("30", s), std::nullopt);
  EXPECT_EQ(s.default_limit, 30u);
  KeyLimitSpec t;
  EXPECT_EQ(parse_key_limits("k1=4, k2=16,*=2", t), std::nullopt);
  EXPECT_EQ(t.per_key.at("k1"), 4u);
  EXPECT_EQ(t.per_key.at("k2"), 16u);
  EXPECT_EQ(t.default_limit, 2u);
  KeyLimitSpec u;
  EXPECT_NE(parse_key_limits("k1", u), std::nullopt);
  EXPECT_NE(parse_key_limits("k1=0", u), std::nullopt);
  EXPECT_NE(parse_key_limits("=3", u), std::nullopt);
}

TEST(SimKeyLimits, FixedWindowPerKey) {
  KeyLimitSpec s;
  s.per_key["a"] = 2;
  s.window = milliseconds(1000);
  auto t0 = KeyLimiter::Clock::time_point{};
  KeyLimiter l{s, t0};
  auto d1 = l.take("a", t0 + milliseconds(100));
  EXPECT_TRUE(d1.limited && d1.allowed);
  EXPECT_EQ(d1.remaining, 1u);
  EXPECT_EQ(d1.reset, milliseconds(900));
  EXPECT_TRUE(l.take("a", t0 + milliseconds(200)).allowed);
  auto d3 = l.take("a", t0 + milliseconds(300));
  EXPECT_FALSE(d3.allowed);
  EXPECT_EQ(d3.remaining, 0u);
  EXPECT_FALSE(l.take("b", t0).limited);  // no default limit
  EXPECT_TRUE(l.take("a", t0 + milliseconds(1000)).allowed);  // next window
}

TEST(SimKeyLimits, ResetFormat) {
  EXPECT_EQ(format_reset(milliseconds(20)), "20ms");
  EXPECT_EQ(format_reset(milliseconds(1000)), "1s");
  EXPECT_EQ(format_reset(milliseconds(1500)), "1.500s");
  EXPECT_EQ(format_reset(milliseconds(360'000)), "6m0s");
}

}  // namespace
}  // namespace sluice::sim
