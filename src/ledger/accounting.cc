#include "ledger/accounting.h"

#include <ctime>

#include "common/coarse_clock.h"
#include "ledger/pricing.h"

namespace sluice::ledger {

namespace {
std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(CoarseWallClock::now().time_since_epoch())
      .count();
}
}  // namespace

std::unique_ptr<Accounting> Accounting::make(const config::Config& cfg, std::string& error,
                                             const Accounting* prev, const config::Config* prev_cfg) {
  auto a = std::make_unique<Accounting>();
  a->cfg_ = &cfg;
  if (prev && prev_cfg && prev_cfg->ledger == cfg.ledger) {
    a->ledger_ = prev->ledger_;
  } else if (cfg.ledger.enabled) {
    a->ledger_ = Ledger::open(cfg.ledger, error);
    if (!a->ledger_) {
      return nullptr;
    }
  }
  // Cost children exist for every configured key × model × deployment upstream: the hot path only increments.
  auto& reg = telemetry::metrics();
  auto& cost = reg.counter("sluice_cost_usd_total", "Upstream cost of answers, from the price table",
                           {"key", "model", "upstream"});
  auto& savings = reg.counter("sluice_savings_usd_total", "Cost avoided by cached and coalesced answers",
                              {"key", "model", "upstream"});
  std::vector<std::string> keys;
  for (const auto& k : cfg.keys) {
    keys.push_back(k.name);
  }
  if (keys.empty()) {
    keys.emplace_back();
  }
  for (const auto& [name, m] : cfg.models) {
    for (const auto& d : m.deployments) {
      for (const auto& k : keys) {
        a->money_.try_emplace(std::make_tuple(k, name, d.upstream),
                              Money{&cost.with({k, name, d.upstream}), &savings.with({k, name, d.upstream})});
      }
    }
  }
  return a;
}

Accounting::Money* Accounting::money_for(std::string_view key, std::string_view model,
                                         std::string_view upstream) {
  auto it = money_.find(std::make_tuple(key, model, upstream));
  return it == money_.end() ? nullptr : &it->second;
}

double Accounting::count(const Charge& c, std::int64_t now_ms) {
  const double price = cost_usd(cfg_->pricing, c.upstream_model, c.usage.value_or(openai::Usage{}),
                                static_cast<std::time_t>(now_ms / 1000));
  if (Money* m = money_for(c.key, c.model, c.upstream)) {
    (c.source == "upstream" ? m->cost : m->savings)->inc(price);
  }
  return price;
}

double Accounting::count(const Charge& c) { return count(c, unix_ms()); }

void Accounting::record(const Charge& c) {
  const auto now_ms = unix_ms();
  const double price = count(c, now_ms);
  if (!ledger_) {
    return;
  }
  const openai::Usage u = c.usage.value_or(openai::Usage{});
  const bool billed = c.source == "upstream";
  UsageRecord r;
  r.ts_ms = now_ms;
  r.key = c.key;
  r.model = c.model;
  r.upstream = c.upstream;
  r.upstream_model = c.upstream_model;
  r.source = c.source;
  r.stream = c.stream;
  r.status = c.status;
  r.prompt = u.prompt_tokens;
  r.completion = u.completion_tokens;
  r.cache_hit = u.prompt_cache_hit_tokens;
  r.cache_miss = u.prompt_cache_miss_tokens;
  r.reasoning = u.reasoning_tokens;
  (billed ? r.cost_usd : r.savings_usd) = price;
  ledger_->record(r);
}

}  // namespace sluice::ledger
