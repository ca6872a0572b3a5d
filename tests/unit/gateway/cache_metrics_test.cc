#include <gtest/gtest.h>

#include "config/loader.h"
#include "gateway/cache_path.h"

namespace sluice::gateway {
namespace {

TEST(CacheMetrics, RegisteredWithResolvedChildren) {
  auto r = config::load_string(R"(
upstreams:
  u: {base_url: "http://127.0.0.1:1"}
models:
  m: {upstream: u}
keys:
  - {name: team, secret_sha256: "0000000000000000000000000000000000000000000000000000000000000000"}
ledger: {enabled: false}
)",
                               "t.yaml", [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(r.config);
  std::string err;
  auto svc = make_cache_services(*r.config, err);
  ASSERT_TRUE(svc) << err;
  svc->stats.hit->inc();
  auto* money = svc->stats.money_for("team", "m", "u");
  ASSERT_NE(money, nullptr);
  money->savings->inc(0.5);
  EXPECT_EQ(svc->stats.money_for("other", "m", "u"), nullptr);
  auto cached = std::make_shared<cache::CachedAnswer>();
  cached->json = std::string(100, 'x');
  svc->store->put("k", cached, cache::CacheClock::now());
  std::string text = telemetry::metrics().expose();
  EXPECT_NE(text.find("sluice_cache_requests_total{result=\"hit\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_savings_usd_total{key=\"team\",model=\"m\",upstream=\"u\"}"),
            std::string::npos);
  EXPECT_NE(text.find("sluice_coalesced_total{model=\"m\"} 0"), std::string::npos);
  EXPECT_NE(text.find("sluice_cache_entries 1"), std::string::npos);
  EXPECT_EQ(text.find("sluice_cache_bytes 0\n"), std::string::npos);
}

}  // namespace
}  // namespace sluice::gateway
