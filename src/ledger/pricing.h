#pragma once
// Cost of one answer from the price table: USD per 1M tokens for cache-hit input, cache-miss input and
// output, times the off-peak multiplier when the request falls in an off-peak window (UTC).
#include <ctime>
#include <map>
#include <string>

#include "config/config.h"
#include "openai/usage.h"

namespace sluice::ledger {

// Whether unix time `t` is off-peak for `p` (always false without windows).
bool is_off_peak(const config::Price& p, std::time_t t);

double cost_usd(const config::Price& p, const openai::Usage& u, std::time_t t);

// Cost by upstream model id; 0 for a model without a price.
double cost_usd(const std::map<std::string, config::Price>& table, const std::string& upstream_model,
                const openai::Usage& u, std::time_t t);

}  // namespace sluice::ledger
