// Admission settings: key policies (allowed models, priority, limits) and the `admission` section.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/loader.h"
#include "loader_test_util.h"

namespace sluice::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::errors;
using testing::load;
using testing::with_tail;

TEST(ConfigAdmission, KeyPolicyParsed) {
  const LoadResult r = load(with_tail(R"(
keys:
  - name: a
    secret_env: KEY_A
    allowed_models: [m]
    priority: low
    max_priority: medium
    default_max_tokens: 512
    limits: {rpm: 60, tpm: 100000, max_concurrent: 4, window: 10s, request_burst: 5}
    model_limits:
      m: {rpm: 10}
admission:
  policy: weighted
  weights: {high: 10, low: 2}
  codel: {target: 10ms, interval: 200ms}
  groups:
    m:
      max_concurrent: 32
      adaptive: aimd
      min_concurrent: 2
      max_queue: 50
      max_wait: {low: 2s}
)"),
                            {{"KEY_A", "x"}});
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errors(r));
  const KeyPolicy& p = r.config->keys[0].policy;
  EXPECT_THAT(p.allowed_models, ElementsAre("m"));
  EXPECT_EQ(p.default_priority, Priority::kLow);
  EXPECT_EQ(p.max_priority, Priority::kMedium);
  EXPECT_EQ(p.default_max_tokens, 512u);
  EXPECT_EQ(p.limits.rpm, 60u);
  EXPECT_EQ(p.limits.tpm, 100000u);
  EXPECT_EQ(p.limits.max_concurrent, 4u);
  EXPECT_EQ(p.limits.window, std::chrono::seconds(10));
  EXPECT_EQ(p.limits.request_burst, 5u);
  EXPECT_EQ(p.model_limits.at("m").rpm, 10u);
  const AdmissionConfig& a = r.config->admission;
  EXPECT_EQ(a.policy, QueuePolicy::kWeighted);
  EXPECT_EQ(a.weights[0], 10u);
  EXPECT_EQ(a.weights[1], 4u);
  EXPECT_EQ(a.weights[2], 2u);
  EXPECT_EQ(a.codel_interval, std::chrono::milliseconds(200));
  const AdmissionGroup& g = a.groups.at("m");
  EXPECT_EQ(g.max_concurrent, 32u);
  EXPECT_EQ(g.adaptive, AdaptiveAlgorithm::kAimd);
  EXPECT_EQ(g.max_queue, 50u);
  EXPECT_EQ(g.max_wait[2], std::chrono::seconds(2));
  EXPECT_EQ(g.max_wait[0], std::chrono::seconds(30));
}

TEST(ConfigAdmission, BadValuesNameFileLineAndPath) {
  const LoadResult r = load(with_tail(R"(
keys:
  - name: a
    secret_env: KEY_A
    priority: urgent
    allowed_models: [nope]
    limits: {rpm: -1, token_burst: 5}
admission:
  policy: fair
  groups:
    nope: {max_concurrent: 4}
    m: {adaptive: gradient, degrade: {low: m}}
)"),
                            {{"KEY_A", "x"}});
  EXPECT_THAT(errors(r),
              ::testing::UnorderedElementsAre(
                  "test.yaml:4: keys[0].priority: invalid priority \"urgent\" (expected one of: high, medium, low)",
                  "test.yaml:6: keys[0].limits.rpm: must be between 0 and 1000000000000, got -1",
                  "test.yaml:6: keys[0].limits: token_burst needs tpm",
                  "test.yaml:8: admission.policy: unknown policy \"fair\" (expected one of: strict, weighted)",
                  "test.yaml:11: admission.groups.m: an adaptive limit needs max_concurrent (its ceiling)",
                  "test.yaml:5: keys[0].allowed_models[0]: unknown model \"nope\"",
                  "test.yaml:10: admission.groups.nope: unknown model \"nope\"",
                  "test.yaml:11: admission.groups.m.degrade.low: a model cannot degrade to itself"));
}

TEST(ConfigAdmission, DefaultAboveCeilingRejected) {
  const LoadResult r = load(with_tail("keys:\n  - name: a\n    secret_env: K\n    priority: high\n    max_priority: low\n"),
                            {{"K", "x"}});
  ASSERT_EQ(errors(r).size(), 1u);
  EXPECT_THAT(errors(r)[0], HasSubstr("priority must not be above max_priority"));
}

}  // namespace
}  // namespace sluice::config
