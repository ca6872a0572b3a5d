#pragma once
// Per-key (and per key and model) limits: requests and tokens per window (GCRA, lock-free) and concurrent
// requests (an atomic count). The counters live in shared_ptrs keyed by key name so a config reload can
// hand them to the new state (Admission::carry_over) and a tenant's budget survives the reload.
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admission/admission_metrics.h"
#include "admission/gcra.h"
#include "config/admission_config.h"

namespace sluice::admission {

struct LimitCounters {
  AtomicGcra requests;
  AtomicGcra tokens;
  std::atomic<std::uint32_t> in_flight{0};
};

struct LimitSet {
  GcraParams requests;
  GcraParams tokens;
  std::uint32_t max_concurrent = 0;
  std::shared_ptr<LimitCounters> counters = std::make_shared<LimitCounters>();

  explicit LimitSet(const config::RateLimits& l);
  bool any() const { return !requests.unlimited() || !tokens.unlimited() || max_concurrent != 0; }
};

struct KeyEntry {
  std::string name;
  config::KeyPolicy policy;
  LimitSet all;
  std::map<std::string, LimitSet, std::less<>> models;  // per-model limits of this key
  std::array<telemetry::Counter*, 3> limited{};         // sluice_rate_limited_total by kind

  explicit KeyEntry(std::string n, const config::KeyPolicy& p);
  bool allows(std::string_view model) const;
  const LimitSet* model_limits(std::string_view model) const;
};

enum class LimitKind : std::uint8_t { kNone, kRequests, kTokens, kConcurrency };
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
};

// Holds a key's concurrency slots and its token charge until the request ends.
class KeyTicket {
 public:
  KeyTicket() = default;
  KeyTicket(const KeyTicket&) = delete;
  KeyTicket& operator=(const KeyTicket&) = delete;
  ~KeyTicket();
  // Replaces the estimate with the real usage (refund or extra charge).
  void reconcile(std::uint64_t actual_tokens, Nanos now);
  std::uint64_t charged_tokens() const { return tokens_; }

 private:
  friend KeyDecision check_key(const KeyEntry&, std::string_view, std::uint64_t, Nanos, KeyTicket&);
  struct Held {
    std::shared_ptr<LimitCounters> counters;
    GcraParams tokens;
    bool concurrency = false;
  };
  std::vector<Held> held_;
  std::uint64_t tokens_ = 0;
  bool reconciled_ = false;
};

// Charges one request of `tokens` estimated tokens to the key (and key+model) limits, all or nothing.
KeyDecision check_key(const KeyEntry& key, std::string_view model, std::uint64_t tokens, Nanos now,
                      KeyTicket& ticket);

}  // namespace sluice::admission
