#include <gtest/gtest.h>

#include "loader_test_util.h"

namespace sluice::config {
namespace {

using testing::load;
using testing::strings;

TEST(LoaderCache, ParsesCacheLedgerPricing) {
  auto r = load(R"(
upstreams:
  u: {base_url: "http://127.0.0.1:1"}
models:
  m: {upstream: u}
cache: {max_bytes: 8MiB, max_entry_bytes: 64KiB, ttl: 5m, stale_ttl: 1h, coalesce: false,
        cache_nondeterministic: true, opt_in_keys: [team-a]}
ledger: {path: /tmp/x.db, flush_interval: 50ms, admin_key_env: ADMIN}
pricing:
  deepseek-chat: {input_cache_hit: 0.07, input_cache_miss: 0.27, output: 1.10, off_peak: ["16:30-00:30"],
                  off_peak_multiplier: 0.5}
  flash: {input_cache_hit: 0.006, input_cache_miss: 0.3, output: 1.2, peak: ["01:00-04:00", "06:00-10:00"],
          weekdays_only: true, off_peak_multiplier: 0.5}
)",
                {{"ADMIN", "s3cret"}});
  ASSERT_TRUE(r.config) << ::testing::PrintToString(strings(r.errors));
  const Config& c = *r.config;
  EXPECT_EQ(c.cache.max_bytes, 8u << 20);
  EXPECT_EQ(c.cache.max_entry_bytes, 64u << 10);
  EXPECT_EQ(c.cache.ttl, Duration(300'000));
  EXPECT_EQ(c.cache.stale_ttl, Duration(3'600'000));
  EXPECT_FALSE(c.cache.coalesce);
  EXPECT_TRUE(c.cache.cache_nondeterministic);
  EXPECT_EQ(c.cache.opt_in_keys, std::vector<std::string>{"team-a"});
  EXPECT_EQ(c.ledger.path, "/tmp/x.db");
  EXPECT_EQ(c.ledger.admin_key, "s3cret");
  const Price& p = c.pricing.at("deepseek-chat");
  EXPECT_DOUBLE_EQ(p.output, 1.10);
  ASSERT_EQ(p.windows.size(), 1u);
  EXPECT_EQ(p.windows[0], std::make_pair(990, 30));
  EXPECT_FALSE(p.windows_are_peak);
  const Price& f = c.pricing.at("flash");
  EXPECT_TRUE(f.windows_are_peak);
  EXPECT_TRUE(f.weekdays_only);
  EXPECT_EQ(f.windows.size(), 2u);
}

TEST(LoaderCache, RejectsBadValues) {
  auto r = load(R"(
upstreams:
  u: {base_url: "http://127.0.0.1:1"}
models:
  m: {upstream: u}
cache: {ttl: 0s, colour: red, max_bytes: 1KiB, max_entry_bytes: 2KiB}
pricing:
  a: {input_cache_hit: -1, input_cache_miss: x, output: 1, off_peak: ["25:00-01:00"], off_peak_multiplier: 2}
  b: {input_cache_hit: 1, input_cache_miss: 1, output: 1, off_peak: ["01:00-02:00"], peak: ["03:00-04:00"]}
  c: {input_cache_hit: 1, input_cache_miss: 1}
)");
  EXPECT_FALSE(r.config);
  auto all = ::testing::PrintToString(strings(r.errors));
  for (const char* want : {"cache.ttl", "cache.colour", "cache.max_entry_bytes", "pricing.a.input_cache_hit",
                           "pricing.a.input_cache_miss", "pricing.a.off_peak[0]",
                           "pricing.a.off_peak_multiplier", "pricing.b.peak", "pricing.c.output: missing"}) {
    EXPECT_NE(all.find(want), std::string::npos) << want << " in " << all;
  }
}

}  // namespace
}  // namespace sluice::config
