#include "admission/budget.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "ledger/pricing.h"

namespace sluice::admission {

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
