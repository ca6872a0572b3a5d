#include "routing/rate_signals.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

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

struct F {
  std::string name;
  std::string value;
};
using Fields = std::vector<F>;

TEST(RateSignals, ParsesOpenAiHeaders) {
  Fields h{{"Server", "nginx"},
           {"x-ratelimit-limit-requests", "60"},
           {"x-ratelimit-remaining-requests", "59"},
           {"x-ratelimit-reset-requests", "1s"},
           {"Content-Length", "12"},
           {"x-ratelimit-limit-tokens", "150000"},
           {"x-ratelimit-remaining-tokens", "149984"},
           {"x-ratelimit-reset-tokens", "6m0s"},
           {"retry-after", "3"}};
  RateSignals s = parse_rate_signals(h);
  EXPECT_EQ(s.limit_requests, 60);
  EXPECT_EQ(s.remaining_requests, 59);
  EXPECT_EQ(s.reset_requests, milliseconds(1000));
  EXPECT_EQ(s.limit_tokens, 150000);
  EXPECT_EQ(s.remaining_tokens, 149984);
  EXPECT_EQ(s.reset_tokens, milliseconds(360'000));
  EXPECT_EQ(s.retry_after, milliseconds(3000));
  h.push_back({"retry-after-ms", "250"});
  EXPECT_EQ(parse_rate_signals(h).retry_after, milliseconds(250));  // the precise one wins, after it
  std::rotate(h.rbegin(), h.rbegin() + 1, h.rend());
  EXPECT_EQ(parse_rate_signals(h).retry_after, milliseconds(250));  // and before it
  EXPECT_FALSE(parse_rate_signals(Fields{{"x-ratelimit-remaining-requests", "-3"}}).any());
  EXPECT_FALSE(parse_rate_signals(Fields{}).any());
}

TEST(RateSignals, NamesAreCaseInsensitiveAndTheFirstOfANameCounts) {
  RateSignals s = parse_rate_signals(Fields{{"X-RateLimit-Remaining-Tokens", "7"},
                                            {"x-ratelimit-remaining-tokens", "9"},
                                            {"Retry-After", "2"},
                                            {"retry-after", "5"}});
  EXPECT_EQ(s.remaining_tokens, 7);
  EXPECT_EQ(s.retry_after, milliseconds(2000));
  // A malformed first field is not replaced by a later one of the same name (a lookup finds the first).
  EXPECT_EQ(
      parse_rate_signals(Fields{{"x-ratelimit-limit-requests", "lots"}, {"x-ratelimit-limit-requests", "5"}})
          .limit_requests,
      std::nullopt);
  // An unparsable retry-after-ms leaves retry-after to speak.
  EXPECT_EQ(parse_rate_signals(Fields{{"retry-after-ms", "soon"}, {"retry-after", "1"}}).retry_after,
            milliseconds(1000));
  // Names that share a length or a first letter with a signal are not signals.
  EXPECT_FALSE(parse_rate_signals(Fields{{"x-request-id", "1"},
                                         {"retry-afterX", "1"},
                                         {"reset-after", "1"},
                                         {"x-ratelimit-limit-requestz", "1"}})
                   .any());
}

}  // namespace
}  // namespace sluice::routing
