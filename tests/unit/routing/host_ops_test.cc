// Operator controls on hosts: drain skipped by the picker, forced ejection, status views, health carried across a
// config reload.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "routing/router.h"

namespace sluice::routing {
namespace {

std::shared_ptr<const config::Config> two_hosts(std::string_view b_url = "http://127.0.0.1:9002") {
  std::string yaml = "upstreams:\n  a:\n    base_url: http://127.0.0.1:9001\n  b:\n    base_url: " +
                     std::string(b_url) +
                     "\n    outlier:\n      consecutive_failures: 2\n      base_ejection: 10s\n"
                     "models:\n  m:\n    balancer: round_robin\n    deployments:\n      - upstream: a\n"
                     "      - upstream: b\n";
  auto r = config::load_string(yaml, "t.yaml", [](const std::string&) { return std::nullopt; });
  EXPECT_TRUE(r.ok());
  return r.config;
}

TEST(RoutingHostOps, DrainedHostIsNotPickedWhileAnotherCanServe) {
  auto cfg = two_hosts();
  Router router{*cfg};
  const Group& g = *router.group("m");
  std::mt19937_64 rng{1};
  auto now = Clock::now();
  router.host("a")->set_drained(true);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(router.pick(g, {false, false}, rng, now), 1u);
  }
  // Even a retry (b already tried) does not go to the drained host while b is available.
  EXPECT_EQ(router.pick(g, {false, true}, rng, now), 1u);
  // Every host drained: traffic still flows (drain is a preference, not a refusal).
  router.host("b")->set_drained(true);
  auto idx = router.pick(g, {false, false}, rng, now);
  EXPECT_LT(idx, 2u);
  router.host("a")->set_drained(false);
  router.host("b")->set_drained(false);
  int to_a = 0;
  for (int i = 0; i < 20; ++i) {
    to_a += router.pick(g, {false, false}, rng, now) == 0 ? 1 : 0;
  }
  EXPECT_GT(to_a, 0);
}

TEST(RoutingHostOps, ForceEjectUsesTheNormalEjectionTime) {
  auto cfg = two_hosts();
  Router router{*cfg};
  auto now = Clock::now();
  HostState& b = *router.host("b");
  EXPECT_EQ(b.status(now).state, "healthy");
  b.force_eject(now);
  auto s = b.status(now);
  EXPECT_EQ(s.state, "ejected");
  EXPECT_EQ(s.times_ejected, 1u);
  EXPECT_EQ(s.ejected_for_ms, 10'000);
  EXPECT_FALSE(b.available(now + std::chrono::seconds(9)));
  EXPECT_EQ(b.status(now + std::chrono::seconds(11)).state, "probation");
  b.set_drained(true);
  EXPECT_EQ(b.status(now).state, "drained");
}

TEST(RoutingHostOps, StatusCountsFailuresAndInFlight) {
  auto cfg = two_hosts();
  Router router{*cfg};
  auto now = Clock::now();
  HostState& a = *router.host("a");
  a.attempt_started();
  a.record(true, 120.0, now);
  a.record(false, std::nullopt, now);
  auto s = a.status(now);
  EXPECT_EQ(s.in_flight, 1);
  EXPECT_GE(s.ewma_ttft_ms, 120.0);  // the sample, plus the penalty the failure adds
  EXPECT_EQ(s.consecutive_failures, 1u);
  a.attempt_finished();
}

TEST(RoutingHostOps, HealthCarriesOverOnlyForUnchangedUpstreams) {
  auto old_cfg = two_hosts();
  Router old_router{*old_cfg};
  auto now = Clock::now();
  old_router.host("a")->set_drained(true);
  old_router.host("b")->record(false, 300.0, now);
  old_router.host("b")->record(false, std::nullopt, now);  // second failure ejects b
  ASSERT_FALSE(old_router.host("b")->available(now));

  auto same = two_hosts();
  Router next{*same};
  next.adopt_health(old_router);
  EXPECT_TRUE(next.host("a")->drained());
  EXPECT_EQ(next.host("b")->status(now).state, "ejected");
  EXPECT_DOUBLE_EQ(next.host("b")->status(now).ewma_ttft_ms, old_router.host("b")->status(now).ewma_ttft_ms);
  EXPECT_GE(next.host("b")->status(now).ewma_ttft_ms, 300.0);

  auto moved = two_hosts("http://127.0.0.1:9003");  // b now points elsewhere: a new host, fresh state
  Router other{*moved};
  other.adopt_health(old_router);
  EXPECT_TRUE(other.host("a")->drained());
  EXPECT_EQ(other.host("b")->status(now).state, "healthy");
  EXPECT_EQ(other.host("b")->status(now).times_ejected, 0u);
}

}  // namespace
}  // namespace sluice::routing
