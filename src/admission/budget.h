#pragma once
// Spend budgets: a virtual key's daily and monthly USD caps (UTC calendar days and months). A request reserves
// its estimated cost before the call (counted against the cap while it runs) and settles with its real cost
// after; it is admitted while spent + reserved is below the cap, so spending stops within one request's cost of
// the cap. This file: the estimate (price ceilings), the real cost, the refusal's message; the accounting is
// state/spend.h.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "config/admission_config.h"
#include "config/config.h"
#include "openai/usage.h"
#include "state/spend.h"

namespace sluice::admission {

// The spend accounting itself lives with the state backends (state/spend.h).
using state::budget_check;
using state::budget_periods;
using state::BudgetAccount;
using state::BudgetCaps;
using state::BudgetPeriod;
using state::BudgetPeriods;
using state::BudgetVerdict;
using state::NanoUsd;
using state::to_nano_usd;
using state::to_string;
using state::to_usd;

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
