#include "state/spend.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace sluice::state {

NanoUsd to_nano_usd(double usd) { return static_cast<NanoUsd>(std::llround(usd * 1e9)); }
double to_usd(NanoUsd n) { return double(n) / 1e9; }

BudgetPeriods budget_periods(std::int64_t unix_ms) {
  using namespace std::chrono;
  constexpr std::int64_t kDayMs = 86'400'000;
  BudgetPeriods p;
  p.day = unix_ms >= 0 ? unix_ms / kDayMs : (unix_ms - kDayMs + 1) / kDayMs;
  p.day_end_ms = (p.day + 1) * kDayMs;
  const year_month_day ymd{sys_days{days{p.day}}};
  p.month = int(ymd.year()) * 12 + int(unsigned(ymd.month())) - 1;
  const year_month_day next = year_month_day{ymd.year() / ymd.month() / 1} + months{1};
  p.month_end_ms = sys_days{next}.time_since_epoch().count() * kDayMs;
  return p;
}

const char* to_string(BudgetPeriod p) { return p == BudgetPeriod::kDay ? "daily" : "monthly"; }

BudgetCaps BudgetCaps::from(const config::Budget& b) {
  return {b.daily_usd > 0 ? to_nano_usd(b.daily_usd) : 0, b.monthly_usd > 0 ? to_nano_usd(b.monthly_usd) : 0};
}

BudgetVerdict budget_check(const BudgetCaps& caps, NanoUsd day_used, NanoUsd month_used,
                           const BudgetPeriods& at) {
  BudgetVerdict v;
  if (caps.month > 0 && month_used >= caps.month) {
    v = {false, BudgetPeriod::kMonth, caps.month, month_used, at.month_end_ms};
  }
  // The daily cap is reported first when both are spent: it resets sooner.
  if (caps.day > 0 && day_used >= caps.day) {
    v = {false, BudgetPeriod::kDay, caps.day, day_used, at.day_end_ms};
  }
  return v;
}

void BudgetAccount::roll(std::int64_t unix_ms) {
  const BudgetPeriods p = budget_periods(unix_ms);
  if (p.day != day_) {
    day_ = p.day;
    day_spent_ = 0;
  }
  if (p.month != month_) {
    month_ = p.month;
    month_spent_ = 0;
  }
}

BudgetVerdict BudgetAccount::reserve(NanoUsd estimate, std::int64_t unix_ms) {
  roll(unix_ms);
  BudgetVerdict v =
      budget_check(caps_, day_spent_ + reserved_, month_spent_ + reserved_, budget_periods(unix_ms));
  if (v.allowed) {
    reserved_ += std::max<NanoUsd>(estimate, 0);
  }
  return v;
}

void BudgetAccount::settle(NanoUsd estimate, NanoUsd actual, std::int64_t unix_ms) {
  roll(unix_ms);
  reserved_ = std::max<NanoUsd>(0, reserved_ - std::max<NanoUsd>(estimate, 0));
  day_spent_ += std::max<NanoUsd>(actual, 0);
  month_spent_ += std::max<NanoUsd>(actual, 0);
}

BudgetAccount::View BudgetAccount::view(std::int64_t unix_ms) {
  roll(unix_ms);
  return {day_spent_, month_spent_, reserved_, budget_periods(unix_ms)};
}

}  // namespace sluice::state
