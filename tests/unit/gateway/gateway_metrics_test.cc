#include "gateway/gateway_metrics.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace sluice::gateway {
namespace {

using telemetry::Registry;

constexpr std::string_view kYaml = R"(
listen: 127.0.0.1:0
upstreams:
  a: {base_url: "http://127.0.0.1:1", outlier: {consecutive_failures: 1}}
  b: {base_url: "http://127.0.0.1:2"}
models:
  chat:
    deployments: [{upstream: a}, {upstream: b}]
    fallbacks: [backup]
  backup: {upstream: b}
)";

struct GatewayMetricsTest : ::testing::Test {
  void SetUp() override {
    auto r = config::load_string(kYaml, "test.yaml", [](const std::string&) { return std::nullopt; });
    ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string());
    cfg = r.config;
    router = std::make_unique<routing::Router>(*cfg);
    metrics = std::make_unique<GatewayMetrics>(*router, reg);
  }
  const config::Model& model(const char* n) { return cfg->models.at(n); }
  const config::Upstream& up(const char* n) { return cfg->upstreams.at(n); }
  double counter(const std::string& name, telemetry::LabelValues v, std::vector<std::string> labels) {
    return reg.counter(name, "", std::move(labels)).with(v).value();
  }
  double gauge(const std::string& name, telemetry::LabelValues v, std::vector<std::string> labels) {
    return reg.gauge(name, "", std::move(labels)).with(v).value();
  }

  Registry reg;
  std::shared_ptr<const config::Config> cfg;
  std::unique_ptr<routing::Router> router;
  std::unique_ptr<GatewayMetrics> metrics;
};

TEST_F(GatewayMetricsTest, AttemptsByResultAndEjections) {
  metrics->on_attempt(up("a"), UpstreamFailure::kNone);
  metrics->on_attempt(up("a"), UpstreamFailure::kReset);
  metrics->on_attempt(up("a"), UpstreamFailure::kReset);
  metrics->on_ejection(up("a"));
  const std::vector<std::string> l{"upstream", "result"};
  EXPECT_EQ(counter("sluice_upstream_attempts_total", {"a", "ok"}, l), 1);
  EXPECT_EQ(counter("sluice_upstream_attempts_total", {"a", "upstream_reset"}, l), 2);
  EXPECT_EQ(counter("sluice_upstream_attempts_total", {"b", "ok"}, l), 0);
  EXPECT_EQ(counter("sluice_outlier_ejections_total", {"a"}, {"upstream"}), 1);
  // Failure kinds nobody hit yet are not exposed.
  EXPECT_EQ(reg.expose().find("upstream_overloaded"), std::string::npos);
}

TEST_F(GatewayMetricsTest, RetriesWithinAGroupFallbacksAcross) {
  metrics->on_next_attempt(model("chat"), model("chat"), UpstreamFailure::kOverloaded);
  metrics->on_next_attempt(model("chat"), model("backup"), UpstreamFailure::kRateLimited);
  EXPECT_EQ(counter("sluice_retries_total", {"chat", "upstream_overloaded"}, {"model", "reason"}), 1);
  EXPECT_EQ(counter("sluice_fallbacks_total", {"chat", "backup", "upstream_rate_limited"},
                    {"from", "to", "reason"}),
            1);
  EXPECT_EQ(counter("sluice_retries_total", {"chat", "upstream_rate_limited"}, {"model", "reason"}), 0);
}

