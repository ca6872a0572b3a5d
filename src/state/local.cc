#include "state/local.h"

#include <chrono>

#include "common/coarse_clock.h"
#include "state/backend.h"

namespace sluice::state {

Verdict to_verdict(const GcraParams& p, const GcraDecision& d) {
  Verdict v;
  v.outcome = d.allowed ? Outcome::kTaken : (d.too_large ? Outcome::kTooLarge : Outcome::kRefused);
  v.limit = p.limit;
  v.remaining = d.remaining;
  v.reset_ns = d.reset_ns;
  v.retry_after_ns = d.retry_after_ns;
  return v;
}

void LocalRate::count(const GcraParams& p, std::int64_t units) {
  if (p.unlimited() || key_.empty() || units == 0) {
    return;
  }
  const std::int64_t unix_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(CoarseWallClock::now().time_since_epoch()).count();
  if (tally_.add(units, unix_ms, window_ms(p))) {
    telemetry::Gauge* g = gauge_.load(std::memory_order_relaxed);
    if (g == nullptr) {
      g = &overshoot_gauge(key_, name_);
      gauge_.store(g, std::memory_order_relaxed);
    }
    g->set(double(tally_.last()) / double(p.limit));
  }
}

Verdict LocalRate::reserve(const GcraParams& p, std::uint64_t units, Nanos now) {
  Verdict v = to_verdict(p, gcra_.take(p, now, units));
  if (v.taken()) {
    count(p, static_cast<std::int64_t>(units));
  }
  return v;
}

void LocalRate::settle(const GcraParams& p, std::uint64_t reserved, std::uint64_t actual, Nanos now) {
  const std::int64_t delta = static_cast<std::int64_t>(actual) - static_cast<std::int64_t>(reserved);
  gcra_.adjust(p, now, delta);
  count(p, delta);
}

Verdict LocalRate::peek(const GcraParams& p, Nanos now) const { return to_verdict(p, gcra_.peek(p, now)); }

Verdict LocalSlots::acquire(std::uint32_t limit, Nanos) {
  Verdict v;
  v.limit = limit;
  if (in_flight_.fetch_add(1, std::memory_order_relaxed) >= limit && limit != 0) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    v.outcome = Outcome::kRefused;
  }
  return v;
}

void LocalSlots::release(Nanos) { in_flight_.fetch_sub(1, std::memory_order_relaxed); }

SpendVerdict LocalSpend::reserve(const BudgetCaps& caps, NanoUsd estimate, std::int64_t unix_ms, Nanos) {
  std::lock_guard lock(mu_);
  account_.set_caps(caps);
  SpendVerdict v;
  v.budget = account_.reserve(estimate, unix_ms);
  v.outcome = v.budget.allowed ? Outcome::kTaken : Outcome::kRefused;
  return v;
}

void LocalSpend::settle(NanoUsd estimate, NanoUsd actual, std::int64_t unix_ms, Nanos) {
  std::lock_guard lock(mu_);
  account_.settle(estimate, actual, unix_ms);
}

SpendView LocalSpend::local_view(std::int64_t unix_ms) {
  std::lock_guard lock(mu_);
  const auto v = account_.view(unix_ms);
  return {v.day_spent, v.month_spent, v.reserved, v.periods, false};
}

namespace {
class LocalBackend : public Backend {
 public:
  bool shared() const override { return false; }
  std::shared_ptr<RateCounter> rate(const std::string& key, const std::string& name) override {
    return std::make_shared<LocalRate>(key, name);
  }
  std::shared_ptr<SlotCounter> slots(const std::string&, const std::string&) override {
    return std::make_shared<LocalSlots>();
  }
  std::shared_ptr<SpendCounter> spend(const std::string&) override { return std::make_shared<LocalSpend>(); }
  net::awaitable<void> refill(std::span<Refillable* const>) override { co_return; }
};
}  // namespace

net::awaitable<SpendView> Backend::spend_view(SpendCounter& c, const BudgetCaps&, std::int64_t unix_ms) {
  co_return c.local_view(unix_ms);
}

std::shared_ptr<Backend> local_backend() {
  static const std::shared_ptr<Backend> kLocal = [] {
    make_state_metrics("local").up->set(1);
    return std::make_shared<LocalBackend>();
  }();
  return kLocal;
}

}  // namespace sluice::state
