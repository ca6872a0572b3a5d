#pragma once
// Process-wide hedge counters by model (sluice_hedges_total{model,result}). A hedge is rare (bounded by the
// retry budget), so a short lock per hedge is fine.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace sluice::gateway {

class HedgeStats {
 public:
  struct Counts {
    std::atomic<std::uint64_t> won{0};   // the hedge answered
    std::atomic<std::uint64_t> lost{0};  // the primary answered (or neither did)
  };
  void record(std::string_view model, bool hedge_won);
  std::uint64_t won(std::string_view model) const;
  std::uint64_t lost(std::string_view model) const;
  // Calls f(model, won, lost) for every model that hedged.
  template <class F>
  void for_each(F&& f) const {
    std::lock_guard lock(mu_);
    for (const auto& [m, c] : by_model_) {
      f(m, c->won.load(std::memory_order_relaxed), c->lost.load(std::memory_order_relaxed));
    }
  }

 private:
  const Counts* find(std::string_view model) const;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Counts>, std::less<>> by_model_;
};

HedgeStats& hedge_stats();

}  // namespace sluice::gateway
