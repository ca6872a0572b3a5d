#pragma once
// Reactive autoscaling of engine replicas over the week, in one-minute steps: scale up to the current need
// (no sooner than scale_up_cooldown after the last scale-up; new replicas serve provision_min later and are
// paid from the moment they are asked for), scale down to the highest need of the last scale_down_cooldown
// minutes (the Kubernetes HPA's stabilisation window). Two weeks are simulated and the second one kept,
// so the week starts in the state the previous week left.
#include <array>
#include <vector>

#include "plan/plan_config.h"
#include "plan/profile.h"

namespace sluice::plan {

struct ScaleTrace {
  std::vector<int> billed;   // per minute of the week: replicas paid (serving + starting)
  std::vector<int> serving;  // per minute: replicas serving
  std::array<double, kHoursPerWeek> billed_mean{};
  std::array<double, kHoursPerWeek> serving_mean{};
  std::array<int, kHoursPerWeek> short_minutes{};  // minutes of the hour with fewer serving than required
  int short_total = 0;
  int max_billed = 0;
  int min_billed = 0;
  double billed_replica_hours = 0;
};

ScaleTrace simulate_autoscaling(const std::array<int, kHoursPerWeek>& required, const Autoscaling& a);

}  // namespace sluice::plan
