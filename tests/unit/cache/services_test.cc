// The cache's metrics are registered with their children resolved at startup, and its gauges follow the
// store.
#include "cache/services.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace sluice::cache {
namespace {

TEST(CacheServices, MetricsRegisteredWithResolvedChildren) {
  auto r = config::load_string(R"(
upstreams:
  u: {base_url: "http://127.0.0.1:1"}
models:
  m: {upstream: u}
ledger: {enabled: false}
)",
                               "t.yaml", [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(r.config);
  auto svc = make_cache_services(*r.config);
  ASSERT_TRUE(svc->store);
  svc->stats.hit->inc();
  auto cached = std::make_shared<CachedAnswer>();
  cached->json = std::string(100, 'x');
  svc->store->put("k", cached, CacheClock::now());
  const std::string text = telemetry::metrics().expose();
  EXPECT_NE(text.find("sluice_cache_requests_total{result=\"hit\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_coalesced_total{model=\"m\"} 0"), std::string::npos);
  EXPECT_NE(text.find("sluice_cache_entries 1"), std::string::npos);
  EXPECT_EQ(text.find("sluice_cache_bytes 0\n"), std::string::npos);
}

TEST(CacheServices, ReloadWithSameSettingsKeepsTheStore) {
  auto load = [](std::string_view ttl) {
    return config::load_string(
        "upstreams:\n  u: {base_url: \"http://127.0.0.1:1\"}\nmodels:\n  m: {upstream: u}\n"
        "ledger: {enabled: false}\ncache: {ttl: " +
            std::string(ttl) + "}\n",
        "t.yaml", [](const std::string&) { return std::nullopt; });
  };
  auto a = load("1h");
  auto b = load("1h");
  auto c = load("2h");
  auto first = make_cache_services(*a.config);
  EXPECT_EQ(make_cache_services(*b.config, first.get(), a.config.get())->store, first->store);
  EXPECT_NE(make_cache_services(*c.config, first.get(), a.config.get())->store, first->store);
}

}  // namespace
}  // namespace sluice::cache
