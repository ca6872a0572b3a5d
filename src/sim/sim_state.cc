#include "sim/sim_state.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace sluice::sim {

SimState::SimState(Scenario scenario, uint64_t seed)
    : scenario_(std::move(scenario)), seed_(seed), start_(std::chrono::steady_clock::now()),
      capacity_(scenario_.phases.front().slots) {}

std::chrono::milliseconds SimState::uptime() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_);
}

const Phase& SimState::phase() {
  std::size_t idx = scenario_.phase_index_at(uptime());
  std::size_t prev = phase_index_.load(std::memory_order_relaxed);
  if (idx != prev && phase_index_.compare_exchange_strong(prev, idx)) {
    const Phase& p = scenario_.phases[idx];
    spdlog::info("sim: phase '{}' begins (slots {}, overload {}, outage {})", p.name, p.slots,
                 to_string(p.overload),
                 p.outage == OutageMode::kNone ? "none" : (p.outage == OutageMode::kErrors ? "errors" : "refuse"));
    capacity_.set_slots(p.slots);
  }
  return scenario_.phases[idx];
}

Gauges SimState::gauges() {
  const Phase& p = phase();
  Gauges g;
  g.model = scenario_.models.front();
  g.phase = p.name;
  g.running = capacity_.running();
  g.waiting = capacity_.waiting();
  g.slots = capacity_.slots();
  double kv_total = static_cast<double>(p.slots) * static_cast<double>(p.kv_tokens_per_slot);
  double used = static_cast<double>(std::max<int64_t>(0, stats_.active_kv_tokens.load()));
  g.kv_usage = kv_total > 0 ? std::min(1.0, used / kv_total) : 0.0;
  g.kv_blocks = static_cast<uint64_t>(kv_total / 16);
  g.uptime_ms = static_cast<uint64_t>(uptime().count());
  return g;
}

}  // namespace sluice::sim
