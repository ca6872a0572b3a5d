#pragma once
// sluice_hedges_total{model,result}: result "won" when the hedge answered, "lost" when the primary did (or
// neither). A hedge is rare (bounded by the retry budget); the registry's children are resolved once per model
// and kept, so a hedge costs one short lock here, never the registry's.
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "telemetry/metrics.h"

namespace sluice::gateway {

class HedgeStats {
 public:
  void record(std::string_view model, bool hedge_won);

 private:
  struct Counters {
    telemetry::Counter* won;
    telemetry::Counter* lost;
  };
  std::mutex mu_;
  std::map<std::string, Counters, std::less<>> by_model_;
};

HedgeStats& hedge_stats();

}  // namespace sluice::gateway
