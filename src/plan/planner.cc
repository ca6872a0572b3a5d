#include "plan/planner.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "plan/defer.h"

namespace sluice::plan {

namespace {

constexpr const char* kOffPeakDeferral = "off-peak windows";
constexpr const char* kMixedDeferral = "the engine's quiet hours (API-only models: off-peak windows)";

double prefill_tokens(const Engine& e, const Tokens& t) { return e.prefix_cache ? t.cache_miss : t.prompt(); }

// How loaded an hour is, for deferral: the engine's busy slot-seconds, or requests without an engine.
LoadLevel deferral_level(const PlanConfig& cfg) {
  if (!cfg.engine) {
    return [](const Tokens& t) { return t.requests; };
  }
  const Engine e = *cfg.engine;
  const EngineModel m = engine_model(e);
  return [e, m](const Tokens& t) { return m.service_s(prefill_tokens(e, t), t.completion); };
}

OptionPlan plan_api(const PlanConfig& cfg, const Profile& p, bool deferred) {
  OptionPlan o;
  o.kind = "api";
  o.deferred = deferred;
  o.fleet = "-";
  const auto cost = hourly_api_cost(cfg, p, std::nullopt);
  for (int h = 0; h < kHoursPerWeek; ++h) {
    const auto i = static_cast<std::size_t>(h);
    o.api_usd += cost[i];
    for (const auto& m : p.models) {
      o.requests[i] += m.hours[i].total().requests;
    }
    o.api_share[i] = o.requests[i] > 0 ? 1.0 : 0.0;
  }
  o.api_request_share = 1.0;
  return o;
}

TrafficSummary summarize_traffic(const PlanConfig& cfg, const Profile& p) {
  TrafficSummary s;
  HourValues gateway_rps{};
  for (const auto& m : p.models) {
    ModelSummary ms;
    ms.name = m.name;
    const Tokens t = m.week_total();
    ms.week_requests = t.requests;
    ms.mean_prompt = t.requests > 0 ? t.prompt() / t.requests : 0;
    ms.mean_completion = t.requests > 0 ? t.completion / t.requests : 0;
    ms.cache_hit_share = t.prompt() > 0 ? t.cache_hit / t.prompt() : 0;
    ms.deferrable_share = m.deferrable_share;
    ms.prompt_p99 = m.prompt_p99;
    auto price = cfg.pricing.find(m.name);
    ms.priced = price != cfg.pricing.end();
    ms.self_hosted = cfg.engine && cfg.engine->serves(m.name);
    for (int h = 0; h < kHoursPerWeek; ++h) {
      const auto& hour = m.hours[static_cast<std::size_t>(h)];
      if (ms.priced) {
        ms.week_api_usd += api_cost(price->second, hour);
      }
      s.week_cached += hour.cached_requests;
      gateway_rps[static_cast<std::size_t>(h)] += (hour.total().requests + hour.cached_requests) / 3600.0;
    }
    s.week_requests += t.requests;
    s.models.push_back(ms);
  }
  s.mean_rps = (s.week_requests + s.week_cached) / (kHoursPerWeek * 3600.0);
  const auto peak = std::max_element(gateway_rps.begin(), gateway_rps.end());
  s.peak_rps = *peak;
  s.peak_hour = static_cast<int>(peak - gateway_rps.begin());
  return s;
}

// The week's mean request as the engine sees it.
HourTraffic week_mix(const PlanConfig& cfg, const Profile& p) {
  HourTraffic mix;
  double requests = 0;
  for (int h = 0; h < kHoursPerWeek; ++h) {
    const HourTraffic t = engine_traffic(cfg, p, h);
    const double n = t.arrival_rate * 3600;
    requests += n;
    mix.mean_prefill += t.mean_prefill * n;
    mix.mean_completion += t.mean_completion * n;
    mix.p99_prefill = std::max(mix.p99_prefill, t.p99_prefill);
  }
  if (requests > 0) {
    mix.mean_prefill /= requests;
    mix.mean_completion /= requests;
    mix.arrival_rate = requests / (kHoursPerWeek * 3600.0);
  }
  return mix;
}

Settings recommend_settings(const PlanConfig& cfg, const Profile& p,
                            const std::optional<EngineSummary>& engine, const OptionPlan* self_hosted) {
  Settings s;
  const double u = cfg.slo.max_utilisation();
  s.request_duration_s = cfg.gateway.request_duration_s.value_or(engine ? engine->service_s : 10.0);
  s.gateway_in_flight_target = cfg.gateway.in_flight_per_replica * u;
  s.gateway_rps_target = cfg.gateway.rps_per_replica * u;
  s.gateway_min = INT32_MAX;
  for (int h = 0; h < kHoursPerWeek; ++h) {
    double rps = 0;
    for (const auto& m : p.models) {
      const auto& hour = m.hours[static_cast<std::size_t>(h)];
      rps += (hour.total().requests + hour.cached_requests) / 3600.0;
    }
    const double in_flight = rps * s.request_duration_s;
    const int by_rps = static_cast<int>(std::ceil(rps / s.gateway_rps_target - 1e-9));
    const int by_flight = static_cast<int>(std::ceil(in_flight / s.gateway_in_flight_target - 1e-9));
    const int n = std::max({cfg.gateway.min_replicas, by_rps, by_flight});
    s.gateway_min = std::min(s.gateway_min, n);
    if (n >= s.gateway_max) {
      s.gateway_max = n;
      s.gateway_bound_by = n == cfg.gateway.min_replicas ? "min_replicas"
                           : by_rps >= by_flight         ? "requests/s"
                                                         : "in-flight requests";
    }
    s.gateway_peak_in_flight = std::max(s.gateway_peak_in_flight, in_flight);
  }
  if (self_hosted != nullptr && cfg.engine) {
    s.engine_min = self_hosted->min_replicas;
    s.engine_max = self_hosted->max_replicas;
    s.engine_sequences_target = cfg.engine->batch * u;
  }
  return s;
}

}  // namespace

EngineModel engine_model(const Engine& e) { return {e.batch, e.prefill_tokens_per_s, e.decode_tokens_per_s}; }

HourTraffic engine_traffic(const PlanConfig& cfg, const Profile& p, int hour) {
  HourTraffic t;
  if (!cfg.engine) {
    return t;
  }
  const Engine& e = *cfg.engine;
  double requests = 0;
  double prefill = 0;
  double completion = 0;
  for (const auto& m : p.models) {
    if (!e.serves(m.name)) {
      continue;
    }
    const Tokens tok = m.hours[static_cast<std::size_t>(hour)].total();
    if (tok.requests <= 0) {
      continue;
    }
    requests += tok.requests;
    prefill += prefill_tokens(e, tok);
    completion += tok.completion;
    // The model's p99 prompt, less the share its cache hits spare the prefill.
    const double p99 = m.prompt_p99 > 0 ? m.prompt_p99 : tok.prompt() / tok.requests;
    const double spared = tok.prompt() > 0 ? prefill_tokens(e, tok) / tok.prompt() : 1.0;
    t.p99_prefill = std::max(t.p99_prefill, p99 * spared);
  }
  if (requests > 0) {
    t.arrival_rate = requests / 3600.0;
    t.mean_prefill = prefill / requests;
    t.mean_completion = completion / requests;
  }
  return t;
}

HourValues hourly_api_cost(const PlanConfig& cfg, const Profile& p, std::optional<bool> self_hostable) {
  HourValues out{};
  for (const auto& m : p.models) {
    const bool served = cfg.engine && cfg.engine->serves(m.name);
    if (self_hostable && *self_hostable != served) {
      continue;
    }
    auto price = cfg.pricing.find(m.name);
    if (price == cfg.pricing.end()) {
      continue;
    }
    for (int h = 0; h < kHoursPerWeek; ++h) {
      out[static_cast<std::size_t>(h)] += api_cost(price->second, m.hours[static_cast<std::size_t>(h)]);
    }
  }
  return out;
}

PlanResult make_plan(const PlanConfig& cfg, const Profile& profile) {
  PlanResult r;
  r.profile_source = profile.source;
  r.notes = profile.notes;
  r.observed = profile.observed;
  r.traffic = summarize_traffic(cfg, profile);
  const LoadLevel level = deferral_level(cfg);
  const Profile to_off_peak = defer(
      profile, cfg.pricing, cfg.defer_max_delay_h, [](const std::string&) { return DeferTarget::kOffPeak; },
      level);
  r.options.push_back(plan_api(cfg, profile, false));
  r.options.push_back(plan_api(cfg, to_off_peak, true));
  r.options.back().deferred_to = kOffPeakDeferral;
  std::optional<double> api_per_gpu_hour;
  const bool self_hosting = cfg.engine && cfg.gpu.any();
  if (cfg.engine) {
    const EngineModel m = engine_model(*cfg.engine);
    const HourTraffic mix = week_mix(cfg, profile);
    EngineSummary es;
    es.service_s = m.service_s(mix.mean_prefill, mix.mean_completion);
    es.prefill_s = m.prefill_s(mix.mean_prefill);
    es.replica_rps = max_rate(m, mix, cfg.slo, 1);
    r.engine = es;
    // What the API charges for the work one busy GPU does in an hour, at this traffic's mix and prices.
    const auto served_cost = hourly_api_cost(cfg, profile, true);
    double cost = 0;
    for (double c : served_cost) {
      cost += c;
    }
    const double requests = mix.arrival_rate * kHoursPerWeek * 3600.0;
    if (requests > 0 && es.service_s > 0) {
      const double per_replica_hour = 3600.0 * cfg.engine->batch / es.service_s;
      api_per_gpu_hour = per_replica_hour * (cost / requests) / cfg.engine->gpus;
    }
  }
  const OptionPlan* self_hosted = nullptr;
  if (self_hosting) {
    // The engine's models go to its quiet hours, the API's to their off-peak windows.
    const Profile mixed = defer(
        profile, cfg.pricing, cfg.defer_max_delay_h,
        [&](const std::string& m) {
          return cfg.engine->serves(m) ? DeferTarget::kValleys : DeferTarget::kOffPeak;
        },
        level);
    r.options.push_back(plan_self_hosted(cfg, profile, false));
    r.options.push_back(plan_self_hosted(cfg, mixed, true));
    r.options.back().deferred_to = kMixedDeferral;
    r.options.push_back(plan_hybrid(cfg, profile, false));
    // A hybrid's overflow pays API prices: deferring to the API's off-peak windows may beat filling the
    // base's quiet hours. Keep the cheaper.
    OptionPlan quiet = plan_hybrid(cfg, mixed, true);
    quiet.deferred_to = kMixedDeferral;
    OptionPlan off_peak = plan_hybrid(cfg, to_off_peak, true);
    off_peak.deferred_to = kOffPeakDeferral;
    r.options.push_back(quiet.week_usd() <= off_peak.week_usd() ? std::move(quiet) : std::move(off_peak));
    self_hosted = &r.options[2];
  } else if (cfg.engine) {
    r.notes.push_back("no gpu prices: the self-hosted and hybrid options are left out");
  }
  r.break_even = break_even(cfg.gpu, api_per_gpu_hour);
  r.settings = recommend_settings(cfg, profile, r.engine, self_hosted);
  return r;
}

}  // namespace sluice::plan
