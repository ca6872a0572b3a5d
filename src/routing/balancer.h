#pragma once
// Picks one host among candidates. Pure: the caller passes each host's load snapshot and an RNG.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <span>
#include <string_view>

namespace sluice::routing {

enum class BalancerKind : std::uint8_t { kRoundRobin, kWeightedRandom, kLeastRequest, kPeakEwma, kLoadAware };

std::string_view to_string(BalancerKind k);
bool parse_balancer(std::string_view s, BalancerKind& out);

struct HostLoad {
  std::uint32_t weight = 1;
  std::int64_t in_flight = 0;
  double ttft_ewma_ms = 0;  // 0 = no sample yet (optimistic: try it)
  double weight_factor = 1.0;  // slow start after an ejection: < 1 while the host ramps up
  double load_cost = -1;       // load-aware cost from the host's own metrics; < 0 = no fresh report
  double success_rate = 1.0;   // recent share of successful attempts; P2C costs are divided by its square
};

class Balancer {
 public:
  explicit Balancer(BalancerKind kind) : kind_(kind) {}
  BalancerKind kind() const { return kind_; }

  // `candidates` are indices into `hosts`; must be non-empty. Returns one of them.
  std::size_t pick(std::span<const std::size_t> candidates, std::span<const HostLoad> hosts,
                   std::mt19937_64& rng);

  // Peak-EWMA cost: latency estimate × (in-flight + 1).
  static double cost(const HostLoad& h) { return h.ttft_ewma_ms * double(h.in_flight + 1); }
  // A host that fails fast looks idle (no in-flight, no latency): without this it would draw most traffic.
  static double reliability(const HostLoad& h) {
    double s = std::max(0.05, h.success_rate);
    return s * s;
  }
  static double effective_weight(const HostLoad& h) { return double(h.weight) * h.weight_factor; }

 private:
  BalancerKind kind_;
  std::atomic<std::uint64_t> rr_{0};  // shared across workers; relaxed is enough for fairness
};

}  // namespace sluice::routing
