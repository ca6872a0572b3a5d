#pragma once
// State shared by every worker of one sim process: the scenario clock, the GPU capacity, the prefix
// cache and the counters. Everything here is thread-safe (atomics or internally locked).
#include <atomic>
#include <chrono>
#include <cstdint>

#include "sim/capacity.h"
#include "sim/metrics.h"
#include "sim/prefix_cache.h"
#include "sim/scenario.h"

namespace sluice::sim {

class SimState {
 public:
  SimState(Scenario scenario, uint64_t seed);

  // The phase in force now; applies its slot count to the capacity model when the phase changes.
  const Phase& phase();
  const Scenario& scenario() const { return scenario_; }
  uint64_t seed() const { return seed_; }
  // A per-request sequence number: with the seed it makes request N replay identically.
  uint64_t next_request_seq() { return seq_.fetch_add(1, std::memory_order_relaxed); }

  Capacity& capacity() { return capacity_; }
  PrefixCache& prefix_cache() { return cache_; }
  Stats& stats() { return stats_; }
  std::atomic<int64_t>& inflight() { return inflight_; }

  Gauges gauges();
  std::chrono::milliseconds uptime() const;

 private:
  Scenario scenario_;
  uint64_t seed_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<std::size_t> phase_index_{0};
  std::atomic<uint64_t> seq_{0};
  std::atomic<int64_t> inflight_{0};  // admitted requests (running + queued), for the account limit
  Capacity capacity_;
  PrefixCache cache_;
  Stats stats_;
};

}  // namespace sluice::sim
