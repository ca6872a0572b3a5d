#include "gateway/hedge_stats.h"

namespace sluice::gateway {

void HedgeStats::record(std::string_view model, bool hedge_won) {
  Counters c;
  {
    std::lock_guard lock(mu_);
    auto it = by_model_.find(model);
    if (it == by_model_.end()) {
      auto& family = telemetry::metrics().counter("sluice_hedges_total",
                                                  "Hedged attempts by outcome: won = the hedge answered.",
                                                  {"model", "result"});
      const std::string m(model);
      it = by_model_.emplace(m, Counters{&family.with({m, "won"}), &family.with({m, "lost"})}).first;
    }
    c = it->second;
  }
  (hedge_won ? c.won : c.lost)->inc();
}

HedgeStats& hedge_stats() {
  static HedgeStats s;
  return s;
}

}  // namespace sluice::gateway
