#include "sim/scenario.h"

#include <gtest/gtest.h>

namespace sluice::sim {
namespace {

using std::chrono::milliseconds;

TEST(SimScenario, ParsesTimelineWithDefaults) {
  auto r = parse_scenario_yaml(R"(name: demo
models: [deepseek-chat]
defaults:
  slots: 8
  ttft: {p50: 200ms, p99: 2s}
phases:
  - name: healthy
    duration: 10s
  - name: busy
    duration: 20s
    errors: {503: 0.3}
    overload: 429-retry-after
    retry_after: 3s
  - name: down
    outage: refuse
)",
                               "demo.yaml");
  ASSERT_TRUE(r.scenario) << r.error;
  const auto& sc = *r.scenario;
  EXPECT_EQ(sc.name, "demo");
  EXPECT_EQ(sc.models, std::vector<std::string>{"deepseek-chat"});
  ASSERT_EQ(sc.phases.size(), 3u);
  EXPECT_EQ(sc.phases[0].slots, 8u);
  EXPECT_EQ(sc.phases[1].slots, 8u);  // inherited from defaults
  EXPECT_DOUBLE_EQ(sc.phases[1].ttft.dist.p99(), 2000);
  EXPECT_DOUBLE_EQ(sc.phases[1].errors.at(503), 0.3);
  EXPECT_EQ(sc.phases[1].overload, OverloadPolicy::kReject429RetryAfter);
  EXPECT_EQ(sc.phases[2].outage, OutageMode::kRefuse);
  EXPECT_FALSE(sc.phases[2].duration);
}

TEST(SimScenario, PhaseLookup) {
  Scenario sc;
  sc.phases = {Phase{}, Phase{}, Phase{}};
  sc.phases[0].duration = milliseconds(10'000);
  sc.phases[1].duration = milliseconds(20'000);
  EXPECT_EQ(sc.phase_index_at(milliseconds(0)), 0u);
  EXPECT_EQ(sc.phase_index_at(milliseconds(9'999)), 0u);
  EXPECT_EQ(sc.phase_index_at(milliseconds(10'000)), 1u);
  EXPECT_EQ(sc.phase_index_at(milliseconds(29'999)), 1u);
  EXPECT_EQ(sc.phase_index_at(milliseconds(30'000)), 2u);
  EXPECT_EQ(sc.phase_index_at(milliseconds(10'000'000)), 2u);
}

TEST(SimScenario, LoopingTimelineWraps) {
  Scenario sc;
  sc.loop = true;
  sc.phases = {Phase{}, Phase{}};
  sc.phases[0].duration = milliseconds(1000);
  sc.phases[1].duration = milliseconds(500);
  EXPECT_EQ(sc.phase_index_at(milliseconds(1200)), 1u);
  EXPECT_EQ(sc.phase_index_at(milliseconds(1500)), 0u);
  EXPECT_EQ(sc.phase_index_at(milliseconds(2600)), 1u);
}

TEST(SimScenario, ErrorsNameFileLineAndPath) {
  struct Case {
    const char* yaml;
    const char* expect;
  };
  const Case cases[] = {
      {"name: x\nbogus: 1\n", "f.yaml:2: bogus: unknown key"},
      {"phases:\n  - duration: 10s\n    slots: many\n", "f.yaml:3: phases[0].slots: expected a number"},
      {"phases:\n  - duration: soon\n", "f.yaml:2: phases[0].duration: expected a duration"},
      {"phases:\n  - name: a\n  - name: b\n", "f.yaml:2: phases[0].duration: required"},
      {"defaults:\n  errors: {503: 0.8, 500: 0.5}\n", "f.yaml:2: defaults.errors: error rates add up"},
      {"defaults:\n  overload: panic\n", "f.yaml:2: defaults.overload: expected one of"},
      {"defaults:\n  ttft: {p50: 2s, p99: 1s}\n", "f.yaml:2: defaults.ttft: p99 must be >= p50"},
      {"defaults:\n  faults: {explode: 0.1}\n", "f.yaml:2: defaults.faults.explode: unknown key"},
      {"defaults:\n  faults: {stall: 1.5}\n", "f.yaml:2: defaults.faults.stall: expected a number in [0, 1]"},
      {"phases: [\n", "f.yaml:"},
      {"loop: true\nphases:\n  - {duration: 1s}\n  - {name: b}\n", "loop: a looping timeline"},
  };
  for (const auto& c : cases) {
    auto r = parse_scenario_yaml(c.yaml, "f.yaml");
    EXPECT_FALSE(r.scenario) << c.yaml;
    EXPECT_NE(r.error.find(c.expect), std::string::npos) << "got: " << r.error;
  }
}

TEST(SimScenario, BuiltinsAllParse) {
  for (auto name : builtin_scenario_names()) {
    auto sc = builtin_scenario(name);
    ASSERT_TRUE(sc) << name;
    EXPECT_EQ(sc->name, name);
  }
  auto outage = builtin_scenario("outage");
  ASSERT_TRUE(outage);
  EXPECT_EQ(outage->phase_at(milliseconds(15'000)).outage, OutageMode::kErrors);
  EXPECT_EQ(outage->phase_at(milliseconds(35'000)).outage, OutageMode::kRefuse);
  EXPECT_EQ(outage->phase_at(milliseconds(51'000)).outage, OutageMode::kNone);
  EXPECT_FALSE(builtin_scenario("nope"));
  auto r = resolve_scenario("nope");
  EXPECT_NE(r.error.find("unknown scenario 'nope'"), std::string::npos);
}

}  // namespace
}  // namespace sluice::sim
