#include "routing/balancer.h"

namespace sluice::routing {

std::string_view to_string(BalancerKind k) {
  switch (k) {
    case BalancerKind::kRoundRobin: return "round_robin";
    case BalancerKind::kWeightedRandom: return "weighted_random";
    case BalancerKind::kLeastRequest: return "least_request";
    case BalancerKind::kPeakEwma: return "peak_ewma";
    case BalancerKind::kLoadAware: return "load_aware";
  }
  return "?";
}

bool parse_balancer(std::string_view s, BalancerKind& out) {
  for (auto k : {BalancerKind::kRoundRobin, BalancerKind::kWeightedRandom, BalancerKind::kLeastRequest,
                 BalancerKind::kPeakEwma, BalancerKind::kLoadAware}) {
    if (s == to_string(k)) {
      out = k;
      return true;
    }
  }
  return false;
}

std::size_t Balancer::pick(std::span<const std::size_t> candidates, std::span<const HostLoad> hosts,
                           std::mt19937_64& rng) {
  const std::size_t n = candidates.size();
  if (n == 1) {
    return candidates[0];
  }
  switch (kind_) {
    case BalancerKind::kRoundRobin: {
      // A slow-starting host takes its turn only with probability weight_factor; otherwise the next one does.
      std::size_t first = rr_.fetch_add(1, std::memory_order_relaxed) % n;
      for (std::size_t k = 0; k < n; ++k) {
        std::size_t i = candidates[(first + k) % n];
        if (hosts[i].weight_factor >= 1.0 ||
            std::uniform_real_distribution<double>(0, 1)(rng) < hosts[i].weight_factor) {
          return i;
        }
      }
      return candidates[first];
    }
    case BalancerKind::kWeightedRandom: {
      double total = 0;
      for (auto i : candidates) {
        total += effective_weight(hosts[i]);
      }
      if (total <= 0) {
        return candidates[std::uniform_int_distribution<std::size_t>(0, n - 1)(rng)];
      }
      double r = std::uniform_real_distribution<double>(0, total)(rng);
      for (auto i : candidates) {
        double w = effective_weight(hosts[i]);
        if (w > 0 && r < w) {
          return i;
        }
        r -= w;
      }
      for (std::size_t k = n; k-- > 0;) {
        if (effective_weight(hosts[candidates[k]]) > 0) {
          return candidates[k];
        }
      }
      return candidates[n - 1];
    }
    case BalancerKind::kLeastRequest:
    case BalancerKind::kPeakEwma:
    case BalancerKind::kLoadAware: {
      // Power of two choices: two distinct random candidates, keep the cheaper (ties: the first draw).
      std::uniform_int_distribution<std::size_t> d(0, n - 1);
      std::size_t a = d(rng);
      std::size_t b = std::uniform_int_distribution<std::size_t>(0, n - 2)(rng);
      if (b >= a) {
        ++b;
      }
      const auto& ha = hosts[candidates[a]];
      const auto& hb = hosts[candidates[b]];
      bool pick_b;
      auto least = [](const HostLoad& h) {
        return double(h.in_flight + 1) /
               std::max(1e-3, double(std::max(1u, h.weight)) * h.weight_factor * reliability(h));
      };
      if (kind_ == BalancerKind::kLoadAware && ha.load_cost >= 0 && hb.load_cost >= 0) {
        pick_b = hb.load_cost / (hb.weight_factor * reliability(hb)) <
                 ha.load_cost / (ha.weight_factor * reliability(ha));
      } else if (kind_ == BalancerKind::kPeakEwma) {
        pick_b = cost(hb) / (hb.weight_factor * reliability(hb)) < cost(ha) / (ha.weight_factor * reliability(ha));
      } else {
        // Weighted least-request: in-flight relative to weight (also load-aware's answer without reports).
        pick_b = least(hb) < least(ha);
      }
      return candidates[pick_b ? b : a];
    }
  }
  return candidates[0];
}

}  // namespace sluice::routing
