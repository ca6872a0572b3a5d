// `sluice plan --json`: every figure of the plan, per-hour series included (docs/plan.md lists the fields).
#include <boost/json.hpp>
#include <cmath>

#include "plan/report.h"

namespace sluice::plan {

namespace {

namespace json = boost::json;

// JSON has no infinity: an unbounded time is null.
json::value num(double v) { return std::isfinite(v) ? json::value(v) : json::value(nullptr); }

json::array series(const HourValues& v) {
  json::array a;
  for (double x : v) {
    a.push_back(num(x));
  }
  return a;
}

json::object tokens_json(const Tokens& t) {
  return {{"requests", t.requests},
          {"prompt_tokens", t.prompt()},
          {"cache_hit_tokens", t.cache_hit},
          {"cache_miss_tokens", t.cache_miss},
          {"completion_tokens", t.completion}};
}

HourValues scaled(const HourValues& v, double f) {
  HourValues out{};
  for (std::size_t i = 0; i < v.size(); ++i) {
    out[i] = v[i] * f;
  }
  return out;
}

json::object option_json(const OptionPlan& o, int gpus) {
  json::object j{
      {"kind", o.kind},
      {"deferred", o.deferred},
      {"deferred_to", o.deferred_to},
      {"month_usd", o.month_usd()},
      {"week_usd", o.week_usd()},
      {"api_week_usd", o.api_usd},
      {"gpu_week_usd", o.gpu_usd},
      {"fleet", o.fleet},
      {"utilisation", o.utilisation},
      {"worst_p99_ttft_s", num(o.worst_p99_ttft_s)},
      {"worst_hour", o.worst_hour},
      {"short_minutes", o.short_minutes},
      {"replicas", json::object{{"min", o.min_replicas}, {"mean", o.mean_replicas}, {"max", o.max_replicas}}},
      {"api_request_share", o.api_request_share},
      {"slo_feasible", o.slo_feasible}};
  if (o.kind == "hybrid") {
    j["hybrid_rate_limit_rps"] = o.hybrid_rate_limit;
    j["hybrid_in_flight"] = o.hybrid_in_flight;
  }
  json::array alts;
  for (const auto& a : o.alternatives) {
    alts.push_back({{"fleet", a.name},
                    {"fixed_replicas", a.fixed_replicas},
                    {"week_usd", a.total_usd()},
                    {"month_usd", a.total_usd() * kWeeksPerMonth}});
  }
  j["alternatives"] = std::move(alts);
  j["hours"] = json::object{{"requests", series(o.requests)},
                            {"load_replicas", series(o.load)},
                            {"required_replicas", series(o.required)},
                            {"capacity_replicas", series(o.capacity)},
                            {"capacity_gpus", series(scaled(o.capacity, gpus))},
                            {"api_share", series(o.api_share)},
                            {"p99_ttft_s", series(o.p99_ttft)}};
  return j;
}

json::object break_even_json(const BreakEven& b) {
  json::array lines;
  for (const auto& l : b.lines) {
    lines.push_back({{"name", l.name}, {"fixed_usd_per_year", l.fixed}, {"per_use_usd_per_year", l.per_use}});
  }
  json::array crossings;
  for (const auto& c : b.crossings) {
    json::object j{{"a", c.a},
                   {"b", c.b},
                   {"cheaper_below", c.cheaper_below},
                   {"cheaper_above", c.cheaper_above},
                   {"text", crossing_text(c)}};
    if (c.at) {
      j["utilisation"] = *c.at;
      j["hours_per_year"] = *c.at * kHoursPerYear;
      j["days_of_full_use"] = *c.at * kHoursPerYear / 24;
    } else {
      j["utilisation"] = nullptr;
    }
    crossings.push_back(std::move(j));
  }
  json::object out{{"lines", std::move(lines)}, {"crossings", std::move(crossings)}};
  out["api_usd_per_gpu_hour"] = b.api_per_gpu_hour ? json::value(*b.api_per_gpu_hour) : json::value(nullptr);
  return out;
}

json::object traffic_json(const TrafficSummary& t) {
  json::array models;
  for (const auto& m : t.models) {
    models.push_back({{"model", m.name},
                      {"week_requests", m.week_requests},
                      {"mean_prompt_tokens", m.mean_prompt},
                      {"mean_completion_tokens", m.mean_completion},
                      {"cache_hit_share", m.cache_hit_share},
                      {"deferrable_share", m.deferrable_share},
                      {"prompt_p99_tokens", m.prompt_p99},
                      {"week_api_usd", m.week_api_usd},
                      {"priced", m.priced},
                      {"self_hosted", m.self_hosted}});
  }
  return {{"week_requests", t.week_requests}, {"week_cached_requests", t.week_cached},
          {"mean_rps", t.mean_rps},           {"peak_rps", t.peak_rps},
          {"peak_hour", t.peak_hour},         {"models", std::move(models)}};
}

json::object settings_json(const Settings& s) {
  return {{"gateway", json::object{{"min_replicas", s.gateway_min},
                                   {"max_replicas", s.gateway_max},
                                   {"bound_by", s.gateway_bound_by},
                                   {"in_flight_target_per_replica", s.gateway_in_flight_target},
                                   {"rps_target_per_replica", s.gateway_rps_target},
                                   {"peak_in_flight", s.gateway_peak_in_flight},
                                   {"request_duration_s", s.request_duration_s}}},
          {"engine", json::object{{"min_replicas", s.engine_min},
                                  {"max_replicas", s.engine_max},
                                  {"sequences_target_per_replica", s.engine_sequences_target}}}};
}

}  // namespace

std::string format_json(const PlanConfig& cfg, const PlanResult& r) {
  json::object root{{"version", 1}, {"plan", cfg.source}, {"profile", r.profile_source}};
  json::array notes;
  for (const auto& n : r.notes) {
    notes.push_back(json::string(n));
  }
  root["notes"] = std::move(notes);
  if (r.observed) {
    const auto& o = *r.observed;
    root["observed"] = json::object{{"from_ms", o.from_ms},
                                    {"to_ms", o.to_ms},
                                    {"hours", o.hours},
                                    {"upstream_requests", o.upstream_requests},
                                    {"failed_requests", o.failed_requests},
                                    {"cached_requests", o.cached_requests},
                                    {"tokens", tokens_json(o.tokens)},
                                    {"api_cost_usd", o.api_cost_usd},
                                    {"ledger_cost_usd", o.ledger_cost_usd}};
  }
  root["traffic"] = traffic_json(r.traffic);
  if (cfg.engine && r.engine) {
    const auto& e = *cfg.engine;
    root["engine"] = json::object{{"source", e.source},
                                  {"file", e.file},
                                  {"batch", e.batch},
                                  {"gpus", e.gpus},
                                  {"prefill_tokens_per_s", e.prefill_tokens_per_s},
                                  {"decode_tokens_per_s", e.decode_tokens_per_s},
                                  {"prefix_cache", e.prefix_cache},
                                  {"service_s", r.engine->service_s},
                                  {"prefill_s", r.engine->prefill_s},
                                  {"replica_rps_at_slo", r.engine->replica_rps}};
  }
  root["slo"] =
      json::object{{"p99_first_token_s", cfg.slo.p99_first_token_s}, {"headroom", cfg.slo.headroom}};
  json::array options;
  for (const auto& o : r.options) {
    options.push_back(option_json(o, cfg.engine ? cfg.engine->gpus : 1));
  }
  root["options"] = std::move(options);
  root["break_even"] = break_even_json(r.break_even);
  root["settings"] = settings_json(r.settings);
  return json::serialize(root) + "\n";
}

}  // namespace sluice::plan
