// The planner end to end on a case small enough to work by hand, and its three outputs.
#include "plan/planner.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>

#include "plan/report.h"

namespace sluice::plan {
namespace {

// One model at $1 per 1M prompt tokens and $2 per 1M completion tokens; 0.5 requests/s all week of 500
// prompt and 50 completion tokens: $0.0006 a request, 302,400 requests, $181.44 a week.
// The engine: one slot, prefill 1000 tok/s, decode 100 tok/s: 1 s of service a request (0.5 s prefill);
// with a 2 s p99 first-token SLO that needs 3 replicas (queueing_test.cc works it out).
PlanConfig hand_config() {
  PlanConfig cfg;
  cfg.source = "plan.yaml";
  cfg.pricing["m"] = config::Price{0, 1.0, 2.0, {}, false, false, 1.0};
  cfg.gpu.on_demand_per_hour = 1.0;
  cfg.gpu.reserved_per_hour = 0.5;
  Engine e;
  e.source = "by hand";
  e.batch = 1;
  e.prefill_tokens_per_s = 1000;
  e.decode_tokens_per_s = 100;
  cfg.engine = e;
  cfg.slo = Slo{2.0, 0.2};
  cfg.autoscaling.min_replicas = 1;
  return cfg;
}

Profile hand_profile() {
  Profile p;
  p.source = "test";
  ModelProfile m;
  m.name = "m";
  for (auto& h : m.hours) {
    h.peak = Tokens{1800, 0, 1800 * 500.0, 1800 * 50.0};
  }
  m.prompt_p99 = 500;
  p.models.push_back(m);
  return p;
}

const OptionPlan& option(const PlanResult& r, const std::string& kind, bool deferred) {
  for (const auto& o : r.options) {
    if (o.kind == kind && o.deferred == deferred) {
      return o;
    }
  }
  throw std::runtime_error("no option " + kind);
}

TEST(PlanPlanner, HandCase) {
  const PlanConfig cfg = hand_config();
  const PlanResult r = make_plan(cfg, hand_profile());
  ASSERT_EQ(r.options.size(), 6u);
  const OptionPlan& api = option(r, "api", false);
  EXPECT_NEAR(api.week_usd(), 181.44, 1e-9);
  EXPECT_NEAR(api.month_usd(), 181.44 * 365.25 / 12 / 7, 1e-9);
  EXPECT_EQ(api.api_request_share, 1.0);

  const OptionPlan& self = option(r, "self-hosted", false);
  for (double n : self.required) {
    EXPECT_EQ(n, 3);
  }
  EXPECT_EQ(self.fleet, "3 reserved");
  EXPECT_NEAR(self.gpu_usd, 3 * 0.5 * 168, 1e-9);
  EXPECT_NEAR(self.api_usd, 0, 1e-12);
  EXPECT_NEAR(self.utilisation, 0.5 / 3, 1e-9);
  EXPECT_NEAR(self.worst_p99_ttft_s, std::log(3.0 / 198.0 / 0.01) / 2.5 + 0.5, 1e-9);
  EXPECT_EQ(self.short_minutes, 0);
  EXPECT_EQ(self.max_replicas, 3);

  // Hybrid: k always-on replicas at $0.5/h take what they can within the SLO; the rest pays API prices.
  const OptionPlan& hybrid = option(r, "hybrid", false);
  const EngineModel m{1, 1000, 100};
  const HourTraffic t{0.5, 500, 50, 500};
  auto cost_with = [&](int k) {
    return k * 0.5 * 168 + (1 - std::min(0.5, max_rate(m, t, cfg.slo, k)) / 0.5) * 181.44;
  };
  EXPECT_LT(cost_with(2), cost_with(1));
  EXPECT_LT(cost_with(2), cost_with(3));
  EXPECT_LT(cost_with(2), 181.44);
  EXPECT_EQ(hybrid.max_replicas, 2);
  EXPECT_NEAR(hybrid.week_usd(), cost_with(2), 1e-6);
  EXPECT_GT(hybrid.api_request_share, 0);
  EXPECT_LT(hybrid.api_request_share, 0.1);
  EXPECT_LE(hybrid.worst_p99_ttft_s, 2.0 + 1e-6);
  EXPECT_NEAR(hybrid.hybrid_rate_limit, max_rate(m, t, cfg.slo, 2), 1e-9);

  // Break-even against the API: one busy replica serves 3,600 requests an hour, $2.16 at API prices.
  ASSERT_TRUE(r.break_even.api_per_gpu_hour);
  EXPECT_NEAR(*r.break_even.api_per_gpu_hour, 2.16, 1e-9);
  bool found = false;
  for (const auto& c : r.break_even.crossings) {
    if (c.a == "reserved" && c.b == "API") {
      found = true;
      EXPECT_NEAR(*c.at, 0.5 / 2.16, 1e-9);
    }
  }
  EXPECT_TRUE(found);

  // Settings: 0.5 req/s needs no more than the gateway's floor; the engine target is 80 % of the batch.
  EXPECT_EQ(r.settings.gateway_min, 2);
  EXPECT_EQ(r.settings.gateway_max, 2);
  EXPECT_EQ(r.settings.gateway_bound_by, "min_replicas");
  EXPECT_NEAR(r.settings.engine_sequences_target, 0.8, 1e-12);
  EXPECT_EQ(r.settings.engine_max, 3);
}

TEST(PlanPlanner, DeferringSavesWhereTheWindowsAre) {
  PlanConfig cfg = hand_config();
  cfg.pricing["m"].windows = {{0, 6 * 60}};  // off-peak 00:00-06:00 at half price
  cfg.pricing["m"].off_peak_multiplier = 0.5;
  cfg.defer_max_delay_h = 24;
  Profile p = hand_profile();
  p.models[0].deferrable_share = 0.5;
  // The profile's tokens must follow the windows too: hours 0-5 of each day are off-peak.
  for (int h = 0; h < kHoursPerWeek; ++h) {
    auto& hour = p.models[0].hours[static_cast<std::size_t>(h)];
    if (h % 24 < 6) {
      std::swap(hour.peak, hour.off_peak);
    }
  }
  const PlanResult r = make_plan(cfg, p);
  const double plain = option(r, "api", false).week_usd();
  const double deferred = option(r, "api", true).week_usd();
  // 18 of 24 hours are peak; half their traffic moves to half price: saves 0.5 × 0.5 × 18/24 = 18.75 %.
  EXPECT_NEAR(plain, 181.44 * (18 + 6 * 0.5) / 24, 1e-9);
  EXPECT_NEAR(deferred, plain - 181.44 * 0.25 * 18 / 24, 1e-9);
  EXPECT_EQ(option(r, "api", true).deferred_to, "off-peak windows");
  // Self-hosted: moving work from busy hours into quiet ones cannot raise the peak.
  EXPECT_LE(option(r, "self-hosted", true).max_replicas, option(r, "self-hosted", false).max_replicas);
}

TEST(PlanPlanner, WithoutGpuPricesOnlyTheApi) {
  PlanConfig cfg = hand_config();
  cfg.gpu = GpuPrices{};
  const PlanResult r = make_plan(cfg, hand_profile());
  EXPECT_EQ(r.options.size(), 2u);
  EXPECT_TRUE(r.engine.has_value());
  cfg.engine.reset();
  EXPECT_EQ(make_plan(cfg, hand_profile()).options.size(), 2u);
}

TEST(PlanReport, JsonTableAndHtml) {
  const PlanConfig cfg = hand_config();
  const PlanResult r = make_plan(cfg, hand_profile());
  const auto j = boost::json::parse(format_json(cfg, r)).as_object();
  EXPECT_EQ(j.at("options").as_array().size(), 6u);
  const auto& first = j.at("options").as_array()[0].as_object();
  EXPECT_EQ(first.at("kind").as_string(), "api");
  EXPECT_NEAR(first.at("week_usd").to_number<double>(), 181.44, 1e-9);
  EXPECT_EQ(first.at("hours").as_object().at("requests").as_array().size(), 168u);
  EXPECT_EQ(j.at("break_even").at("crossings").as_array().size(), 3u);  // on demand, reserved, API

  const std::string table = format_table(cfg, r);
  EXPECT_NE(table.find("3 reserved"), std::string::npos) << table;
  EXPECT_NE(table.find("reserved is cheaper than on demand above 50.0 %"), std::string::npos) << table;

  const std::string html = format_html(cfg, r);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://", html.find("<body")),
            html.find("http://www.w3.org/2000/svg", html.find("<body")));
  for (const char* id : {"cost-per-option", "load-vs-capacity", "cost-vs-utilisation"}) {
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  }
  EXPECT_NE(html.find("data-series=\"needed for the SLO\""), std::string::npos);
}

}  // namespace
}  // namespace sluice::plan
