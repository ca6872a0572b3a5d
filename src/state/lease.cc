#include "state/lease.h"

#include <utility>

namespace sluice::state {

std::uint64_t lease_slice(std::uint64_t limit, double fraction, std::uint32_t replicas) {
  const double slice = double(limit) * fraction / double(std::max<std::uint32_t>(replicas, 1));
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(slice));
}

GcraGrant gcra_grant(const GcraParams& p, Nanos tat, Nanos now, std::uint64_t need, std::uint64_t want) {
  GcraGrant g;
  const Nanos base = std::max(tat, now);
  const double room = double(now + p.capacity_ns - base) / p.emission_ns;
  const std::uint64_t fits = room <= 0 ? 0 : static_cast<std::uint64_t>(room + 1e-6);
  if (fits < need) {
    g.tat = base;
    g.remaining = fits;
    g.reset_ns = base - now;
    g.retry_after_ns = static_cast<Nanos>(double(base - now) + double(need) * p.emission_ns - double(p.capacity_ns));
    return g;
  }
  g.granted = std::min(want, fits);
  g.tat = base + static_cast<Nanos>(double(g.granted) * p.emission_ns);
  g.remaining = fits - g.granted;
  g.reset_ns = g.tat - now;
  return g;
}

Nanos gcra_return(const GcraParams& p, Nanos tat, Nanos now, std::int64_t units) {
  if (units < 0) {  // owed: charged without a check
    return std::max(tat, now) + static_cast<Nanos>(double(-units) * p.emission_ns);
  }
  if (tat <= now) {
    return tat;  // already full
  }
  return std::max(now, tat - static_cast<Nanos>(double(units) * p.emission_ns));
}

// ---- RateLease ------------------------------------------------------------------------------------------

Verdict RateLease::reserve(const GcraParams& p, std::uint64_t units, Nanos now, std::uint64_t max_slice) {
  Verdict v = peek(p, now);
  if (p.unlimited() || units == 0) {
    return v;
  }
  if (units > p.burst) {
    v.outcome = Outcome::kTooLarge;
    return v;
  }
  if (balance_ >= static_cast<std::int64_t>(units)) {
    balance_ -= static_cast<std::int64_t>(units);
    used_now_ += units;
    v.remaining = v.remaining >= units ? v.remaining - units : 0;
    return v;
  }
  if (now < denied_until_) {
    v.outcome = Outcome::kRefused;
    v.retry_after_ns = denied_until_ - now;
    return v;
  }
  // The slice ahead: what the last lease used (the demand), at most max_slice; the need covers any debt.
  ask_.need = units - static_cast<std::uint64_t>(std::max<std::int64_t>(balance_, 0)) +
              static_cast<std::uint64_t>(std::max<std::int64_t>(-balance_, 0));
  ask_.want = ask_.need + std::min<std::uint64_t>(max_slice, std::max(used_last_, used_now_));
  v.outcome = Outcome::kRefill;
  return v;
}

Verdict RateLease::peek(const GcraParams& p, Nanos now) const {
  Verdict v;
  v.limit = p.limit;
  if (!seen_) {
    v.remaining = p.burst;  // nothing known yet: a fresh bucket
    return v;
  }
  v.remaining = remaining_ + static_cast<std::uint64_t>(std::max<std::int64_t>(balance_, 0));
  v.remaining = std::min<std::uint64_t>(v.remaining, p.burst);
  v.reset_ns = std::max<Nanos>(0, reset_at_ - now);
  return v;
}

void RateLease::on_grant(std::uint64_t granted, std::uint64_t remaining, Nanos reset_ns, Nanos retry_after_ns,
                         Nanos now, Nanos ttl) {
  seen_ = true;
  remaining_ = remaining;
  reset_at_ = now + reset_ns;
  if (granted == 0) {
    denied_until_ = now + std::max<Nanos>(retry_after_ns, 1);
    return;
  }
  balance_ += static_cast<std::int64_t>(granted);
  denied_until_ = 0;
  if (now >= expires_at_) {
    used_last_ = used_now_;
    used_now_ = 0;
  }
  expires_at_ = now + ttl;
}

std::int64_t RateLease::take_expired(Nanos now) {
  if (now < expires_at_ || balance_ == 0) {
    return 0;
  }
  used_last_ = used_now_;
  used_now_ = 0;
  return take_all();
}

std::int64_t RateLease::take_all() { return std::exchange(balance_, 0); }

// ---- SlotLease ------------------------------------------------------------------------------------------

Verdict SlotLease::acquire(std::uint32_t limit, Nanos now, std::uint32_t slack) {
  Verdict v;
  v.limit = limit;
  if (in_flight_ < held_) {
    ++in_flight_;
    if (in_flight_ == held_) {
      last_full_ = now;
    }
    return v;
  }
  if (now < denied_until_) {
    v.outcome = Outcome::kRefused;
    v.retry_after_ns = denied_until_ - now;
    return v;
  }
  want_ = std::min(limit, in_flight_ + 1 + slack);
  v.outcome = Outcome::kRefill;
  return v;
}

void SlotLease::release(Nanos now) {
  if (in_flight_ == held_) {
    last_full_ = now;
  }
  if (in_flight_ > 0) {
    --in_flight_;
  }
}

void SlotLease::on_grant(std::uint32_t held, Nanos now, Nanos retry) {
  held_ = held;
  last_full_ = now;
  if (held_ <= in_flight_) {
    denied_until_ = now + retry;
  } else {
    denied_until_ = 0;
  }
}

std::optional<std::uint32_t> SlotLease::shrink_to(Nanos now, Nanos idle, std::uint32_t slack) const {
  const std::uint32_t target = in_flight_ + slack;
  if (held_ <= target || now - last_full_ < idle) {
    return std::nullopt;
  }
  return target;
}

// ---- SpendLease -----------------------------------------------------------------------------------------

SpendVerdict SpendLease::reserve(NanoUsd estimate, std::int64_t, Nanos now, NanoUsd slice) {
  SpendVerdict v;
  estimate = std::max<NanoUsd>(estimate, 0);
  if (held_ - reserved_ >= estimate && held_ > reserved_) {
    reserved_ += estimate;
    last_reserve_ = now;
    return v;
  }
  if (now < denied_until_) {
    v.outcome = Outcome::kRefused;
    v.budget = refused_;
    return v;
  }
  need_ = reserved_ + estimate;
  want_ = need_ + slice;
  v.outcome = Outcome::kRefill;
  return v;
}

void SpendLease::settle(NanoUsd estimate, NanoUsd actual) {
  estimate = std::max<NanoUsd>(estimate, 0);
  reserved_ = std::max<NanoUsd>(0, reserved_ - estimate);
  held_ = std::max<NanoUsd>(reserved_, held_ - estimate);
  unsent_ += std::max<NanoUsd>(actual, 0);
}

void SpendLease::on_reply(bool granted, NanoUsd held, const SpendView& shared,
                          const BudgetVerdict& refused, Nanos now, Nanos retry) {
  held_ = std::max(held, reserved_);
  shared_ = shared;
  if (granted) {
    denied_until_ = 0;
  } else {
    refused_ = refused;
    denied_until_ = now + retry;
  }
}

NanoUsd SpendLease::shrink_to(Nanos now, Nanos idle) const {
  if (held_ <= reserved_ || now - last_reserve_ < idle) {
    return -1;
  }
  return reserved_;
}

SpendView SpendLease::local_view() const {
  SpendView v = shared_;
  v.reserved = reserved_;
  return v;
}

}  // namespace sluice::state
