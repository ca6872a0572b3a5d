#include "admission/admission.h"

#include "admission/admission_metrics.h"
#include "admission/token_estimate.h"

namespace sluice::admission {

Admission::Admission(const config::Config& cfg, std::shared_ptr<state::Backend> backend)
    : backend_(std::move(backend)), prices_(price_ceilings(cfg)) {
  pending_work_total();  // the autoscaling signal exists (at 0) even when no group has a gate
  for (const auto& k : cfg.keys) {
    auto entry = std::make_unique<KeyEntry>(k.name, k.policy, *backend_);
    has_key_limits_ = has_key_limits_ || entry->all.any() || !entry->models.empty() || entry->spend;
    keys_.emplace(k.name, std::move(entry));
  }
  for (const auto& [model, g] : cfg.admission.groups) {
    groups_.emplace(model, g);
    if (g.max_concurrent != 0) {
      gates_.emplace(model, std::make_shared<GroupGate>(model, g, cfg.admission));
    }
  }
  admission_ = cfg.admission;
}

void Admission::carry_over(const Admission& old, Admission& fresh) {
  // Counters of another backend (local → redis) are not carried: the new backend holds its own state.
  const bool same_backend = old.backend_ == fresh.backend_;
  for (auto& [name, entry] : fresh.keys_) {
    auto it = old.keys_.find(name);
    if (!same_backend || it == old.keys_.end()) {
      continue;
    }
    entry->all.counters = it->second->all.counters;
    for (auto& [model, set] : entry->models) {
      if (auto m = it->second->models.find(model); m != it->second->models.end()) {
        set.counters = m->second.counters;
      }
    }
    if (entry->spend && it->second->spend) {
      entry->spend = it->second->spend;
    }
  }
  for (auto& [model, gate] : fresh.gates_) {
    auto it = old.gates_.find(model);
    if (it != old.gates_.end()) {
      it->second->reconfigure(fresh.groups_.at(model), fresh.admission_);
      gate = it->second;
    }
  }
}

const KeyEntry* Admission::key(std::string_view name) const {
  auto it = keys_.find(name);
  return it == keys_.end() ? nullptr : it->second.get();
}

const std::shared_ptr<GroupGate>* Admission::gate(std::string_view model) const {
  auto it = gates_.find(model);
  return it == gates_.end() ? nullptr : &it->second;
}

Priority Admission::priority_for(const KeyEntry* key, std::string_view header) {
  Priority p = key ? key->policy.default_priority : Priority::kMedium;
  if (auto asked = config::parse_priority(header)) {
    p = *asked;
  }
  if (key && p < key->policy.max_priority) {
    p = key->policy.max_priority;
  }
  return p;
}

const std::string& Admission::degrade_to(std::string_view model, Priority prio) const {
  static const std::string kNone;
  auto it = groups_.find(model);
  return it == groups_.end() ? kNone : it->second.degrade_to[static_cast<std::size_t>(prio)];
}

RequestCost Admission::estimate(const KeyEntry& key, std::string_view model, const std::string& body,
                                std::optional<std::int64_t> max_tokens) const {
  RequestCost c;
  const bool need_tokens = key.counts_tokens(model);
  const bool need_usd = key.spend != nullptr;
  if (!need_tokens && !need_usd) {
    return c;
  }
  const std::uint64_t prompt = estimate_prompt_tokens(body);
  const std::uint64_t completion = max_tokens ? static_cast<std::uint64_t>(*max_tokens) : key.policy.default_max_tokens;
  if (need_tokens) {
    c.tokens = prompt + completion;
  }
  if (need_usd) {
    if (auto it = prices_.find(model); it != prices_.end()) {
      c.usd = estimate_cost(it->second, prompt, completion);
    }
  }
  return c;
}

void Admission::on_attempt(std::string_view model, std::optional<double> ttft_ms, bool overload_signal) const {
  if (auto it = gates_.find(model); it != gates_.end()) {
    it->second->on_attempt(ttft_ms, overload_signal);
  }
}

}  // namespace sluice::admission
