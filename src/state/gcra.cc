#include "state/gcra.h"

#include <algorithm>
#include <cmath>

namespace sluice::state {

GcraParams GcraParams::make(std::uint64_t limit, std::chrono::nanoseconds window, std::uint64_t burst) {
  GcraParams p;
  if (limit == 0) {
    return p;
  }
  p.limit = limit;
  p.burst = burst == 0 ? limit : burst;
  p.emission_ns = double(window.count()) / double(limit);
  p.capacity_ns = static_cast<Nanos>(std::llround(p.emission_ns * double(p.burst)));
  return p;
}

namespace {
Nanos units_ns(const GcraParams& p, std::uint64_t units) {
  return static_cast<Nanos>(std::llround(p.emission_ns * double(units)));
}

std::uint64_t units_left(const GcraParams& p, Nanos debt) {
  const Nanos room = p.capacity_ns - debt;
  if (room <= 0) {
    return 0;
  }
  // A small epsilon so rounding in emission_ns × burst never costs a whole unit.
  return std::min<std::uint64_t>(p.burst, static_cast<std::uint64_t>(double(room) / p.emission_ns + 1e-6));
}
}  // namespace

GcraDecision gcra_decide(const GcraParams& p, Nanos tat, Nanos now, std::uint64_t cost, Nanos& new_tat) {
  GcraDecision d;
  new_tat = tat;
  if (p.unlimited()) {
    return d;
  }
  const Nanos base = std::max(tat, now);
  if (cost > p.burst) {
    d.allowed = false;
    d.too_large = true;
    d.remaining = units_left(p, base - now);
    d.reset_ns = base - now;
    return d;
  }
  const Nanos next = base + units_ns(p, cost);
  if (next - now > p.capacity_ns) {
    d.allowed = false;
    d.retry_after_ns = next - p.capacity_ns - now;
    d.remaining = units_left(p, base - now);
    d.reset_ns = base - now;
    return d;
  }
  new_tat = next;
  d.remaining = units_left(p, next - now);
  d.reset_ns = next - now;
  return d;
}

GcraDecision gcra_peek(const GcraParams& p, Nanos tat, Nanos now) {
  Nanos ignored = 0;
  return gcra_decide(p, tat, now, 0, ignored);
}

GcraDecision AtomicGcra::take(const GcraParams& p, Nanos now, std::uint64_t cost) {
  Nanos tat = tat_.load(std::memory_order_relaxed);
  for (;;) {
    Nanos next = tat;
    GcraDecision d = gcra_decide(p, tat, now, cost, next);
    if (!d.allowed || next == tat || tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) {
      return d;
    }
  }
}

GcraDecision AtomicGcra::peek(const GcraParams& p, Nanos now) const { return gcra_peek(p, tat(), now); }

void AtomicGcra::adjust(const GcraParams& p, Nanos now, std::int64_t delta) {
  if (p.unlimited() || delta == 0) {
    return;
  }
  Nanos tat = tat_.load(std::memory_order_relaxed);
  for (;;) {
    Nanos next = 0;
    if (delta > 0) {
      next = std::max(tat, now) + units_ns(p, static_cast<std::uint64_t>(delta));
    } else {
      next = std::max(tat - units_ns(p, static_cast<std::uint64_t>(-delta)), now);
      if (tat <= now) {
        return;  // already full
      }
    }
    if (tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) {
      return;
    }
  }
}

}  // namespace sluice::state
