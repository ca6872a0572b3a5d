#include "routing/balancer.h"

namespace sluice::routing {

std::string_view to_string(BalancerKind k) {
  switch (k) {
    case BalancerKind::kRoundRobin: return "round_robin";
    case BalancerKind::kWeightedRandom: return "weighted_random";
    case BalancerKind::kLeastRequest: return "least_request";
    case BalancerKind::kPeakEwma: return "peak_ewma";
  }
  return "?";
}

bool parse_balancer(std::string_view s, BalancerKind& out) {
  for (auto k : {BalancerKind::kRoundRobin, BalancerKind::kWeightedRandom, BalancerKind::kLeastRequest,
                 BalancerKind::kPeakEwma}) {
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
    case BalancerKind::kRoundRobin:
      return candidates[rr_.fetch_add(1, std::memory_order_relaxed) % n];
    case BalancerKind::kWeightedRandom: {
      std::uint64_t total = 0;
      for (auto i : candidates) {
        total += hosts[i].weight;
      }
      if (total == 0) {
        return candidates[std::uniform_int_distribution<std::size_t>(0, n - 1)(rng)];
      }
      auto r = std::uniform_int_distribution<std::uint64_t>(0, total - 1)(rng);
      for (auto i : candidates) {
        if (r < hosts[i].weight) {
          return i;
        }
        r -= hosts[i].weight;
      }
      return candidates[n - 1];
    }
    case BalancerKind::kLeastRequest:
    case BalancerKind::kPeakEwma: {
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
      if (kind_ == BalancerKind::kLeastRequest) {
        // Weighted least-request: in-flight relative to weight.
        pick_b = double(hb.in_flight + 1) / std::max(1u, hb.weight) < double(ha.in_flight + 1) / std::max(1u, ha.weight);
      } else {
        pick_b = cost(hb) < cost(ha);
      }
      return candidates[pick_b ? b : a];
    }
  }
  return candidates[0];
}

}  // namespace sluice::routing
