#pragma once
// Spend budgets: a virtual key's daily and monthly USD caps (UTC calendar days and months). Money is counted in
// integer nano-USD so sums are exact and Redis can add them. A request reserves its estimated cost before the
// call (counted against the cap while it runs) and settles with its real cost after; it is admitted while
// spent + reserved is below the cap, so spending stops within one request's cost of the cap.
// Pure: the caller passes the wall clock (unix ms) and holds any lock.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "config/admission_config.h"
#include "config/config.h"
#include "openai/usage.h"

namespace sluice::admission {

using NanoUsd = std::int64_t;
NanoUsd to_nano_usd(double usd);
double to_usd(NanoUsd n);

// The UTC day and month `unix_ms` falls in, and when each ends.
struct BudgetPeriods {
  std::int64_t day = 0;    // days since 1970-01-01
  std::int64_t month = 0;  // year * 12 + (month - 1)
  std::int64_t day_end_ms = 0;
  std::int64_t month_end_ms = 0;
};
BudgetPeriods budget_periods(std::int64_t unix_ms);

enum class BudgetPeriod : std::uint8_t { kDay, kMonth };
const char* to_string(BudgetPeriod p);

struct BudgetCaps {
  NanoUsd day = 0;  // 0 = no cap
  NanoUsd month = 0;
  static BudgetCaps from(const config::Budget& b);
  bool any() const { return day > 0 || month > 0; }
};

struct BudgetVerdict {
  bool allowed = true;
  BudgetPeriod period = BudgetPeriod::kDay;  // refused: the cap that is spent
  NanoUsd cap = 0;
  NanoUsd used = 0;               // spent + reserved in that period
  std::int64_t resets_at_ms = 0;  // refused: when that cap's period ends
};

// Admission rule shared by every backend: room is left while spent + reserved < cap (0 cap = unlimited).
BudgetVerdict budget_check(const BudgetCaps& caps, NanoUsd day_used, NanoUsd month_used,
                           const BudgetPeriods& at);

// One key's spend in one process (the local backend, and the replica's view while Redis is away).
class BudgetAccount {
 public:
  explicit BudgetAccount(BudgetCaps caps) : caps_(caps) {}
  void set_caps(BudgetCaps caps) { caps_ = caps; }
  const BudgetCaps& caps() const { return caps_; }

  // Admits when both periods have room, then reserves `estimate`.
  BudgetVerdict reserve(NanoUsd estimate, std::int64_t unix_ms);
  // Ends a reservation: `estimate` leaves the reserved sum and `actual` is spent (in the period of `unix_ms`).
  void settle(NanoUsd estimate, NanoUsd actual, std::int64_t unix_ms);

  struct View {
    NanoUsd day_spent = 0;
    NanoUsd month_spent = 0;
    NanoUsd reserved = 0;
    BudgetPeriods periods;
  };
  View view(std::int64_t unix_ms);

 private:
  void roll(std::int64_t unix_ms);

  BudgetCaps caps_;
  std::int64_t day_ = -1;
  std::int64_t month_ = -1;
  NanoUsd day_spent_ = 0;
  NanoUsd month_spent_ = 0;
  NanoUsd reserved_ = 0;  // requests in flight; carried over a period change (they settle in the new one)
};

// The dearest price among a model group's deployments (USD per 1M tokens), for cost estimates before the
// call, when the deployment that will answer is not known yet.
struct PriceCeiling {
  double input = 0;   // cache-miss input
  double output = 0;
};
std::map<std::string, PriceCeiling, std::less<>> price_ceilings(const config::Config& cfg);
// Estimated cost of `prompt_tokens` in and `completion_tokens` out at the ceiling price (no off-peak discount).
NanoUsd estimate_cost(const PriceCeiling& p, std::uint64_t prompt_tokens, std::uint64_t completion_tokens);

// What an upstream answer cost by the price table (`upstream_model` priced, usage at this moment's peak or
// off-peak price): 0 without an attempt, nullopt when attempts were made but no usage came back (a budget then
// keeps its estimate).
std::optional<double> answer_cost_usd(const config::Config& cfg, unsigned attempts, const std::string& upstream_model,
                                      const std::optional<openai::Usage>& usage);

// "2h14m", "3d4h": time until a budget resets, for error messages.
std::string format_wait(std::int64_t ms);

// The 429 message of a spent budget: which cap, how much, and when it resets (UTC).
std::string budget_message(std::string_view key, const BudgetVerdict& v, std::int64_t unix_ms);

}  // namespace sluice::admission
