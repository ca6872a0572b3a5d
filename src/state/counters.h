#pragma once
// Counters with reservations, the first kind of shared state (docs/scale-out.md): GCRA rates (requests or
// tokens per window), concurrency slots and spend budgets. A reservation is taken before the upstream call and
// settled with the real amount after it. Local counters always decide at once. Shared (Redis) counters decide
// from the slice of the allowance this replica leased; when the slice cannot cover a request they answer
// kRefill, the caller awaits Backend::refill() for all of that request's counters at once (one pipelined round
// trip) and asks again.
//
// Parameters (limits, caps) are passed on every call, so a config reload changes them without touching the
// counted state.
#include <cstdint>

#include "state/gcra.h"
#include "state/spend.h"

namespace sluice::state {

using Nanos = std::int64_t;  // steady-clock nanoseconds

enum class Outcome : std::uint8_t {
  kTaken,        // reserved
  kRefused,      // over the limit; retry_after_ns says when it would pass
  kTooLarge,     // can never pass: more units than the bucket holds
  kRefill,       // a shared counter's lease cannot cover it: Backend::refill(), then reserve again
  kUnavailable,  // the shared store is away and fail_mode is closed
};

struct Verdict {
  Outcome outcome = Outcome::kTaken;
  std::uint64_t limit = 0;  // for x-ratelimit-* headers; 0 = unlimited
  std::uint64_t remaining = 0;
  Nanos reset_ns = 0;
  Nanos retry_after_ns = 0;
  bool taken() const { return outcome == Outcome::kTaken; }
};

// A shared counter that can refill its lease; only the backend that made it knows what it is.
class Refillable {
 public:
  virtual ~Refillable() = default;
};

// Requests or tokens per window (GCRA).
class RateCounter {
 public:
  virtual ~RateCounter() = default;
  virtual Verdict reserve(const GcraParams& p, std::uint64_t units, Nanos now) = 0;
  // The request really cost `actual` units of the `reserved` ones (a refund, or an extra charge).
  virtual void settle(const GcraParams& p, std::uint64_t reserved, std::uint64_t actual, Nanos now) = 0;
  // What the headers show, charging nothing.
  virtual Verdict peek(const GcraParams& p, Nanos now) const = 0;
  virtual Refillable* shared() { return nullptr; }
};

// Requests in flight.
class SlotCounter {
 public:
  virtual ~SlotCounter() = default;
  virtual Verdict acquire(std::uint32_t limit, Nanos now) = 0;
  virtual void release(Nanos now) = 0;
  virtual std::uint32_t in_flight() const = 0;  // this replica's
  virtual Refillable* shared() { return nullptr; }
};

// A key's spend against its daily and monthly caps.
struct SpendVerdict {
  Outcome outcome = Outcome::kTaken;  // kTaken, kRefused (budget spent), kRefill, kUnavailable
  BudgetVerdict budget;
};

struct SpendView {
  NanoUsd day_spent = 0;
  NanoUsd month_spent = 0;
  NanoUsd reserved = 0;  // requests in flight (and, shared, slices leased by replicas)
  BudgetPeriods periods;
  bool shared = false;  // the totals of every replica (false: this replica's)
};

class SpendCounter {
 public:
  virtual ~SpendCounter() = default;
  virtual SpendVerdict reserve(const BudgetCaps& caps, NanoUsd estimate, std::int64_t unix_ms, Nanos now) = 0;
  virtual void settle(NanoUsd estimate, NanoUsd actual, std::int64_t unix_ms, Nanos now) = 0;
  // This replica's view (no I/O); Backend::spend_view() has the shared one.
  virtual SpendView local_view(std::int64_t unix_ms) = 0;
  virtual Refillable* shared() { return nullptr; }
};

}  // namespace sluice::state
