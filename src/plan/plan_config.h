#pragma once
// What `sluice plan` reads from plan.yaml (docs/plan.md): price cards for the API (the gateway's `pricing`
// shape) and for GPUs, the engine's throughput, the SLO, autoscaling and gateway sizing. Built once by
// load_plan(); the planner never sees YAML.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace sluice::plan {

inline constexpr double kHoursPerYear = 8760;  // 365 days

// An owned machine: paid up front, written off over its lifetime; hosting (rack, cooling, network) is paid
// every hour, power only while the GPU is switched on.
struct OwnedHardware {
  double capex = 0;           // USD per GPU
  double lifetime_years = 0;  // > 0
  double power_per_hour = 0;
  double hosting_per_hour = 0;
  // The part that does not depend on use: write-off plus hosting, per hour of the year.
  double fixed_per_hour() const { return capex / (lifetime_years * kHoursPerYear) + hosting_per_hour; }
};

// USD per GPU. A reservation is paid for every hour of the year whether used or not.
struct GpuPrices {
  std::optional<double> on_demand_per_hour;
  std::optional<double> reserved_per_hour;
  std::optional<double> spot_per_hour;
  double spot_share = 0;  // share of the on-demand (burst) GPU-hours that may run on spot
  std::optional<OwnedHardware> owned;
  bool any() const { return on_demand_per_hour || reserved_per_hour || owned; }
};

// What one engine replica does at `batch` sequences in flight, measured (sluice bench --engine-out) or
// entered: the rate at which it prefills a prompt (one at a time) and its aggregate decode rate over a full
// batch (one sequence decodes at decode/batch tokens/s).
struct EngineMeasurement {  // informational, from sluice bench
  double requests = 0;
  double mean_prompt_tokens = 0;
  double mean_cached_prompt_tokens = 0;
  double mean_completion_tokens = 0;
  double mean_ttft_s = 0;
  double mean_e2e_s = 0;
};
struct Engine {
  std::string source;  // who measured it, how, when (required: a number without a source is a guess)
  std::string file;    // the engine file it came from, when one
  std::string model;   // informational
  int batch = 0;
  int gpus = 1;  // GPUs per engine replica (tensor parallelism)
  double prefill_tokens_per_s = 0;
  double decode_tokens_per_s = 0;
  bool prefix_cache = true;         // prompt tokens that hit the provider's prompt cache need no prefill here
  std::vector<std::string> models;  // upstream model ids the engine can serve; empty = every model
  std::optional<EngineMeasurement> measured;
  bool serves(const std::string& model_id) const;
};

struct Slo {
  double p99_first_token_s = 2.0;
  double headroom = 0.2;  // keep utilisation at or below 1 - headroom
  double max_utilisation() const { return 1.0 - headroom; }
};

// Reactive autoscaling of engine replicas, simulated in one-minute steps over the week.
struct Autoscaling {
  int scale_up_cooldown_min = 3;     // at least this long between two scale-ups
  int scale_down_cooldown_min = 15;  // scale down to the highest need of the last this-many minutes
  int provision_min = 5;             // a replica asked for serves this long later (billed meanwhile)
  int min_replicas = 1;
  bool predictive = false;  // scale up ahead of the weekly pattern by provision_min
};

struct GatewaySizing {
  double rps_per_replica = 20000;        // requests/s one gateway replica handles (docs/benchmarks.md)
  double in_flight_per_replica = 10000;  // concurrent requests (open streams) per replica
  int min_replicas = 2;
  std::optional<double> request_duration_s;  // mean request time; default: the engine's service time
};

struct PlanConfig {
  std::string source;                            // plan file path
  std::string profile_path;                      // traffic.profile, resolved against the plan file's folder
  std::string ledger_path;                       // traffic.ledger
  double ledger_deferrable_share = 0;            // ledger traffic does not say what can wait
  double defer_max_delay_h = 12;                 // deferred work runs within this many hours
  std::map<std::string, config::Price> pricing;  // by upstream model id
  GpuPrices gpu;
  std::optional<Engine> engine;
  Slo slo;
  Autoscaling autoscaling;
  GatewaySizing gateway;
};

}  // namespace sluice::plan
