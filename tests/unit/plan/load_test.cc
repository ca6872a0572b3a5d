// plan.yaml, engine files and YAML profiles: values land where they should, and every mistake is reported
// as file:line: key.path: message, like `sluice check`.
#include "plan/load.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sluice::plan {
namespace {

constexpr const char* kPricing = R"(pricing:
  deepseek-chat: {input_cache_hit: 0.07, input_cache_miss: 0.27, output: 1.10, off_peak: ["16:30-00:30"], off_peak_multiplier: 0.5}
)";

std::vector<std::string> errors_of(const Diagnostics& d) {
  std::vector<std::string> out;
  for (const auto& e : d.errors) {
    out.push_back(e.to_string());
  }
  return out;
}

std::vector<std::string> plan_errors(const std::string& yaml) {
  Diagnostics d;
  EXPECT_FALSE(load_plan_string(yaml, "plan.yaml", d));
  return errors_of(d);
}

TEST(PlanLoad, FullPlan) {
  const std::string yaml = std::string(kPricing) + R"(traffic:
  ledger: data/ledger.db
  deferrable_share: 0.3
  defer_max_delay: 6h
gpu:
  on_demand_per_year: 65000
  reserved_per_hour: 5.5
  spot_per_hour: 2
  spot_share: 0.5
  owned: {capex: 120000, lifetime_years: 3, power_per_hour: 0.2, hosting_per_hour: 0.5}
engine:
  source: "vLLM on 1 H100, measured 2025-01-10"
  batch: 32
  gpus: 2
  prefill_tokens_per_s: 12000
  decode_tokens_per_s: 2400
  prefix_cache: false
  models: [deepseek-chat]
slo: {p99_first_token: 1500ms, headroom: 0.25}
autoscaling: {scale_up_cooldown: 90s, scale_down_cooldown: 10m, provision_time: 4m, min_replicas: 2, predictive: true}
gateway: {rps_per_replica: 5000, in_flight_per_replica: 2000, min_replicas: 3, request_duration: 8s}
)";
  Diagnostics d;
  auto cfg = load_plan_string(yaml, "/etc/sluice/plan.yaml", d);
  ASSERT_TRUE(cfg) << ::testing::PrintToString(errors_of(d));
  EXPECT_EQ(cfg->ledger_path, "/etc/sluice/data/ledger.db");
  EXPECT_EQ(cfg->ledger_deferrable_share, 0.3);
  EXPECT_EQ(cfg->defer_max_delay_h, 6);
  ASSERT_EQ(cfg->pricing.size(), 1u);
  EXPECT_EQ(cfg->pricing.at("deepseek-chat").off_peak_multiplier, 0.5);
  EXPECT_NEAR(*cfg->gpu.on_demand_per_hour, 65000 / 8760.0, 1e-12);
  EXPECT_EQ(*cfg->gpu.reserved_per_hour, 5.5);
  EXPECT_EQ(cfg->gpu.spot_share, 0.5);
  EXPECT_EQ(cfg->gpu.owned->capex, 120000);
  EXPECT_EQ(cfg->gpu.owned->hosting_per_hour, 0.5);
  ASSERT_TRUE(cfg->engine);
  EXPECT_EQ(cfg->engine->batch, 32);
  EXPECT_EQ(cfg->engine->gpus, 2);
  EXPECT_FALSE(cfg->engine->prefix_cache);
  EXPECT_TRUE(cfg->engine->serves("deepseek-chat"));
  EXPECT_FALSE(cfg->engine->serves("other"));
  EXPECT_EQ(cfg->slo.p99_first_token_s, 1.5);
  EXPECT_EQ(cfg->slo.headroom, 0.25);
  EXPECT_EQ(cfg->autoscaling.scale_up_cooldown_min, 2);  // 90 s rounds up to whole minutes
  EXPECT_EQ(cfg->autoscaling.scale_down_cooldown_min, 10);
  EXPECT_EQ(cfg->autoscaling.provision_min, 4);
  EXPECT_TRUE(cfg->autoscaling.predictive);
  EXPECT_EQ(cfg->gateway.min_replicas, 3);
  EXPECT_EQ(*cfg->gateway.request_duration_s, 8);
}

