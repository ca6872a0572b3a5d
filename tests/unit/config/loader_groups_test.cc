// Model groups: deployments, balancer, retry policy, fallbacks; and upstream outlier settings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/loader.h"
#include "loader_test_util.h"

namespace sluice::config {
namespace {

using ::testing::ElementsAre;
using testing::errors;
using testing::load;
using testing::warnings;

constexpr std::string_view kUpstreams =
    "upstreams:\n"
    "  a:\n"
    "    base_url: http://127.0.0.1:1\n"
    "  b:\n"
    "    base_url: http://127.0.0.1:2\n"
    "    outlier: {consecutive_failures: 3, base_ejection: 10s, max_ejection: 1m}\n";

LoadResult load_models(std::string_view models) { return load(std::string(kUpstreams) + std::string(models)); }

TEST(ConfigGroups, DeploymentsBalancerRetryFallbacks) {
  const LoadResult r = load_models(
      "models:\n"
      "  big:\n"
      "    balancer: least_request\n"
      "    deployments:\n"
      "      - {upstream: a, model: real-a, weight: 3}\n"
      "      - {upstream: b}\n"
      "    retry: {max_attempts: 5, backoff_base: 10ms, backoff_cap: 1s, throttle_k: 1.5, throttle_window: 30s}\n"
      "    request_timeout: 90s\n"
      "    fallbacks: [small]\n"
      "  small:\n"
      "    upstream: b\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  const Model& big = r.config->models.at("big");
  ASSERT_EQ(big.deployments.size(), 2u);
  EXPECT_EQ(big.deployments[0].upstream, "a");
  EXPECT_EQ(big.deployments[0].upstream_model, "real-a");
  EXPECT_EQ(big.deployments[0].weight, 3u);
  EXPECT_EQ(big.deployments[1].upstream_model, "big");
  EXPECT_EQ(big.balancer, Balancer::kLeastRequest);
  EXPECT_EQ(big.retry.max_attempts, 5u);
  EXPECT_EQ(big.retry.backoff_base.count(), 10);
  EXPECT_EQ(big.retry.backoff_cap.count(), 1000);
  EXPECT_DOUBLE_EQ(big.retry.throttle_k, 1.5);
  EXPECT_EQ(big.retry.throttle_window.count(), 30'000);
  EXPECT_EQ(big.request_timeout.count(), 90'000);
  EXPECT_THAT(big.fallbacks, ElementsAre("small"));
  EXPECT_EQ(big.owned_by, "a");
  const Model& small = r.config->models.at("small");
  EXPECT_EQ(small.balancer, Balancer::kPeakEwma) << "default";
  EXPECT_EQ(small.retry.max_attempts, 3u);
  EXPECT_DOUBLE_EQ(small.retry.throttle_k, 2.0) << "default";
  EXPECT_EQ(small.retry.throttle_window.count(), 120'000) << "default";
  const Upstream& b = r.config->upstreams.at("b");
  EXPECT_EQ(b.outlier_consecutive_failures, 3u);
  EXPECT_EQ(b.outlier_base_ejection.count(), 10'000);
  EXPECT_EQ(b.outlier_max_ejection.count(), 60'000);
  EXPECT_EQ(r.config->upstreams.at("a").outlier_consecutive_failures, 5u) << "default";
}

TEST(ConfigGroups, Errors) {
  EXPECT_THAT(errors(load_models("models:\n  m:\n    upstream: a\n    deployments: [{upstream: b}]\n")),
              ElementsAre("test.yaml:10: models.m.deployments: use either upstream (one deployment) or "
                          "deployments, not both"));
  EXPECT_THAT(errors(load_models("models:\n  m:\n    deployments: []\n")),
              ElementsAre("test.yaml:9: models.m.deployments: expected a non-empty list of deployments"));
  EXPECT_THAT(errors(load_models("models:\n  m:\n    deployments:\n      - {upstream: zz}\n")),
              ElementsAre("test.yaml:10: models.m.deployments[0].upstream: unknown upstream \"zz\" "
                          "(defined upstreams: a, b)"));
  EXPECT_THAT(errors(load_models("models:\n  m:\n    deployments:\n      - {model: x}\n")),
              ElementsAre("test.yaml:10: models.m.deployments[0].upstream: missing required key"));
  EXPECT_THAT(errors(load_models("models:\n  m:\n    model: x\n    deployments: [{upstream: a}]\n")),
              ElementsAre("test.yaml:9: models.m.model: model belongs inside each deployment when deployments "
                          "is used"));
  EXPECT_THAT(errors(load_models("models:\n  m:\n    upstream: a\n    balancer: fastest\n")),
              ElementsAre("test.yaml:10: models.m.balancer: unknown balancer \"fastest\" (expected one of: "
                          "round_robin, weighted_random, least_request, peak_ewma, load_aware)"));
  EXPECT_THAT(errors(load_models("models:\n  m:\n    upstream: a\n    fallbacks: [m, nope]\n")),
              ElementsAre("test.yaml:10: models.m.fallbacks[0]: a model cannot fall back to itself",
                          "test.yaml:10: models.m.fallbacks[1]: unknown model \"nope\""));
  EXPECT_THAT(errors(load_models("models:\n  m:\n    upstream: a\n    retry: {backoff_base: 2s, backoff_cap: 1s}\n")),
              ElementsAre("test.yaml:10: models.m.retry: backoff_cap must not be shorter than backoff_base"));
  EXPECT_THAT(errors(load_models("models:\n  m:\n    upstream: a\n    retry: {max_attempts: 0}\n")).size(), 1u);
  EXPECT_THAT(errors(load_models("models:\n  m:\n    upstream: a\n    retry: {tries: 2}\n")),
              ElementsAre("test.yaml:10: models.m.retry.tries: unknown key \"tries\" (expected one of: "
                          "max_attempts, backoff_base, backoff_cap, throttle_k, throttle_window, throttle_min_attempts, "
                          "budget_ratio, budget_min, throttle_ratio, throttle_tokens)"));
}

TEST(ConfigGroups, OutlierErrors) {
  const LoadResult r = load(
      "upstreams:\n"
      "  a:\n"
      "    base_url: http://h\n"
      "    outlier: {consecutive_failures: 0, base_ejection: 1m, max_ejection: 10s}\n"
      "models:\n"
      "  m: {upstream: a}\n");
  EXPECT_THAT(errors(r), ElementsAre(::testing::HasSubstr("upstreams.a.outlier.consecutive_failures"),
                                     "test.yaml:4: upstreams.a.outlier: max_ejection must not be shorter than "
                                     "base_ejection"));
}

// The concurrency budget and the token throttle are gone; their keys still load, with a warning.
TEST(ConfigGroups, RetiredRetryBudgetKeysWarn) {
  const LoadResult r = load_models("models:\n  m:\n    upstream: a\n    retry: {budget_ratio: 20, budget_min: 3}\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  EXPECT_THAT(warnings(r), ElementsAre(::testing::HasSubstr("retry.budget_ratio: no longer used"),
                                       ::testing::HasSubstr("retry.budget_min: no longer used")));
  EXPECT_THAT(errors(load_models("models:\n  m:\n    upstream: a\n    retry: {throttle_k: 0.5}\n")),
              ElementsAre(::testing::HasSubstr("retry.throttle_k: must be at least 1")));
}

}  // namespace
}  // namespace sluice::config