TEST_F(GatewayMetricsTest, FinishedRequestsByModelUpstreamAndStatusClass) {
  openai::Usage u;
  u.prompt_tokens = 10;
  u.completion_tokens = 7;
  u.reasoning_tokens = 3;
  u.prompt_cache_hit_tokens = 4;
  GatewayMetrics::Finished f;
  f.status = 200;
  f.model = &model("chat");
  f.upstream = &up("b");
  f.ttft = std::chrono::milliseconds(300);
  f.usage = &u;
  f.elapsed = std::chrono::milliseconds(1200);
  metrics->on_request_finished(f);
  f.status = 499;
  f.usage = nullptr;
  metrics->on_request_finished(f);
  metrics->on_request_finished({.status = 400});  // never reached a group
  const std::vector<std::string> l{"model", "upstream", "status_class"};
  EXPECT_EQ(counter("sluice_requests_total", {"chat", "b", "2xx"}, l), 1);
  EXPECT_EQ(counter("sluice_requests_total", {"chat", "b", "4xx"}, l), 1);
  EXPECT_EQ(counter("sluice_requests_total", {"none", "none", "4xx"}, l), 1);
  EXPECT_EQ(counter("sluice_tokens_total", {"chat", "prompt"}, {"model", "type"}), 10);
  EXPECT_EQ(counter("sluice_tokens_total", {"chat", "completion"}, {"model", "type"}), 7);
  EXPECT_EQ(counter("sluice_tokens_total", {"chat", "reasoning"}, {"model", "type"}), 3);
  EXPECT_EQ(counter("sluice_tokens_total", {"chat", "cache_hit"}, {"model", "type"}), 4);
  auto text = reg.expose();
  EXPECT_NE(text.find("sluice_ttft_seconds_bucket{model=\"chat\",upstream=\"b\",le=\"0.25\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("sluice_ttft_seconds_bucket{model=\"chat\",upstream=\"b\",le=\"0.5\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("sluice_request_duration_seconds_count{model=\"chat\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_request_duration_seconds_count{model=\"none\"} 1\n"), std::string::npos);
}

TEST_F(GatewayMetricsTest, HostGaugesComeFromTheRouterAtScrapeTime) {
  auto& a = *router->hosts().at("a");
  (void)reg.expose();
  EXPECT_EQ(gauge("sluice_upstream_healthy", {"a"}, {"upstream"}), 1);
  EXPECT_EQ(gauge("sluice_group_upstreams_available", {"chat"}, {"group"}), 2);
  a.attempt_started();
  ASSERT_TRUE(a.record(false, 250.0, routing::Clock::now()));  // one failure ejects a
  (void)reg.expose();
  EXPECT_EQ(gauge("sluice_upstream_healthy", {"a"}, {"upstream"}), 0);
  EXPECT_EQ(gauge("sluice_upstream_ejected", {"a"}, {"upstream"}), 1);
  EXPECT_EQ(gauge("sluice_upstream_in_flight", {"a"}, {"upstream"}), 1);
  EXPECT_DOUBLE_EQ(gauge("sluice_upstream_ewma_ttft_seconds", {"a"}, {"upstream"}), 0.25);
  EXPECT_EQ(gauge("sluice_group_upstreams_available", {"chat"}, {"group"}), 1);
  EXPECT_EQ(gauge("sluice_group_upstreams", {"chat"}, {"group"}), 2);
  a.attempt_finished();
}

TEST_F(GatewayMetricsTest, InFlightGaugesFollowRequestScopes) {
  {
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    RequestMetrics r1{*metrics, t0};
    RequestMetrics r2{*metrics, t0};
    r2.set_stream(true);
    EXPECT_EQ(gauge("sluice_requests_in_flight", {}, {}), 2);
    EXPECT_EQ(gauge("sluice_streams_in_flight", {}, {}), 1);
    r1.finish(200, t0 + std::chrono::milliseconds(1250));  // the caller's times, not the clock's
    r1.finish(200, t0 + std::chrono::seconds(60));         // once only
  }
  const std::string text = reg.expose();
  EXPECT_NE(text.find("sluice_request_duration_seconds_sum{model=\"none\"} 1.25"), std::string::npos) << text;
  EXPECT_EQ(gauge("sluice_requests_in_flight", {}, {}), 0);
  EXPECT_EQ(gauge("sluice_streams_in_flight", {}, {}), 0);
  EXPECT_EQ(counter("sluice_requests_total", {"none", "none", "2xx"}, {"model", "upstream", "status_class"}),
            1);
}

TEST_F(GatewayMetricsTest, DestroyingRemovesTheCollector) {
  metrics.reset();
  router.reset();
  EXPECT_NE(reg.expose().find("sluice_upstream_healthy"), std::string::npos);  // no read of the dead router
}

}  // namespace
}  // namespace sluice::gateway
