#include "gateway/hedge_stats.h"

namespace sluice::gateway {

void HedgeStats::record(std::string_view model, bool hedge_won) {
  std::lock_guard lock(mu_);
  auto it = by_model_.find(model);
  if (it == by_model_.end()) {
    it = by_model_.emplace(std::string(model), std::make_unique<Counts>()).first;
  }
  (hedge_won ? it->second->won : it->second->lost).fetch_add(1, std::memory_order_relaxed);
}

const HedgeStats::Counts* HedgeStats::find(std::string_view model) const {
  std::lock_guard lock(mu_);
  auto it = by_model_.find(model);
  return it == by_model_.end() ? nullptr : it->second.get();
}

std::uint64_t HedgeStats::won(std::string_view model) const {
  const Counts* c = find(model);
  return c ? c->won.load(std::memory_order_relaxed) : 0;
}

std::uint64_t HedgeStats::lost(std::string_view model) const {
  const Counts* c = find(model);
  return c ? c->lost.load(std::memory_order_relaxed) : 0;
}

HedgeStats& hedge_stats() {
  static HedgeStats s;
  return s;
}

}  // namespace sluice::gateway
