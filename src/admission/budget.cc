#include "admission/budget.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "ledger/pricing.h"

namespace sluice::admission {

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

std::map<std::string, PriceCeiling, std::less<>> price_ceilings(const config::Config& cfg) {
  std::map<std::string, PriceCeiling, std::less<>> out;
  for (const auto& [name, m] : cfg.models) {
    PriceCeiling c;
    for (const auto& d : m.deployments) {
      if (auto it = cfg.pricing.find(d.upstream_model); it != cfg.pricing.end()) {
        c.input = std::max({c.input, it->second.input_cache_miss, it->second.input_cache_hit});
        c.output = std::max(c.output, it->second.output);
      }
    }
    out.emplace(name, c);
  }
  return out;
}

NanoUsd estimate_cost(const PriceCeiling& p, std::uint64_t prompt_tokens, std::uint64_t completion_tokens) {
  // USD per 1M tokens = 1000 nano-USD per token.
  return static_cast<NanoUsd>(
      std::llround((double(prompt_tokens) * p.input + double(completion_tokens) * p.output) * 1000.0));
}

std::optional<double> answer_cost_usd(const config::Config& cfg, unsigned attempts, const std::string& upstream_model,
                                      const std::optional<openai::Usage>& usage) {
  if (attempts == 0) {
    return 0.0;
  }
  if (!usage) {
    return std::nullopt;
  }
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  return ledger::cost_usd(cfg.pricing, upstream_model, *usage, now);
}

std::string format_wait(std::int64_t ms) {
  const std::int64_t m = std::max<std::int64_t>(1, (ms + 59'999) / 60'000);
  if (m < 60) {
    return fmt::format("{}m", m);
  }
  if (m < 24 * 60) {
    return fmt::format("{}h{}m", m / 60, m % 60);
  }
  return fmt::format("{}d{}h", m / (24 * 60), (m / 60) % 24);
}

std::string budget_message(std::string_view key, const BudgetVerdict& v, std::int64_t unix_ms) {
  const auto resets = std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(v.resets_at_ms));
  return fmt::format(
      "Budget exceeded for key {}: the {} budget of ${:.2f} is spent (${:.4f} spent or reserved by requests in "
      "flight). It resets in {}, at {:%Y-%m-%dT%H:%M:%S}Z.",
      key, to_string(v.period), to_usd(v.cap), to_usd(v.used), format_wait(v.resets_at_ms - unix_ms),
      std::chrono::floor<std::chrono::seconds>(resets));
}

}  // namespace sluice::admission
