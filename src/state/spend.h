#pragma once
// Spend accounting, the core of a key's budget (admission/budget.h has the policy: estimates, prices, messages):
// money in integer nano-USD so sums are exact and Redis can add them, UTC calendar days and months, and the
// admission rule every backend applies: room is left while spent + reserved < cap. Here, below admission,
// because the state backends keep these accounts (in-process, and as this replica's share while Redis is away).
// Pure: the caller passes the wall clock (unix ms) and holds any lock.
#include <cstdint>

#include "config/admission_config.h"

namespace sluice::state {

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

}  // namespace sluice::state