TEST(PlanLoad, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(plan_errors("gpu: {on_demand_per_hour: 3}\n"),
            std::vector<std::string>{"plan.yaml:1: pricing: missing required key"});
  EXPECT_EQ(plan_errors(std::string(kPricing) + "slo:\n  p99_first_tokn: 2s\n"),
            std::vector<std::string>{
                "plan.yaml:4: slo.p99_first_tokn: unknown key \"p99_first_tokn\" (expected one "
                "of: p99_first_token, headroom)"});
  EXPECT_EQ(plan_errors(std::string(kPricing) + "slo:\n  headroom: 0.99\n"),
            std::vector<std::string>{"plan.yaml:4: slo.headroom: must be between 0 and 0.95"});
  EXPECT_EQ(
      plan_errors(std::string(kPricing) + "gpu:\n  on_demand_per_hour: 3\n  on_demand_per_year: 20000\n"),
      std::vector<std::string>{"plan.yaml:5: gpu.on_demand_per_year: set either on_demand_per_hour or "
                               "on_demand_per_year, not both"});
  EXPECT_EQ(plan_errors(std::string(kPricing) + "gpu:\n  owned: {capex: 1000}\n"),
            std::vector<std::string>{"plan.yaml:4: gpu.owned.lifetime_years: missing required key"});
  EXPECT_EQ(plan_errors(std::string(kPricing) + "engine:\n  batch: 8\n  prefill_tokens_per_s: 100\n"
                                                "  decode_tokens_per_s: 0\n"),
            (std::vector<std::string>{"plan.yaml:3: engine.source: missing required key",
                                      "plan.yaml:6: engine.decode_tokens_per_s: must be greater than 0"}));
  EXPECT_EQ(
      plan_errors(std::string(kPricing) + "engine:\n  source: x\n  batch: 8\n  prefill_tokens_per_s: 1\n"
                                          "  decode_tokens_per_s: 1\n  models: [deepseek-coder]\n"),
      std::vector<std::string>{"plan.yaml:8: engine.models[0]: \"deepseek-coder\" has no price in pricing"});
  // The pricing section is the gateway's, checked by the gateway's own loader.
  EXPECT_EQ(plan_errors("pricing:\n  m: {input_cache_hit: 1, input_cache_miss: 1, output: x}\n"),
            std::vector<std::string>{"plan.yaml:2: pricing.m.output: expected a number, got \"x\""});
  EXPECT_EQ(plan_errors("pricing: [1\n"),
            std::vector<std::string>{"plan.yaml:2: end of sequence flow not found"});
}

class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() / ("sluice-plan-load-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    const auto p = path_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

TEST(PlanLoad, EngineFile) {
  TempDir dir;
  dir.write("engine.yaml",
            "source: \"sluice bench, 2025-01-10\"\nbatch: 16\nprefill_tokens_per_s: 9000\n"
            "decode_tokens_per_s: 1600\nmeasured: {requests: 320, mean_ttft_s: 0.4}\n");
  const std::string plan = dir.write("plan.yaml", std::string(kPricing) + "engine:\n  file: engine.yaml\n");
  Diagnostics d;
  auto cfg = load_plan(plan, d);
  ASSERT_TRUE(cfg) << ::testing::PrintToString(errors_of(d));
  EXPECT_EQ(cfg->engine->batch, 16);
  EXPECT_EQ(cfg->engine->prefill_tokens_per_s, 9000);
  EXPECT_EQ(cfg->engine->measured->requests, 320);
  EXPECT_NE(cfg->engine->file.find("engine.yaml"), std::string::npos);
  EXPECT_EQ(d.warnings.size(), 1u);  // an engine without gpu prices plans the API only

  // Errors inside the engine file name that file.
  const std::string bad = dir.write("bad.yaml",
                                    "source: x\nbatch: -1\nprefill_tokens_per_s: 1\n"
                                    "decode_tokens_per_s: 1\n");
  const std::string plan2 =
      dir.write("plan2.yaml", std::string(kPricing) + "engine:\n  file: bad.yaml\n  batch: 4\n");
  Diagnostics d2;
  EXPECT_FALSE(load_plan(plan2, d2));
  const auto e = errors_of(d2);
  ASSERT_EQ(e.size(), 3u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0], bad + ":2: batch: must be between 1 and 100000, got -1");
  EXPECT_EQ(e[1], plan2 + ":5: engine.batch: set either engine.file or the engine's values, not both");
  EXPECT_EQ(e[2], plan2 + ":4: engine.file: engine file " + bad + " is invalid (errors below)");
}

