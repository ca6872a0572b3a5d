#pragma once
// Where a request's cost goes: the price table turns its usage into USD, the cost (or, for cached and
// coalesced answers, savings) counters per key, model and upstream count it, and the usage ledger stores it.
// One per config generation; the ledger itself is kept across reloads that leave its settings unchanged.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "config/config.h"
#include "ledger/ledger.h"
#include "openai/usage.h"
#include "telemetry/metrics.h"

namespace sluice::ledger {

// One request's account.
struct Charge {
  std::string_view source;  // upstream | cache | coalesced | stale
  std::string_view key, model, upstream;
  const std::string& upstream_model;  // the id prices are listed by
  bool stream = false;
  unsigned status = 0;
  const std::optional<openai::Usage>& usage;
};

class Accounting {
 public:
  // Null + error when the ledger file cannot be opened. `prev`: the running generation's, on a reload.
  static std::unique_ptr<Accounting> make(const config::Config& cfg, std::string& error,
                                          const Accounting* prev = nullptr,
                                          const config::Config* prev_cfg = nullptr);

  void record(const Charge& c);
  // The cost metrics only, no ledger row (the Batch API's lines reach the ledger from the batch store, once:
  // docs/batch.md); the price, as record() would put it in the ledger.
  double count(const Charge& c);
  Ledger* ledger() const { return ledger_.get(); }
  // The ledger, kept alive by the holder across reloads (null when ledger.enabled is false).
  std::shared_ptr<Ledger> shared_ledger() const { return ledger_; }

 private:
  struct Money {
    telemetry::Counter* cost;
    telemetry::Counter* savings;
  };
  Money* money_for(std::string_view key, std::string_view model, std::string_view upstream);
  double count(const Charge& c, std::int64_t now_ms);

  const config::Config* cfg_ = nullptr;
  std::shared_ptr<Ledger> ledger_;  // null when ledger.enabled is false
  // Looked up by string_views without building strings. Compared as views: clang 14 cannot compare a tuple
  // of strings with a tuple of views through libstdc++ 12's operator<=> (the fuzz build).
  struct ViewsLess {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      using Views = std::tuple<std::string_view, std::string_view, std::string_view>;
      return Views(std::get<0>(a), std::get<1>(a), std::get<2>(a)) <
             Views(std::get<0>(b), std::get<1>(b), std::get<2>(b));
    }
  };
  std::map<std::tuple<std::string, std::string, std::string>, Money, ViewsLess>
      money_;  // key, model, upstream
};

}  // namespace sluice::ledger
