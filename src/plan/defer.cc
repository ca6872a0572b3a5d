#include "plan/defer.h"

#include <algorithm>
#include <cmath>

#include "plan/week.h"

namespace sluice::plan {

std::vector<double> water_fill(const std::vector<double>& levels, const std::vector<int>& into,
                               double amount) {
  std::vector<double> share(levels.size(), 0.0);
  if (into.empty() || amount <= 0) {
    return share;
  }
  std::vector<double> sorted;
  for (int i : into) {
    sorted.push_back(levels[static_cast<std::size_t>(i)]);
  }
  std::sort(sorted.begin(), sorted.end());
  // Find the final level T: with the k lowest filled, T = (amount + sum of them) / k, valid while T <= next.
  double sum = 0;
  double top = sorted.back() + amount;
  for (std::size_t k = 1; k <= sorted.size(); ++k) {
    sum += sorted[k - 1];
    const double t = (amount + sum) / static_cast<double>(k);
    if (k == sorted.size() || t <= sorted[k]) {
      top = t;
      break;
    }
  }
  for (int i : into) {
    const auto u = static_cast<std::size_t>(i);
    share[u] += std::max(0.0, top - levels[u]) / amount;
  }
  return share;
}

namespace {

double hour_level(const Profile& p, int h, const LoadLevel& level) {
  double l = 0;
  for (const auto& m : p.models) {
    l += level(m.hours[static_cast<std::size_t>(h)].total());
  }
  return l;
}

}  // namespace

Profile defer(const Profile& in, const std::map<std::string, config::Price>& pricing, double max_delay_h,
              const TargetOf& target_of, const LoadLevel& level) {
  Profile out = in;
  const int reach = std::clamp(static_cast<int>(std::floor(max_delay_h + 1e-9)), 0, kHoursPerWeek - 1);
  std::vector<double> levels(kHoursPerWeek);
  for (int h = 0; h < kHoursPerWeek; ++h) {
    levels[static_cast<std::size_t>(h)] = hour_level(out, h, level);
  }
  for (std::size_t mi = 0; mi < out.models.size(); ++mi) {
    auto& m = out.models[mi];
    if (m.deferrable_share <= 0 || reach == 0) {
      continue;
    }
    const DeferTarget target = target_of(m.name);
    auto price_it = pricing.find(m.name);
    const config::Price price = price_it == pricing.end() ? config::Price{} : price_it->second;
    const auto off = off_peak_shares(price);
    for (int h = 0; h < kHoursPerWeek; ++h) {
      auto& src = m.hours[static_cast<std::size_t>(h)];
      // What moves is taken from the hour as it was: work moved into a later hour is not moved again.
      const HourLoad& orig = in.models[mi].hours[static_cast<std::size_t>(h)];
      std::vector<int> into;
      for (int d = target == DeferTarget::kValleys ? 0 : 1; d <= reach; ++d) {
        const int to = (h + d) % kHoursPerWeek;
        if (target == DeferTarget::kValleys || off[static_cast<std::size_t>(to)] >= 1.0) {
          into.push_back(to);
        }
      }
      const Tokens moving = target == DeferTarget::kOffPeak ? orig.peak.scaled(m.deferrable_share)
                                                            : orig.total().scaled(m.deferrable_share);
      if (into.empty() || moving.requests <= 0) {
        continue;
      }
      src.peak.add(orig.peak, -m.deferrable_share);
      if (target == DeferTarget::kValleys) {
        src.off_peak.add(orig.off_peak, -m.deferrable_share);
      }
      double amount = level(moving);
      levels[static_cast<std::size_t>(h)] -= amount;
      if (amount <= 0) {
        amount = moving.requests;  // a level that ignores these tokens: spread by requests
      }
      const auto share = water_fill(levels, into, amount);
      for (int to : into) {
        const double f = share[static_cast<std::size_t>(to)];
        if (f <= 0) {
          continue;
        }
        auto& dst = m.hours[static_cast<std::size_t>(to)];
        if (target == DeferTarget::kOffPeak) {
          dst.off_peak.add(moving, f);
        } else {
          add_spread(dst, moving.scaled(f), off[static_cast<std::size_t>(to)]);
        }
        levels[static_cast<std::size_t>(to)] += level(moving.scaled(f));
      }
    }
  }
  return out;
}

}  // namespace sluice::plan