const std::map<std::string, config::Price> kProfilePricing{
    {"deepseek-chat", config::Price{0.07, 0.27, 1.10, {{16 * 60 + 30, 30}}, false, false, 0.5}}};

TEST(PlanLoad, Profile) {
  Diagnostics d;
  auto p = load_profile_string(R"(models:
  deepseek-chat:
    requests_per_s:
      weekdays: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
      weekend: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    prompt_tokens: {mean: 1000, p99: 5000}
    completion_tokens: 200
    cache_hit_share: 0.25
    deferrable_share: 0.5
)",
                               "p.yaml", kProfilePricing, d);
  ASSERT_TRUE(p) << ::testing::PrintToString(errors_of(d));
  ASSERT_EQ(p->models.size(), 1u);
  const auto& m = p->models[0];
  EXPECT_EQ(m.prompt_p99, 5000);
  EXPECT_EQ(m.completion_p99, 200);
  EXPECT_EQ(m.deferrable_share, 0.5);
  EXPECT_EQ(m.hours[12].total().requests, 36000);          // Monday noon: 10/s
  EXPECT_EQ(m.hours[5 * 24 + 12].total().requests, 7200);  // Saturday noon: 2/s
  EXPECT_EQ(m.hours[5 * 24 + 11].total().requests, 0);
  EXPECT_EQ(m.hours[12].peak.cache_hit, 36000 * 1000 * 0.25);
  EXPECT_EQ(m.hours[12].peak.completion, 36000 * 200);
  // 16:00-17:00 is half off-peak (from 16:30), 17:00 wholly.
  EXPECT_NEAR(m.hours[16].off_peak.requests, 1800, 1e-9);
  EXPECT_NEAR(m.hours[17].off_peak.requests, 3600, 1e-9);
  EXPECT_NEAR(p->week_requests(), (5 * (23 + 10) + 2 * 2) * 3600.0, 1e-6);
}

TEST(PlanLoad, ProfileErrors) {
  auto errors = [](const std::string& yaml) {
    Diagnostics d;
    EXPECT_FALSE(load_profile_string(yaml, "p.yaml", kProfilePricing, d));
    return errors_of(d);
  };
  EXPECT_EQ(
      errors("models:\n  deepseek-chat:\n    requests_per_s: {hourly: [1, 2]}\n    prompt_tokens: 10\n"
             "    completion_tokens: 10\n"),
      std::vector<std::string>{
          "p.yaml:3: models.deepseek-chat.requests_per_s.hourly: expected a list of 24 numbers (requests/s), "
          "got 2 values"});
  EXPECT_EQ(errors("models:\n  gpt-9:\n    requests_per_s: {hourly: [1]}\n"),
            std::vector<std::string>{"p.yaml:2: models.gpt-9: \"gpt-9\" has no price in the plan's pricing"});
  EXPECT_EQ(
      errors("models:\n  deepseek-chat:\n    requests_per_s: {week: [1]}\n    prompt_tokens: {mean: 10, p99: "
             "5}\n"
             "    completion_tokens: 10\n    deferrable_share: 2\n"),
      (std::vector<std::string>{"p.yaml:3: models.deepseek-chat.requests_per_s.week: expected a list of 168 "
                                "numbers (requests/s), got "
                                "1 values",
                                "p.yaml:4: models.deepseek-chat.prompt_tokens.p99: must not be below mean",
                                "p.yaml:6: models.deepseek-chat.deferrable_share: must be between 0 and 1"}));
  EXPECT_EQ(
      errors(
          "models:\n  deepseek-chat:\n    requests_per_s:\n      hourly: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, "
          "1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1]\n    prompt_tokens: 1\n    completion_tokens: 1\n"),
      std::vector<std::string>{
          "p.yaml:4: models.deepseek-chat.requests_per_s.hourly[23]: must be between 0 and 1e+07"});
  EXPECT_EQ(errors("modelz: {}\n"),
            (std::vector<std::string>{"p.yaml:1: modelz: unknown key \"modelz\" (expected one of: models)",
                                      "p.yaml:1: models: missing required key"}));
}

}  // namespace
}  // namespace sluice::plan
