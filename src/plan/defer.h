#pragma once
// Deferring work that can wait: each model's deferrable share of an hour moves to later hours within
// max_delay, filling the least-loaded eligible hours first (water-filling). Two targets:
// - kOffPeak (API): only the peak-priced part moves, and only into hours wholly inside the model's
//   off-peak windows; it then pays the off-peak price. Without such an hour in reach it stays.
// - kValleys (self-hosted capacity): any hour in reach, the source hour included, so work only moves to
//   hours that are less loaded than where it came from; fewer replicas are needed at the peak.
#include <functional>
#include <map>
#include <string>

#include "config/config.h"
#include "plan/profile.h"

namespace sluice::plan {

enum class DeferTarget { kOffPeak, kValleys };

// How loaded an hour is; the water level deferral evens out (e.g. engine busy-seconds).
using LoadLevel = std::function<double(const Tokens&)>;

// Where each model's deferrable work goes (by upstream model id).
using TargetOf = std::function<DeferTarget(const std::string& model)>;

Profile defer(const Profile& in, const std::map<std::string, config::Price>& pricing, double max_delay_h,
              const TargetOf& target_of, const LoadLevel& level);

// Pours `amount` over `levels` (only the indices in `into`), raising the lowest first; returns each index's
// share of the amount (summing to 1 when amount > 0).
std::vector<double> water_fill(const std::vector<double>& levels, const std::vector<int>& into,
                               double amount);

}  // namespace sluice::plan
