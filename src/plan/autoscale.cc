#include "plan/autoscale.h"

#include <algorithm>
#include <deque>

namespace sluice::plan {

namespace {

int floor_hour(int minute) { return minute >= 0 ? minute / 60 : -((-minute + 59) / 60); }

struct StartingReplicas {
  int ready_at;  // minute
  int count;
};

class ScalingFleet {
 public:
  explicit ScalingFleet(int serving) : serving_(serving) {}

  void tick(int now) {
    while (!starting_.empty() && starting_.front().ready_at <= now) {
      serving_ += starting_.front().count;
      starting_.pop_front();
    }
  }
  int serving() const { return serving_; }
  int billed() const {
    int n = serving_;
    for (const auto& s : starting_) {
      n += s.count;
    }
    return n;
  }
  void add(int count, int ready_at) { starting_.push_back({ready_at, count}); }
  // Removes replicas that are still starting first (they serve nobody yet), newest first.
  void remove(int count) {
    while (count > 0 && !starting_.empty()) {
      const int take = std::min(count, starting_.back().count);
      starting_.back().count -= take;
      count -= take;
      if (starting_.back().count == 0) {
        starting_.pop_back();
      }
    }
    serving_ -= std::min(count, serving_);
  }

 private:
  int serving_;
  std::deque<StartingReplicas> starting_;
};

}  // namespace

ScaleTrace simulate_autoscaling(const std::array<int, kHoursPerWeek>& required, const Autoscaling& a) {
  auto need_at = [&](int minute) {
    const int m = ((minute % kMinutesPerWeek) + kMinutesPerWeek) % kMinutesPerWeek;
    return required[static_cast<std::size_t>(m / 60)];
  };
  ScaleTrace out;
  out.billed.assign(kMinutesPerWeek, 0);
  out.serving.assign(kMinutesPerWeek, 0);
  ScalingFleet fleet(need_at(0));
  int last_up = -1'000'000;
  for (int t = 0; t < 2 * kMinutesPerWeek; ++t) {
    fleet.tick(t);
    const int need = need_at(t);
    const int need_up = a.predictive ? std::max(need, need_at(t + a.provision_min)) : need;
    if (need_up > fleet.billed() && t - last_up >= a.scale_up_cooldown_min) {
      fleet.add(need_up - fleet.billed(), t + a.provision_min);
      last_up = t;
      fleet.tick(t);  // provision_time 0: serving at once
    }
    // The need is constant within an hour: visit each hour of the window once.
    int keep = need_up;
    for (int mm = t - std::max(0, a.scale_down_cooldown_min - 1); mm <= t; mm = (floor_hour(mm) + 1) * 60) {
      keep = std::max(keep, need_at(mm));
    }
    if (keep < fleet.billed()) {
      fleet.remove(fleet.billed() - keep);
    }
    if (t < kMinutesPerWeek) {
      continue;  // warm-up week
    }
    const int m = t - kMinutesPerWeek;
    const auto h = static_cast<std::size_t>(m / 60);
    out.billed[static_cast<std::size_t>(m)] = fleet.billed();
    out.serving[static_cast<std::size_t>(m)] = fleet.serving();
    out.billed_mean[h] += fleet.billed() / 60.0;
    out.serving_mean[h] += fleet.serving() / 60.0;
    if (fleet.serving() < need) {
      ++out.short_minutes[h];
      ++out.short_total;
    }
    out.billed_replica_hours += fleet.billed() / 60.0;
  }
  out.max_billed = *std::max_element(out.billed.begin(), out.billed.end());
  out.min_billed = *std::min_element(out.billed.begin(), out.billed.end());
  return out;
}

}  // namespace sluice::plan
