#pragma once
// The in-process counters: what one replica enforces alone (backend `local`), and what a Redis backend falls
// back to while Redis is away. Lock-free GCRA (one CAS per check), an atomic in-flight count, and a
// mutex-guarded budget account.
#include <atomic>
#include <mutex>
#include <string>

#include "state/counters.h"
#include "state/state_metrics.h"

namespace sluice::state {

class LocalRate : public RateCounter {
 public:
  // `key`, `name`: the labels of its overshoot gauge (empty: no gauge).
  LocalRate(std::string key = {}, std::string name = {}) : key_(std::move(key)), name_(std::move(name)) {}
  Verdict reserve(const GcraParams& p, std::uint64_t units, Nanos now) override;
  void settle(const GcraParams& p, std::uint64_t reserved, std::uint64_t actual, Nanos now) override;
  Verdict peek(const GcraParams& p, Nanos now) const override;

 private:
  void count(const GcraParams& p, std::int64_t units);

  AtomicGcra gcra_;
  std::string key_, name_;
  WindowTally tally_;
  std::atomic<telemetry::Gauge*> gauge_{nullptr};
};

class LocalSlots : public SlotCounter {
 public:
  Verdict acquire(std::uint32_t limit, Nanos now) override;
  void release(Nanos now) override;
  std::uint32_t in_flight() const override { return in_flight_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint32_t> in_flight_{0};
};

class LocalSpend : public SpendCounter {
 public:
  SpendVerdict reserve(const BudgetCaps& caps, NanoUsd estimate, std::int64_t unix_ms, Nanos now) override;
  void settle(NanoUsd estimate, NanoUsd actual, std::int64_t unix_ms, Nanos now) override;
  SpendView local_view(std::int64_t unix_ms) override;

 private:
  std::mutex mu_;
  BudgetAccount account_{BudgetCaps{}};
};

// GCRA decision → Verdict (limit, remaining, reset, retry-after).
Verdict to_verdict(const GcraParams& p, const GcraDecision& d);

}  // namespace sluice::state
