// Model hedge/failover/affinity sections and upstream load_metrics/health_check/slow_start.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/loader.h"
#include "loader_test_util.h"

namespace sluice::config {
namespace {

using ::testing::ElementsAre;
using testing::errors;
using testing::load;

std::string with_model(std::string_view extra) {
  return "upstreams:\n  a:\n    base_url: http://127.0.0.1:1\n  b:\n    base_url: http://127.0.0.1:2\n"
         "models:\n  m:\n    deployments: [{upstream: a}, {upstream: b}]\n" + std::string(extra);
}

TEST(ConfigResilience, HedgeFailoverAffinity) {
  const LoadResult r = load(with_model(
      "    balancer: load_aware\n"
      "    hedge: {delay: 300ms}\n"
      "    failover: {mode: continue, max_resumes: 3}\n"
      "    affinity: {prefix_bytes: 1024, overload_factor: 150}\n"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  const Model& m = r.config->models.at("m");
  EXPECT_EQ(m.balancer, Balancer::kLoadAware);
  EXPECT_TRUE(m.hedge.enabled);
  EXPECT_EQ(m.hedge.delay, Duration(300));
  EXPECT_TRUE(m.failover.enabled);
  EXPECT_EQ(m.failover.mode, FailoverConfig::Mode::kContinue);
  EXPECT_EQ(m.failover.max_resumes, 3u);
  EXPECT_EQ(m.affinity.prefix_bytes, 1024u);
  EXPECT_DOUBLE_EQ(m.affinity.overload_factor, 1.5);
}

TEST(ConfigResilience, DefaultsAreOffAndAutoIsLearned) {
  const LoadResult off = load(with_model(""));
  ASSERT_TRUE(off.ok());
  const Model& m = off.config->models.at("m");
  EXPECT_FALSE(m.hedge.enabled);
  EXPECT_FALSE(m.failover.enabled);
  EXPECT_EQ(m.affinity.prefix_bytes, 0u);
  const LoadResult r = load(with_model("    hedge: {delay: auto, quantile: 90, min_samples: 5, max_delay: 4s}\n"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  const HedgeConfig& h = r.config->models.at("m").hedge;
  EXPECT_TRUE(h.enabled);
  EXPECT_FALSE(h.delay);
  EXPECT_EQ(h.quantile, 90u);
  EXPECT_EQ(h.min_samples, 5u);
  EXPECT_EQ(h.max_delay, Duration(4000));
  EXPECT_FALSE(load(with_model("    hedge: {enabled: false}\n")).config->models.at("m").hedge.enabled);
}

TEST(ConfigResilience, BadModelValues) {
  EXPECT_THAT(errors(load(with_model("    hedge: {delay: soon}\n"))).size(), 1u);
  EXPECT_THAT(errors(load(with_model("    hedge: {quantile: 0}\n"))).size(), 1u);
  EXPECT_THAT(errors(load(with_model("    hedge: {min_delay: 2s, max_delay: 1s}\n"))),
              ElementsAre("test.yaml:9: models.m.hedge: max_delay must not be shorter than min_delay"));
  EXPECT_THAT(errors(load(with_model("    hedge: {after: 1s}\n"))).size(), 1u);
  EXPECT_THAT(errors(load(with_model("    failover: {mode: magic}\n"))),
              ElementsAre("test.yaml:9: models.m.failover.mode: unknown mode \"magic\" (expected one of: "
                          "prefix, continue)"));
  EXPECT_THAT(errors(load(with_model("    affinity: {overload_factor: 200}\n"))),
              ElementsAre("test.yaml:9: models.m.affinity.prefix_bytes: missing required key"));
  EXPECT_THAT(errors(load(with_model("    affinity: {prefix_bytes: 4}\n"))).size(), 1u);
}

TEST(ConfigResilience, UpstreamLoadMetricsHealthSlowStart) {
  const LoadResult r = load(
      "upstreams:\n"
      "  v:\n"
      "    base_url: http://10.0.0.5:8000/v1\n"
      "    load_metrics: {interval: 250ms, capacity: 64}\n"
      "    health_check: {path: /health, interval: 1s, timeout: 300ms, unhealthy_threshold: 3}\n"
      "    slow_start: 30s\n"
      "  w:\n"
      "    base_url: http://10.0.0.6:8000\n"
      "    load_metrics: {url: \"http://10.0.0.6:9090/metrics\"}\n"
      "models:\n  m:\n    deployments: [{upstream: v}, {upstream: w}]\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  const Upstream& v = r.config->upstreams.at("v");
  EXPECT_TRUE(v.load_metrics.enabled);
  EXPECT_EQ(v.load_metrics.url, "http://10.0.0.5:8000/metrics");
  EXPECT_EQ(v.load_metrics.interval, Duration(250));
  EXPECT_EQ(v.load_metrics.capacity, 64u);
  EXPECT_TRUE(v.health_check.enabled);
  EXPECT_EQ(v.health_check.timeout, Duration(300));
  EXPECT_EQ(v.health_check.unhealthy_threshold, 3u);
  EXPECT_EQ(v.health_check.healthy_threshold, 2u);
  EXPECT_EQ(v.slow_start, Duration(30'000));
  EXPECT_EQ(r.config->upstreams.at("w").load_metrics.url, "http://10.0.0.6:9090/metrics");
  EXPECT_FALSE(r.config->upstreams.at("w").health_check.enabled);
}

TEST(ConfigResilience, BadUpstreamValues) {
  auto up = [](std::string_view extra) {
    return load("upstreams:\n  v:\n    base_url: https://x.example\n" + std::string(extra) +
                "models:\n  m:\n    upstream: v\n");
  };
  EXPECT_THAT(errors(up("    load_metrics: {interval: 1s}\n")),
              ElementsAre("test.yaml:4: upstreams.v.load_metrics: set url: an https upstream's metrics need an "
                          "explicit http:// URL"));
  EXPECT_THAT(errors(up("    load_metrics: {url: \"https://x/metrics\"}\n")).size(), 1u);
  EXPECT_THAT(errors(up("    load_metrics: {url: \"http://x/m\", interval: 10ms}\n")).size(), 1u);
  EXPECT_THAT(errors(up("    health_check: {path: /h}\n")),
              ElementsAre("test.yaml:4: upstreams.v.health_check: active health checks support http upstreams only"));
  EXPECT_THAT(errors(up("    slow_start: forever\n")).size(), 1u);
}

}  // namespace
}  // namespace sluice::config
