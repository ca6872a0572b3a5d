#pragma once
// Admission control, built from a Config: per-key limits and priorities, and one concurrency gate per model
// group that has one configured. Shared by all workers (its state is atomics and per-gate mutexes).
//
// Reload hook: a reload builds a new Admission from the new Config; call
// `Admission::carry_over(old, fresh)` before publishing the new state, so key budgets (by key name) and group
// gates (by model name: queue, in-flight count, learnt limit) carry across. Requests admitted under the old
// state keep their shared_ptrs and release into the same counters.
#include <map>
#include <memory>
#include <string>

#include "admission/budget.h"
#include "admission/group_gate.h"
#include "admission/key_limits.h"
#include "config/config.h"
#include "state/backend.h"

namespace sluice::admission {

class Admission {
 public:
  // `backend`: where key limits and budgets are counted (in-process by default, or shared through Redis).
  explicit Admission(const config::Config& cfg, std::shared_ptr<state::Backend> backend = state::local_backend());

  static void carry_over(const Admission& old, Admission& fresh);

  // nullptr: unknown key name (or auth off: the empty name).
  const KeyEntry* key(std::string_view name) const;
  // nullptr: the group has no gate (no max_concurrent configured).
  const std::shared_ptr<GroupGate>* gate(std::string_view model) const;
  // X-Priority value (may be empty) → class, defaulted and capped by the key's policy.
  static Priority priority_for(const KeyEntry* key, std::string_view header);
  // Degradation: the model that serves `prio` requests of `model` while that class is shed; empty = none.
  const std::string& degrade_to(std::string_view model, Priority prio) const;

  // Feedback from one upstream attempt of `model`'s group (adaptive limit).
  void on_attempt(std::string_view model, std::optional<double> ttft_ms, bool overload_signal) const;

  const std::map<std::string, std::shared_ptr<GroupGate>, std::less<>>& gates() const { return gates_; }
  bool has_key_limits() const { return has_key_limits_; }
  const std::map<std::string, std::unique_ptr<KeyEntry>, std::less<>>& keys() const { return keys_; }
  state::Backend& backend() const { return *backend_; }

  // What a request of `model` is estimated to cost before the call: tokens (when a token limit applies) and
  // USD at the group's dearest deployment (when the key has a budget).
  RequestCost estimate(const KeyEntry& key, std::string_view model, const std::string& body,
                       std::optional<std::int64_t> max_tokens) const;

 private:
  std::shared_ptr<state::Backend> backend_;
  std::map<std::string, PriceCeiling, std::less<>> prices_;  // by model group
  std::map<std::string, std::unique_ptr<KeyEntry>, std::less<>> keys_;
  std::map<std::string, std::shared_ptr<GroupGate>, std::less<>> gates_;
  std::map<std::string, config::AdmissionGroup, std::less<>> groups_;
  config::AdmissionConfig admission_;
  bool has_key_limits_ = false;
};

}  // namespace sluice::admission
