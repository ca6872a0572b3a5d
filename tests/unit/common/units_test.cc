#include "common/units.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace sluice {
namespace {

using std::chrono::milliseconds;

TEST(UnitsParseDuration, AcceptsUnitsAndFractions) {
  const std::pair<std::string_view, int64_t> cases[] = {
      {"250ms", 250},  {"10s", 10'000},  {"2m", 120'000}, {"1h", 3'600'000}, {"1.5s", 1'500},
      {"0.25s", 250},  {"1.50s", 1'500}, {"1.0s", 1'000}, {"0.5m", 30'000},  {"1.5h", 5'400'000},
      {"1500", 1'500}, {"0", 0},         {"0s", 0},       {"007s", 7'000},   {"0.001s", 1},
  };
  for (const auto& [text, ms] : cases) {
    SCOPED_TRACE(text);
    const auto d = parse_duration(text);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->count(), ms);
  }
}

TEST(UnitsParseDuration, RejectsMalformed) {
  const std::string_view cases[] = {
      "",     "s",       "5x",    "5 s", " 5s",   "5s ",  "-5s",
      "+5s",  "1.5",     ".5s",   "1.s", "1..5s", "5S",   "5sec",
      "5ms5", "0.0005s", "1.5ms", "5d",  "1e3ms", "0x10", "99999999999999999999ms"};
  for (std::string_view text : cases) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(parse_duration(text).has_value());
  }
}

TEST(UnitsParseDuration, RejectsOverflow) {
  EXPECT_FALSE(parse_duration("9223372036854775807h").has_value());
  EXPECT_EQ(parse_duration("9223372036854775807")->count(), std::numeric_limits<int64_t>::max());
}

TEST(UnitsParseSize, AcceptsSuffixes) {
  const std::pair<std::string_view, std::size_t> cases[] = {
      {"0", 0},
      {"1024", 1024},
      {"10B", 10},
      {"2KB", 2000},
      {"2KiB", 2048},
      {"3MB", 3'000'000},
      {"4MiB", 4 * 1024 * 1024},
      {"1GB", 1'000'000'000},
      {"2GiB", std::size_t{2} << 30},
  };
  for (const auto& [text, n] : cases) {
    SCOPED_TRACE(text);
    const auto v = parse_size(text);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, n);
  }
}

TEST(UnitsParseSize, RejectsMalformed) {
  const std::string_view cases[] = {"",
                                    "B",
                                    "4mib",
                                    "4kb",
                                    "4 MiB",
                                    "4MiB ",
                                    "-1",
                                    "1.5MiB",
                                    "4TB",
                                    "4K",
                                    "0x100",
                                    "99999999999999999999",
                                    "99999999999GiB"};
  for (std::string_view text : cases) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(parse_size(text).has_value());
  }
}

TEST(UnitsFormatDuration, PicksLargestExactUnit) {
  const std::pair<int64_t, std::string_view> cases[] = {
      {0, "0s"},       {1, "1ms"},         {250, "250ms"},    {999, "999ms"},    {1000, "1s"},
      {1500, "1.5s"},  {1250, "1.25s"},    {1001, "1.001s"},  {10'000, "10s"},   {90'000, "90s"},
      {120'000, "2m"}, {5'400'000, "90m"}, {3'600'000, "1h"}, {7'200'000, "2h"}, {-1500, "-1.5s"},
  };
  for (const auto& [ms, text] : cases) {
    SCOPED_TRACE(ms);
    EXPECT_EQ(format_duration(milliseconds(ms)), text);
  }
}

TEST(UnitsFormatDuration, RoundTripsThroughParse) {
  for (int64_t ms :
       {0, 1, 7, 999, 1000, 1001, 1999, 59'999, 60'000, 61'500, 3'599'999, 3'600'000, 86'400'123}) {
    SCOPED_TRACE(ms);
    const auto back = parse_duration(format_duration(milliseconds(ms)));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->count(), ms);
  }
}

}  // namespace
}  // namespace sluice
