#include "plan/costs.h"

#include <fmt/format.h>

#include <algorithm>

namespace sluice::plan {

std::string gpu_count(int replicas, int gpus_per_replica) {
  return gpus_per_replica > 1 ? fmt::format(" ({} GPUs)", replicas * gpus_per_replica) : "";
}

double api_cost(const config::Price& p, const Tokens& t, bool off_peak) {
  const double usd =
      (t.cache_hit * p.input_cache_hit + t.cache_miss * p.input_cache_miss + t.completion * p.output) / 1e6;
  return off_peak ? usd * p.off_peak_multiplier : usd;
}

double api_cost(const config::Price& p, const HourLoad& h) {
  return api_cost(p, h.peak, false) + api_cost(p, h.off_peak, true);
}

TierRates tier_rates(const GpuPrices& gpu) {
  TierRates r;
  if (gpu.owned) {
    r.fixed = gpu.owned->fixed_per_hour() + gpu.owned->power_per_hour;
    r.fixed_name = "owned";
  }
  if (gpu.reserved_per_hour && (!r.fixed || *gpu.reserved_per_hour < *r.fixed)) {
    r.fixed = gpu.reserved_per_hour;
    r.fixed_name = "reserved";
  }
  if (gpu.on_demand_per_hour) {
    const double spot = gpu.spot_per_hour.value_or(*gpu.on_demand_per_hour);
    r.burst = (1 - gpu.spot_share) * *gpu.on_demand_per_hour + gpu.spot_share * spot;
    r.burst_name =
        gpu.spot_share > 0 ? fmt::format("on demand ({:.0f} % spot)", gpu.spot_share * 100) : "on demand";
  }
  return r;
}

FleetCost fleet_cost(const std::vector<int>& billed, int gpus_per_replica, const TierRates& rates, int fixed,
                     const std::string& fixed_name) {
  FleetCost c;
  c.fixed_replicas = fixed;
  const double g = gpus_per_replica;
  c.fixed_usd = fixed > 0 ? fixed * g * rates.fixed.value_or(0) * kHoursPerWeek : 0;
  double burst_minutes = 0;
  for (int b : billed) {
    burst_minutes += std::max(0, b - fixed);
  }
  c.burst_usd = burst_minutes / 60.0 * g * rates.burst.value_or(0);
  if (fixed == 0) {
    c.name = rates.burst_name;
  } else if (burst_minutes == 0) {
    c.name = fmt::format("{} {}{}", fixed, fixed_name, gpu_count(fixed, gpus_per_replica));
  } else {
    c.name =
        fmt::format("{} {}{} + {}", fixed, fixed_name, gpu_count(fixed, gpus_per_replica), rates.burst_name);
  }
  return c;
}

FleetChoice cheapest_fleet(const std::vector<int>& billed, int gpus_per_replica, const GpuPrices& gpu) {
  const TierRates rates = tier_rates(gpu);
  const int peak = billed.empty() ? 0 : *std::max_element(billed.begin(), billed.end());
  FleetChoice out;
  const int lo = rates.burst ? 0 : peak;
  const int hi = rates.fixed ? peak : 0;
  bool first = true;
  for (int k = lo; k <= hi; ++k) {
    FleetCost c = fleet_cost(billed, gpus_per_replica, rates, k, rates.fixed_name);
    if (first || c.total_usd() < out.best.total_usd() - 1e-9) {
      out.best = c;
      first = false;
    }
  }
  if (rates.burst) {
    out.alternatives.push_back(fleet_cost(billed, gpus_per_replica, rates, 0, ""));
  }
  if (gpu.reserved_per_hour) {
    TierRates only{gpu.reserved_per_hour, "reserved", std::nullopt, ""};
    out.alternatives.push_back(fleet_cost(billed, gpus_per_replica, only, peak, "reserved"));
  }
  if (gpu.owned) {
    TierRates only{gpu.owned->fixed_per_hour() + gpu.owned->power_per_hour, "owned", std::nullopt, ""};
    out.alternatives.push_back(fleet_cost(billed, gpus_per_replica, only, peak, "owned"));
  }
  return out;
}

Crossing cross(const CostLine& a, const CostLine& b) {
  Crossing c{a.name, b.name, std::nullopt, "", ""};
  const double slope = a.per_use - b.per_use;
  if (slope != 0) {
    const double u = (b.fixed - a.fixed) / slope;
    if (u > 0 && u < 1) {
      c.at = u;
    }
  }
  if (c.at) {
    c.cheaper_below = a.at(0) < b.at(0) ? a.name : b.name;
    c.cheaper_above = c.cheaper_below == a.name ? b.name : a.name;
  } else {
    // One is cheaper over the whole range (or they are equal): judge at the middle.
    c.cheaper_below = c.cheaper_above = a.at(0.5) <= b.at(0.5) ? a.name : b.name;
  }
  return c;
}

BreakEven break_even(const GpuPrices& gpu, std::optional<double> api_per_gpu_hour) {
  BreakEven out;
  out.api_per_gpu_hour = api_per_gpu_hour;
  if (gpu.on_demand_per_hour) {
    out.lines.push_back({"on demand", 0, *gpu.on_demand_per_hour * kHoursPerYear});
  }
  if (gpu.spot_per_hour) {
    out.lines.push_back({"spot", 0, *gpu.spot_per_hour * kHoursPerYear});
  }
  if (gpu.reserved_per_hour) {
    out.lines.push_back({"reserved", *gpu.reserved_per_hour * kHoursPerYear, 0});
  }
  if (gpu.owned) {
    out.lines.push_back(
        {"owned", gpu.owned->fixed_per_hour() * kHoursPerYear, gpu.owned->power_per_hour * kHoursPerYear});
  }
  if (api_per_gpu_hour) {
    out.lines.push_back({"API", 0, *api_per_gpu_hour * kHoursPerYear});
  }
  for (std::size_t i = 0; i < out.lines.size(); ++i) {
    for (std::size_t j = i + 1; j < out.lines.size(); ++j) {
      out.crossings.push_back(cross(out.lines[i], out.lines[j]));
    }
  }
  return out;
}

}  // namespace sluice::plan
