#pragma once
// Money: API cost of tokens at a price card (with its off-peak multiplier), GPU tiers per hour, the cheapest
// mix of fixed (reserved or owned) and on-demand replicas for an autoscaled fleet, and the break-even
// utilisations between owning, reserving, renting on demand and the API.
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "plan/plan_config.h"
#include "plan/profile.h"

namespace sluice::plan {

inline constexpr double kWeeksPerMonth = 365.25 / 12.0 / 7.0;

// " (16 GPUs)" after a replica count when replicas have several GPUs, else "".
std::string gpu_count(int replicas, int gpus_per_replica);

// USD for `t` at `p`: prices are per 1M tokens; off-peak tokens get the off-peak multiplier.
double api_cost(const config::Price& p, const Tokens& t, bool off_peak);
double api_cost(const config::Price& p, const HourLoad& h);

// USD per GPU-hour of the fleet's two tiers: the fixed tier (the cheaper of a reservation and owned
// hardware, which runs all the time and so pays power every hour) and the burst tier (on demand, with
// spot_share of its hours on spot).
struct TierRates {
  std::optional<double> fixed;
  std::string fixed_name;  // "reserved" | "owned"
  std::optional<double> burst;
  std::string burst_name;  // "on demand" | "on demand + spot"
};
TierRates tier_rates(const GpuPrices& gpu);

// A week of an autoscaled fleet paid as `fixed_replicas` on the fixed tier and the rest on the burst tier.
struct FleetCost {
  std::string name;  // "4 owned + on demand"
  int fixed_replicas = 0;
  double fixed_usd = 0;
  double burst_usd = 0;
  double total_usd() const { return fixed_usd + burst_usd; }
};

// Cost of paying `billed` (replicas per minute of the week) with k fixed replicas, for one k.
FleetCost fleet_cost(const std::vector<int>& billed, int gpus_per_replica, const TierRates& rates, int fixed,
                     const std::string& fixed_name);

// The k that makes the week cheapest (k = 0 without a fixed tier, the peak without a burst tier), and the
// pure alternatives (all on demand, all reserved, all owned) for comparison.
struct FleetChoice {
  FleetCost best;
  std::vector<FleetCost> alternatives;
};
FleetChoice cheapest_fleet(const std::vector<int>& billed, int gpus_per_replica, const GpuPrices& gpu);

// One GPU's cost over a year as a line in u, the share of the year's hours it is switched on and busy:
// fixed + per_use × u.
struct CostLine {
  std::string name;
  double fixed = 0;    // USD per year whatever the use
  double per_use = 0;  // USD per year at u = 1
  double at(double u) const { return fixed + per_use * u; }
};

// Where two lines cross in (0, 1): below `at` one is cheaper, above it the other.
struct Crossing {
  std::string a, b;
  std::optional<double> at;   // utilisation; nullopt when one is cheaper over the whole range
  std::string cheaper_below;  // the cheaper one for u < at (or everywhere)
  std::string cheaper_above;
};
Crossing cross(const CostLine& a, const CostLine& b);

struct BreakEven {
  std::vector<CostLine> lines;  // on demand, spot, reserved, owned, and the API when known
  std::vector<Crossing> crossings;
  std::optional<double> api_per_gpu_hour;  // API price of the work one busy GPU does in an hour
};

// `api_per_gpu_hour`: what the API charges for the tokens one GPU serves in an hour of full use (from the
// engine's throughput and the traffic's mix); nullopt leaves the API out.
BreakEven break_even(const GpuPrices& gpu, std::optional<double> api_per_gpu_hour);

}  // namespace sluice::plan
