#pragma once
// The plan: for a profile and a plan config, the cost and shape of each option — API only, self-hosted only
// (autoscaled, cheapest mix of fixed and on-demand GPUs), hybrid (a fixed self-hosted base, bursts to the
// API) — each with and without deferring the deferrable share; the break-even utilisations; and the gateway
// and engine autoscaling settings to configure. Pure: no I/O.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "plan/costs.h"
#include "plan/plan_config.h"
#include "plan/profile.h"
#include "plan/queueing.h"

namespace sluice::plan {

using HourValues = std::array<double, kHoursPerWeek>;

struct OptionPlan {
  std::string kind;  // "api" | "self-hosted" | "hybrid"
  bool deferred = false;
  std::string deferred_to;  // where the deferrable share went
  double api_usd = 0;       // per week
  double gpu_usd = 0;
  double week_usd() const { return api_usd + gpu_usd; }
  double month_usd() const { return week_usd() * kWeeksPerMonth; }
  std::string fleet;                    // "3 owned + on demand", "4 reserved (fixed)", "-"
  std::vector<FleetCost> alternatives;  // self-hosted: all on demand, all reserved, all owned
  HourValues requests{};                // per hour, all models (after deferral)
  HourValues load{};                    // engine replicas' worth of busy batch slots (self-hostable traffic)
  HourValues required{};                // replicas the SLO and headroom need
  HourValues capacity{};                // replicas serving (autoscaled mean; the fixed base for hybrid)
  HourValues api_share{};               // of the hour's requests answered by the API
  HourValues p99_ttft{};                // seconds, modelled (0 where the engine serves nothing)
  double utilisation = 0;               // busy batch-slot hours / paid batch-slot hours
  double worst_p99_ttft_s = 0;
  int worst_hour = 0;
  int short_minutes = 0;  // autoscaling left the fleet below the need
  int min_replicas = 0;
  int max_replicas = 0;
  double mean_replicas = 0;
  double api_request_share = 0;  // of the week's requests
  bool slo_feasible = true;
  double hybrid_rate_limit = 0;  // hybrid: requests/s the base takes at the peak mix before overflowing
  double hybrid_in_flight = 0;   // hybrid: in-flight requests on the base at that rate (Little's law)
};

struct ModelSummary {
  std::string name;
  double week_requests = 0;
  double mean_prompt = 0;
  double mean_completion = 0;
  double cache_hit_share = 0;
  double deferrable_share = 0;
  double prompt_p99 = 0;
  double week_api_usd = 0;
  bool priced = true;
  bool self_hosted = false;  // the engine can serve it
};

struct TrafficSummary {
  double week_requests = 0;
  double week_cached = 0;
  double mean_rps = 0;
  double peak_rps = 0;
  int peak_hour = 0;
  std::vector<ModelSummary> models;
};

struct EngineSummary {
  double service_s = 0;    // mean request, full batch
  double prefill_s = 0;    // mean request's own prefill
  double replica_rps = 0;  // one replica within SLO and headroom, at the week's mean mix
};

struct Settings {
  // Gateway: replicas by hour from requests/s and in-flight requests (Little's law).
  int gateway_min = 0;
  int gateway_max = 0;
  double gateway_peak_in_flight = 0;
  double gateway_in_flight_target = 0;  // HPA target: sluice_requests_in_flight per replica
  double gateway_rps_target = 0;
  std::string gateway_bound_by;  // "requests/s" | "in-flight requests" | "min_replicas"
  double request_duration_s = 0;
  // Engine replicas (self-hosted).
  int engine_min = 0;
  int engine_max = 0;
  double engine_sequences_target = 0;  // running + waiting sequences per replica (batch × (1 - headroom))
};

struct PlanResult {
  std::string profile_source;
  std::vector<std::string> notes;
  std::optional<Observed> observed;
  TrafficSummary traffic;
  std::optional<EngineSummary> engine;
  std::vector<OptionPlan> options;
  BreakEven break_even;
  Settings settings;
};

PlanResult make_plan(const PlanConfig& cfg, const Profile& profile);

EngineModel engine_model(const Engine& e);

// The engine's load for one hour of the profile (self-hostable models only; before any routing).
HourTraffic engine_traffic(const PlanConfig& cfg, const Profile& p, int hour);

// Per-hour API cost of a profile: `self_hostable` selects the models the engine serves (true), the others
// (false), or all (nullopt).
HourValues hourly_api_cost(const PlanConfig& cfg, const Profile& p, std::optional<bool> self_hostable);

// The self-hosted and hybrid options for one (deferred or not) profile (self_hosted.cc).
OptionPlan plan_self_hosted(const PlanConfig& cfg, const Profile& p, bool deferred);
OptionPlan plan_hybrid(const PlanConfig& cfg, const Profile& p, bool deferred);

}  // namespace sluice::plan
