#pragma once
// Per-key (and per key and model) limits: requests and tokens per window (GCRA), concurrent requests, and the
// key's spend budget. The counters come from the state backend (src/state/: in-process, or shared between
// replicas through Redis) and live in shared_ptrs keyed by key name, so a config reload can hand them to the
// new state (Admission::carry_over) and a tenant's budget survives the reload.
//
// Two ways to check a key, for an admit stage that wants no coroutine frame in the common case:
//   check_key()        decides without I/O when it can; a shared counter whose lease is used up makes it
//                      return a decision with `refill` set (nothing charged);
//   check_key_async()  the same, refilling those leases first (one round trip to the shared store).
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admission/admission_metrics.h"
#include "admission/budget.h"
#include "admission/gcra.h"
#include "config/admission_config.h"
#include "http/asio.h"
#include "state/backend.h"

namespace sluice::admission {

struct LimitCounters {
  std::shared_ptr<state::RateCounter> requests;
  std::shared_ptr<state::RateCounter> tokens;
  std::shared_ptr<state::SlotCounter> concurrency;
};

struct LimitSet {
  GcraParams requests;
  GcraParams tokens;
  std::uint32_t max_concurrent = 0;
  std::shared_ptr<LimitCounters> counters;

  // `scope`: "" for the key's own limits, the model name for its per-model limits.
  LimitSet(const config::RateLimits& l, state::Backend& backend, const std::string& key, const std::string& scope);
  bool any() const { return !requests.unlimited() || !tokens.unlimited() || max_concurrent != 0; }
};

struct KeyEntry {
  std::string name;
  config::KeyPolicy policy;
  LimitSet all;
  std::map<std::string, LimitSet, std::less<>> models;  // per-model limits of this key
  BudgetCaps budget;
  std::shared_ptr<state::SpendCounter> spend;           // null without a budget
  std::array<telemetry::Counter*, kLimitKinds> limited{};  // sluice_rate_limited_total by kind

  KeyEntry(std::string n, const config::KeyPolicy& p, state::Backend& backend);
  bool allows(std::string_view model) const;
  const LimitSet* model_limits(std::string_view model) const;
  // Anything to check for a request of `model` (limits or a budget)?
  bool checks(std::string_view model) const;
  bool counts_tokens(std::string_view model) const;  // a token limit applies (the estimate is needed)
};

// kNone must stay 0; the others index sluice_rate_limited_total's kinds (kind - 1).
enum class LimitKind : std::uint8_t { kNone, kRequests, kTokens, kConcurrency, kBudget, kUnavailable };
const char* to_string(LimitKind k);

// What the x-ratelimit-* headers report: the tighter of the key's and the key-model's limit.
struct RateView {
  std::uint64_t limit = 0;  // 0 = no such limit (no headers)
  std::uint64_t remaining = 0;
  Nanos reset_ns = 0;
};

struct KeyDecision {
  LimitKind rejected = LimitKind::kNone;
  bool too_large = false;  // the request's tokens exceed the bucket: retrying cannot help
  Nanos retry_after_ns = 0;
  RateView requests;
  RateView tokens;
  BudgetVerdict budget;  // rejected == kBudget: which cap, and when it resets
  // Not decided yet: these shared counters need a refill first (check_key_async does it).
  std::vector<state::Refillable*> refill;
  bool pending() const { return !refill.empty(); }
};

// What one request is estimated to cost before the call.
struct RequestCost {
  std::uint64_t tokens = 0;
  NanoUsd usd = 0;  // nano-USD
};

// Holds a key's concurrency slots, token charge and budget reservation until the request ends.
class KeyTicket {
 public:
  KeyTicket() = default;
  KeyTicket(const KeyTicket&) = delete;
  KeyTicket& operator=(const KeyTicket&) = delete;
  ~KeyTicket();
  // Replaces the token estimate with the real usage (refund or extra charge).
  void reconcile(std::uint64_t actual_tokens, Nanos now);
  // Replaces the cost estimate with the real cost (nullopt: unknown, the estimate stands). Without a call the
  // reservation ends at no cost (nothing was sent upstream).
  void settle_cost(std::optional<NanoUsd> actual, std::int64_t unix_ms, Nanos now);
  std::uint64_t charged_tokens() const { return tokens_; }
  NanoUsd reserved_usd() const { return usd_; }
  bool holds_budget() const { return spend_ != nullptr; }  // settle_cost() has work to do

 private:
  friend KeyDecision check_key(const KeyEntry&, std::string_view, const RequestCost&, Nanos, std::int64_t,
                               KeyTicket&);
  struct Held {
    std::shared_ptr<LimitCounters> counters;
    GcraParams tokens;
    bool concurrency = false;
  };
  std::vector<Held> held_;
  std::uint64_t tokens_ = 0;
  bool reconciled_ = false;
  std::shared_ptr<state::SpendCounter> spend_;
  NanoUsd usd_ = 0;
};

// Charges one request to the key (and key+model) limits and the key's budget, all or nothing. With shared
// counters it may return a pending decision (nothing charged): then call check_key_async.
KeyDecision check_key(const KeyEntry& key, std::string_view model, const RequestCost& cost, Nanos now,
                      std::int64_t unix_ms, KeyTicket& ticket);
// Without a budget check's wall clock (tests, callers without budgets).
KeyDecision check_key(const KeyEntry& key, std::string_view model, std::uint64_t tokens, Nanos now,
                      KeyTicket& ticket);

// check_key with refills: never pending. Waits at most the shared store's timeout per refill round.
net::awaitable<KeyDecision> check_key_async(state::Backend& backend, const KeyEntry& key, std::string_view model,
                                            RequestCost cost, KeyTicket& ticket);

}  // namespace sluice::admission
