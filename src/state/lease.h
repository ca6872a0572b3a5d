#pragma once
// Allowance leases: the part of a shared counter one replica holds, so most requests are decided without a
// round trip to the shared store. A replica takes a slice of a key's allowance ahead of use, serves requests
// from it, gives back what it did not use when the lease ends, and settles real usage against it.
// Pure: the caller holds the lock, passes the clock, and talks to the store (redis_counters.cc).
//
//   RateLease   GCRA units (requests or tokens) taken from the shared bucket.
//   SlotLease   concurrency slots allotted to this replica (the store sums the live allotments).
//   SpendLease  nano-USD of a budget allotted to this replica; settled costs are added to the shared spend.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

#include "state/counters.h"

namespace sluice::state {

// The most units one replica may lease ahead of use: `fraction` of the limit ÷ the replicas sharing it, at least
// one. With N replicas at most N slices are out at once, so a window's count is off by at most fraction × limit.
std::uint64_t lease_slice(std::uint64_t limit, double fraction, std::uint32_t replicas);

// The store's side of a rate lease (redis_scripts.cc runs the same arithmetic in Lua, on Redis's clock):
// grants min(want, what fits) when at least `need` fits, else nothing and when `need` would fit.
struct GcraGrant {
  std::uint64_t granted = 0;
  std::uint64_t remaining = 0;  // units that still fit after the grant
  Nanos reset_ns = 0;           // until the bucket is full again
  Nanos retry_after_ns = 0;     // nothing granted: until `need` fits
  Nanos tat = 0;                // the bucket's new theoretical arrival time
};
GcraGrant gcra_grant(const GcraParams& p, Nanos tat, Nanos now, std::uint64_t need, std::uint64_t want);
// Gives back `units` (> 0: the bucket refills by them, never beyond full) or charges owed ones (< 0, without a
// check). Returns the bucket's new theoretical arrival time.
Nanos gcra_return(const GcraParams& p, Nanos tat, Nanos now, std::int64_t units);

// What to ask the store for when a lease cannot cover a request.
struct RefillAsk {
  std::uint64_t need = 0;  // units without which the request cannot pass
  std::uint64_t want = 0;  // need plus a slice for the requests to come (want >= need)
};

class RateLease {
 public:
  // From the lease, or kRefused while the store said "empty until", or kRefill (ask() says how much).
  // `max_slice`: the most units one refill may take beyond the request's need.
  Verdict reserve(const GcraParams& p, std::uint64_t units, Nanos now, std::uint64_t max_slice);
  // A reservation of `reserved` units really used `actual`: the difference stays in (or is owed to) the lease.
  void settle(std::uint64_t reserved, std::uint64_t actual) {
    balance_ += static_cast<std::int64_t>(reserved) - static_cast<std::int64_t>(actual);
  }
  Verdict peek(const GcraParams& p, Nanos now) const;
  const RefillAsk& ask() const { return ask_; }

  // The store's answer to ask(): `granted` units (0 when it could not cover the need), the bucket's state after
  // it, and when the need would fit (when not granted).
  void on_grant(std::uint64_t granted, std::uint64_t remaining, Nanos reset_ns, Nanos retry_after_ns, Nanos now,
                Nanos ttl);
  // The lease ended: the units to give back (> 0) or owed (< 0, used beyond what was held); zeroes the balance.
  std::int64_t take_expired(Nanos now);
  // Everything held or owed, now (shutdown, store restarted): zeroes the balance.
  std::int64_t take_all();
  std::int64_t balance() const { return balance_; }
  // What the shared bucket had left at the last reply (nullopt before any).
  std::optional<std::uint64_t> remaining_seen() const {
    return seen_ ? std::optional<std::uint64_t>(remaining_) : std::nullopt;
  }

 private:
  std::int64_t balance_ = 0;  // units held; negative = owed to the shared bucket
  Nanos expires_at_ = 0;
  Nanos denied_until_ = 0;  // the store had no room for the last need until then
  // The store's view at the last reply, for headers.
  std::uint64_t remaining_ = 0;
  Nanos reset_at_ = 0;
  bool seen_ = false;
  // Demand: units used during the current lease; the next slice is what the last lease used.
  std::uint64_t used_now_ = 0;
  std::uint64_t used_last_ = 0;
  RefillAsk ask_;
};

class SlotLease {
 public:
  // From the allotment, or kRefused while the store said "all taken", or kRefill.
  Verdict acquire(std::uint32_t limit, Nanos now, std::uint32_t slack);
  void release(Nanos now);
  // Counts a request admitted without the store (this replica's share while it is away).
  void acquire_local() { ++in_flight_; }
  std::uint32_t in_flight() const { return in_flight_; }
  std::uint32_t held() const { return held_; }
  // Total allotment to ask for (acquire returned kRefill).
  std::uint32_t want() const { return want_; }
  // The store set this replica's allotment to `held`; when it could not grow, wait `retry` before asking again.
  void on_grant(std::uint32_t held, Nanos now, Nanos retry);
  // Slots to give back: the allotment this replica should hold now (in flight + `slack`), when it has held more
  // than that, unused, for `idle`; nullopt = keep (slots in flight are never given back).
  std::optional<std::uint32_t> shrink_to(Nanos now, Nanos idle, std::uint32_t slack) const;
  void set_held(std::uint32_t held) { held_ = held; }

 private:
  std::uint32_t held_ = 0;
  std::uint32_t in_flight_ = 0;
  std::uint32_t want_ = 0;
  Nanos denied_until_ = 0;
  Nanos last_full_ = 0;  // last time every held slot was in use
};

class SpendLease {
 public:
  // From the allotment (held - reserved), or kRefused while the store said "spent", or kRefill.
  SpendVerdict reserve(NanoUsd estimate, std::int64_t unix_ms, Nanos now, NanoUsd slice);
  // The estimate leaves the allotment; the real cost waits for the next sync to be added to the shared spend.
  void settle(NanoUsd estimate, NanoUsd actual);
  // What to send: the allotment to hold (refill: `want`, with `need` the least that admits the request) and
  // the spend settled since the last sync (taken: the caller sends it exactly once).
  NanoUsd want() const { return want_; }
  NanoUsd need() const { return need_; }
  NanoUsd floor() const { return reserved_; }  // in-flight reservations: always held
  NanoUsd take_unsent() { return std::exchange(unsent_, 0); }
  void restore_unsent(NanoUsd n) { unsent_ += n; }  // a sync that was never sent
  // The store's answer: the allotment it set, whether that admits the request, and the shared totals.
  void on_reply(bool granted, NanoUsd held, const SpendView& shared, const BudgetVerdict& refused,
                Nanos now, Nanos retry);
  // The allotment to hold after idle time: reserved only (the unused rest goes back); -1 = keep.
  NanoUsd shrink_to(Nanos now, Nanos idle) const;
  void set_held(NanoUsd held) { held_ = std::max(held, reserved_); }
  void set_shared(const SpendView& v) { shared_ = v; }
  NanoUsd held() const { return held_; }
  const SpendView& shared_view() const { return shared_; }
  SpendView local_view() const;

 private:
  NanoUsd held_ = 0;      // allotment in the store (reserved + unused)
  NanoUsd reserved_ = 0;  // estimates of requests in flight
  NanoUsd unsent_ = 0;    // settled cost not yet added to the shared spend
  NanoUsd want_ = 0;
  NanoUsd need_ = 0;
  Nanos denied_until_ = 0;
  Nanos last_reserve_ = 0;
  BudgetVerdict refused_;
  SpendView shared_;  // totals at the last reply
};

}  // namespace sluice::state
