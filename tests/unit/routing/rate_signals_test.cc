#include "routing/rate_signals.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace sluice::routing {
namespace {

using std::chrono::milliseconds;

TEST(RateSignals, ResetDurations) {
  EXPECT_EQ(parse_reset_duration("20ms"), milliseconds(20));
  EXPECT_EQ(parse_reset_duration("1s"), milliseconds(1000));
  EXPECT_EQ(parse_reset_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(parse_reset_duration("6m0s"), milliseconds(360'000));
  EXPECT_EQ(parse_reset_duration("1h2m3s"), milliseconds(3'723'000));
  EXPECT_EQ(parse_reset_duration("0.5"), milliseconds(500));
  EXPECT_EQ(parse_reset_duration(" 2s "), milliseconds(2000));
  EXPECT_EQ(parse_reset_duration("0.0001s"), milliseconds(1));  // rounded up: never "ready" too early
  for (const char* bad : {"", "s", "1x", "-1s", "1s2", "abc", "1..2s"}) {
    EXPECT_EQ(parse_reset_duration(bad), std::nullopt) << bad;
  }
}

TEST(RateSignals, ParsesOpenAiHeaders) {
  std::map<std::string, std::string> h{{"x-ratelimit-limit-requests", "60"},
                                       {"x-ratelimit-remaining-requests", "59"},
                                       {"x-ratelimit-reset-requests", "1s"},
                                       {"x-ratelimit-limit-tokens", "150000"},
                                       {"x-ratelimit-remaining-tokens", "149984"},
                                       {"x-ratelimit-reset-tokens", "6m0s"},
                                       {"retry-after", "3"}};
  auto lookup = [&](std::string_view n) -> std::string_view {
    auto it = h.find(std::string(n));
    return it == h.end() ? std::string_view{} : std::string_view(it->second);
  };
  RateSignals s = parse_rate_signals(lookup);
  EXPECT_EQ(s.limit_requests, 60);
  EXPECT_EQ(s.remaining_requests, 59);
  EXPECT_EQ(s.reset_requests, milliseconds(1000));
  EXPECT_EQ(s.limit_tokens, 150000);
  EXPECT_EQ(s.remaining_tokens, 149984);
  EXPECT_EQ(s.reset_tokens, milliseconds(360'000));
  EXPECT_EQ(s.retry_after, milliseconds(3000));
  h["retry-after-ms"] = "250";
  EXPECT_EQ(parse_rate_signals(lookup).retry_after, milliseconds(250));  // the precise one wins
  h.clear();
  h["x-ratelimit-remaining-requests"] = "-3";
  EXPECT_FALSE(parse_rate_signals(lookup).any());
}

}  // namespace
}  // namespace sluice::routing
