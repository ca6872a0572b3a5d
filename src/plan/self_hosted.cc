// Self-hosted only (autoscaled replicas, cheapest tier mix) and hybrid (a fixed base, overflow to the API).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "plan/autoscale.h"
#include "plan/planner.h"

namespace sluice::plan {

namespace {

// An option with its requests per hour counted: all models, and in `not_served` those the engine does not
// serve.
OptionPlan new_option(const char* kind, bool deferred, const PlanConfig& cfg, const Profile& p,
                      HourValues& not_served) {
  OptionPlan o;
  o.kind = kind;
  o.deferred = deferred;
  for (const auto& m : p.models) {
    const bool served = cfg.engine->serves(m.name);
    for (int h = 0; h < kHoursPerWeek; ++h) {
      const auto i = static_cast<std::size_t>(h);
      const double n = m.hours[i].total().requests;
      o.requests[i] += n;
      not_served[i] += served ? 0 : n;
    }
  }
  return o;
}

void finish_shares(OptionPlan& o, const HourValues& api_requests) {
  double api = 0;
  double all = 0;
  for (int h = 0; h < kHoursPerWeek; ++h) {
    const auto i = static_cast<std::size_t>(h);
    o.api_share[i] = o.requests[i] > 0 ? api_requests[i] / o.requests[i] : 0;
    api += api_requests[i];
    all += o.requests[i];
    if (o.p99_ttft[i] > o.worst_p99_ttft_s) {
      o.worst_p99_ttft_s = o.p99_ttft[i];
      o.worst_hour = h;
    }
  }
  o.api_request_share = all > 0 ? api / all : 0;
}

double sum_hours(const HourValues& v) {
  double s = 0;
  for (double x : v) {
    s += x;
  }
  return s;
}

// USD per GPU-hour of a replica that runs all week: the cheapest of a reservation, owned hardware (with
// power) and on demand left on.
std::pair<double, std::string> always_on_rate(const GpuPrices& gpu) {
  std::pair<double, std::string> best{INFINITY, ""};
  auto consider = [&](std::optional<double> rate, const char* name) {
    if (rate && *rate < best.first) {
      best = {*rate, name};
    }
  };
  consider(gpu.reserved_per_hour, "reserved");
  if (gpu.owned) {
    consider(gpu.owned->fixed_per_hour() + gpu.owned->power_per_hour, "owned");
  }
  consider(gpu.on_demand_per_hour, "on demand");
  return best;
}

}  // namespace

OptionPlan plan_self_hosted(const PlanConfig& cfg, const Profile& p, bool deferred) {
  const Engine& e = *cfg.engine;
  const EngineModel m = engine_model(e);
  HourValues api_requests{};
  OptionPlan o = new_option("self-hosted", deferred, cfg, p, api_requests);
  o.api_usd = sum_hours(hourly_api_cost(cfg, p, false));
  std::array<int, kHoursPerWeek> required{};
  for (int h = 0; h < kHoursPerWeek; ++h) {
    const auto i = static_cast<std::size_t>(h);
    const HourTraffic t = engine_traffic(cfg, p, h);
    const Sizing s = size_hour(m, t, cfg.slo, cfg.autoscaling.min_replicas);
    required[i] = s.replicas;
    o.required[i] = s.replicas;
    o.load[i] = t.arrival_rate * m.service_s(t.mean_prefill, t.mean_completion) / e.batch;
    o.p99_ttft[i] = t.arrival_rate > 0 ? s.p99_ttft_s : 0;
    o.slo_feasible = o.slo_feasible && (t.arrival_rate == 0 || s.feasible);
  }
  const ScaleTrace trace = simulate_autoscaling(required, cfg.autoscaling);
  o.capacity = trace.serving_mean;
  o.short_minutes = trace.short_total;
  o.min_replicas = trace.min_billed;
  o.max_replicas = trace.max_billed;
  o.mean_replicas = trace.billed_replica_hours / kHoursPerWeek;
  o.utilisation = trace.billed_replica_hours > 0 ? sum_hours(o.load) / trace.billed_replica_hours : 0;
  const FleetChoice fleet = cheapest_fleet(trace.billed, e.gpus, cfg.gpu);
  o.gpu_usd = fleet.best.total_usd();
  o.fleet = fleet.best.name;
  o.alternatives = fleet.alternatives;
  finish_shares(o, api_requests);
  return o;
}

namespace {

// The engine's traffic per hour and the replicas that take each whole hour within the SLO.
struct EngineWeek {
  std::array<HourTraffic, kHoursPerWeek> traffic{};
  std::array<int, kHoursPerWeek> enough{};
  int most = 0;
};

EngineWeek engine_week(const PlanConfig& cfg, const Profile& p, const EngineModel& m) {
  EngineWeek w;
  for (int h = 0; h < kHoursPerWeek; ++h) {
    const auto i = static_cast<std::size_t>(h);
    w.traffic[i] = engine_traffic(cfg, p, h);
    w.enough[i] = size_hour(m, w.traffic[i], cfg.slo, 0).replicas;
    w.most = std::max(w.most, w.enough[i]);
  }
  return w;
}

// Share of each hour's self-hostable requests that k base replicas cannot take within the SLO (into
// `shares`); returns what those cost at API prices.
double overflow(const EngineWeek& w, const EngineModel& m, const Slo& slo, const HourValues& served_cost,
                int k, HourValues& shares) {
  double usd = 0;
  for (std::size_t i = 0; i < w.traffic.size(); ++i) {
    const double lambda = w.traffic[i].arrival_rate;
    const double taken = lambda <= 0        ? 0
                         : k >= w.enough[i] ? lambda
                                            : std::min(lambda, max_rate(m, w.traffic[i], slo, k));
    shares[i] = lambda > 0 ? 1.0 - taken / lambda : 0;
    usd += shares[i] * served_cost[i];
  }
  return usd;
}

// Per-hour series, utilisation and the overflow thresholds of a base of k replicas.
void describe_hybrid(OptionPlan& o, const EngineWeek& w, const EngineModel& m, const Slo& slo, int k,
                     const HourValues& shares, const HourValues& not_served) {
  HourValues api_requests{};
  for (std::size_t i = 0; i < w.traffic.size(); ++i) {
    HourTraffic admitted = w.traffic[i];
    admitted.arrival_rate *= 1.0 - shares[i];
    api_requests[i] = not_served[i] + w.traffic[i].arrival_rate * 3600.0 * shares[i];
    o.capacity[i] = k;
    o.required[i] = w.enough[i];
    o.load[i] =
        admitted.arrival_rate * m.service_s(admitted.mean_prefill, admitted.mean_completion) / m.batch;
    o.p99_ttft[i] = admitted.arrival_rate > 0 && k > 0 ? p99_ttft(m, admitted, k) : 0;
  }
  o.min_replicas = o.max_replicas = k;
  o.mean_replicas = k;
  o.utilisation = k > 0 ? sum_hours(o.load) / (k * static_cast<double>(kHoursPerWeek)) : 0;
  // What to configure: the base's request rate and in-flight requests at the busiest hour's mix.
  const auto peak = std::max_element(w.traffic.begin(), w.traffic.end(), [](const auto& a, const auto& b) {
    return a.arrival_rate < b.arrival_rate;
  });
  if (k > 0 && peak->arrival_rate > 0) {
    o.hybrid_rate_limit = max_rate(m, *peak, slo, k);
    const double s = m.service_s(peak->mean_prefill, peak->mean_completion);
    o.hybrid_in_flight = o.hybrid_rate_limit * (s + mean_wait(k * m.batch, o.hybrid_rate_limit, 1.0 / s));
  }
  finish_shares(o, api_requests);
}

}  // namespace

OptionPlan plan_hybrid(const PlanConfig& cfg, const Profile& p, bool deferred) {
  const Engine& e = *cfg.engine;
  const EngineModel m = engine_model(e);
  HourValues not_served{};
  OptionPlan o = new_option("hybrid", deferred, cfg, p, not_served);
  const HourValues served_cost = hourly_api_cost(cfg, p, true);
  const EngineWeek w = engine_week(cfg, p, m);
  const auto [rate, tier] = always_on_rate(cfg.gpu);
  const int step = std::max(1, w.most / 200);  // large fleets: every step-th size
  int best_k = 0;
  double best_usd = INFINITY;
  HourValues shares{};
  for (int k = 0; k <= w.most; k = k == w.most ? w.most + 1 : std::min(w.most, k + step)) {
    const double usd = k * e.gpus * rate * kHoursPerWeek + overflow(w, m, cfg.slo, served_cost, k, shares);
    if (usd < best_usd - 1e-9) {
      best_usd = usd;
      best_k = k;
    }
  }
  overflow(w, m, cfg.slo, served_cost, best_k, shares);
  o.gpu_usd = best_k * e.gpus * rate * kHoursPerWeek;
  o.api_usd = best_usd - o.gpu_usd + sum_hours(hourly_api_cost(cfg, p, false));
  o.fleet = best_k > 0 ? fmt::format("{} {}{} + API bursts", best_k, tier, gpu_count(best_k, e.gpus))
                       : "API only (no base pays off)";
  describe_hybrid(o, w, m, cfg.slo, best_k, shares, not_served);
  return o;
}

}  // namespace sluice::plan
