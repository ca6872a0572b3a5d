#include "routing/key_pacer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include "common/unix_time.h"

namespace sluice::routing {

namespace {
constexpr std::int64_t kUnknownHeadroom = std::numeric_limits<std::int32_t>::max();
}

KeyPacer::KeyPacer(const std::string& upstream, std::vector<std::string> names, bool pacing) : pacing_(pacing) {
  if (names.empty()) {
    names.emplace_back();  // an upstream without a key still has one (empty) credential to pace
  }
  auto& events = telemetry::metrics().counter(
      "sluice_upstream_key_events_total",
      "Provider API key events: rate_limited (a 429 on the key), disabled (402/401: skipped for a while)",
      {"upstream", "key", "event"});
  for (auto& n : names) {
    Key k{.name = std::move(n)};
    k.rate_limited = &events.with({upstream, k.name, "rate_limited"});
    k.disabled = &events.with({upstream, k.name, "disabled"});
    keys_.push_back(std::move(k));
  }
  waits_ = &telemetry::metrics()
                .counter("sluice_upstream_key_waits_total",
                         "Requests held until one of the upstream's API keys had headroom (instead of a 429)",
                         {"upstream"})
                .with({upstream});
}

std::int64_t KeyPacer::headroom(const Key& k, Clock::time_point now) const {
  if (now < k.disabled_until || now < k.blocked_until) {
    return 0;
  }
  if (k.tokens_remaining == 0 && now < k.tokens_reset_at) {
    return 0;
  }
  std::int64_t left = kUnknownHeadroom;
  if (k.remaining >= 0 && now < k.reset_at) {
    left = k.remaining;
  } else if (k.limit >= 0) {
    left = k.limit;  // the window has reset since the last answer
  }
  return left - static_cast<std::int64_t>(k.pending) - static_cast<std::int64_t>(k.remote_pending);
}

KeyPacer::Clock::time_point KeyPacer::ready_at(const Key& k, Clock::time_point now) const {
  Clock::time_point t = now;
  t = std::max(t, k.disabled_until);
  t = std::max(t, k.blocked_until);
  if (k.tokens_remaining == 0) {
    t = std::max(t, k.tokens_reset_at);
  }
  if (k.remaining >= 0 && k.remaining <= static_cast<std::int64_t>(k.pending + k.remote_pending)) {
    t = std::max(t, k.reset_at);
  }
  return t;
}

KeyPacer::Choice KeyPacer::pick(Clock::time_point now) {
  std::lock_guard lock(mu_);
  const std::size_t n = keys_.size();
  Choice c;
  if (!pacing_) {
    c.key = next_++ % n;
    ++keys_[*c.key].pending;
    return c;
  }
  std::int64_t best = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t k = (next_ + i) % n;
    std::int64_t h = headroom(keys_[k], now);
    if (h > best) {
      best = h;
      c.key = k;
    }
  }
  if (c.key) {
    next_ = *c.key + 1;
    ++keys_[*c.key].pending;
    return c;
  }
  // Worth waiting for a window or a Retry-After; not for a key taken out of service (402/401): when only
  // those are left, ready_at stays "never" and the caller sends with the least bad key at once.
  c.ready_at = Clock::time_point::max();
  for (const Key& k : keys_) {
    if (now >= k.disabled_until) {
      c.ready_at = std::min(c.ready_at, ready_at(k, now));
    }
  }
  return c;
}

std::size_t KeyPacer::pick_anyway(Clock::time_point now) {
  std::lock_guard lock(mu_);
  std::size_t best = next_ % keys_.size();
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (ready_at(keys_[i], now) < ready_at(keys_[best], now)) {
      best = i;
    }
  }
  ++keys_[best].pending;
  next_ = best + 1;
  return best;
}

std::string KeyPacer::release(std::size_t key, unsigned status, const RateSignals& s, Clock::time_point now) {
  std::lock_guard lock(mu_);
  Key& k = keys_.at(key);
  if (k.pending > 0) {
    --k.pending;
  }
  if (status == 0) {
    return {};
  }
  k.observed_ms = unix_now_ms();
  if (s.limit_requests) {
    k.limit = *s.limit_requests;
  }
  if (s.remaining_requests) {
    k.remaining = *s.remaining_requests;
    k.reset_at = now + s.reset_requests.value_or(std::chrono::milliseconds{60'000});
  }
  if (s.remaining_tokens) {
    k.tokens_remaining = *s.remaining_tokens;
    k.tokens_reset_at = now + s.reset_tokens.value_or(std::chrono::milliseconds{60'000});
  }
  if (status == 429) {
    auto wait = kDefaultBackoff;
    if (s.retry_after) {
      wait = *s.retry_after;
    } else if (s.reset_requests) {
      wait = *s.reset_requests;
    }
    k.blocked_until = now + wait;
    k.rate_limited->inc();
    return fmt::format("rate limited (429), skipped for {} ms", wait.count());
  }
  if (status == 402 || status == 401) {
    ++k.refused_answers;
    if (now < k.disabled_until) {
      return {};  // sent before the key was taken out (or sent anyway): not a probe, no longer wait
    }
    const auto wait = std::min<std::chrono::milliseconds>(kDisableFor, kFirstDisable * (1u << std::min(k.refusals, 9u)));
    ++k.refusals;
    k.disabled_until = now + wait;
    k.disabled->inc();
    return fmt::format("{}, skipped for {} ms", status == 402 ? "balance exhausted (402)" : "rejected (401)",
                       wait.count());
  }
  if (status < 400) {
    k.refusals = 0;
    k.refused_answers = 0;
    if (k.disabled_until != Clock::time_point{}) {
      k.disabled_until = {};
      return "accepted again";
    }
  }
  return {};
}

bool KeyPacer::has_headroom(Clock::time_point now) const {
  std::lock_guard lock(mu_);
  if (!pacing_) {
    return true;
  }
  return std::any_of(keys_.begin(), keys_.end(), [&](const Key& k) { return headroom(k, now) > 0; });
}

bool KeyPacer::refused(Clock::time_point now) const {
  std::lock_guard lock(mu_);
  // Refusals outnumbering the key's requests still out: a burst's fast refusals do not speak for its slower
  // answers (a success resets the count).
  return pacing_ && std::all_of(keys_.begin(), keys_.end(), [&](const Key& k) {
           return k.refused_answers >= kConfirmedRefusals && k.refused_answers > k.pending + k.remote_pending &&
                  now < k.disabled_until;
         });
}

KeyPacer::KeyView KeyPacer::view(std::size_t k, Clock::time_point now) const {
  std::lock_guard lock(mu_);
  const Key& key = keys_.at(k);
  KeyView v;
  v.remaining_requests = key.remaining >= 0 && now < key.reset_at ? key.remaining : key.limit;
  v.disabled = now < key.disabled_until;
  v.pending = key.pending;
  return v;
}

namespace {
// Steady time → wall clock (and back), relative to one reading of each.
std::int64_t to_unix(KeyPacer::Clock::time_point t, KeyPacer::Clock::time_point now, std::int64_t unix_ms) {
  if (t == KeyPacer::Clock::time_point{}) {
    return 0;
  }
  return unix_ms + std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count();
}
KeyPacer::Clock::time_point to_steady(std::int64_t ms, KeyPacer::Clock::time_point now, std::int64_t unix_ms) {
  if (ms == 0) {
    return {};
  }
  return now + std::chrono::milliseconds(ms - unix_ms);
}
}  // namespace

KeyPacer::Observation KeyPacer::observation(std::size_t key, Clock::time_point now, std::int64_t unix_ms) const {
  std::lock_guard lock(mu_);
  const Key& k = keys_.at(key);
  Observation o;
  o.observed_ms = k.observed_ms;
  o.limit = k.limit;
  o.remaining = k.remaining;
  o.reset_ms = to_unix(k.reset_at, now, unix_ms);
  o.tokens_remaining = k.tokens_remaining;
  o.tokens_reset_ms = to_unix(k.tokens_reset_at, now, unix_ms);
  o.blocked_ms = to_unix(k.blocked_until, now, unix_ms);
  o.disabled_ms = to_unix(k.disabled_until, now, unix_ms);
  return o;
}

std::uint32_t KeyPacer::pending(std::size_t key) const {
  std::lock_guard lock(mu_);
  return keys_.at(key).pending;
}

void KeyPacer::merge(std::size_t key, const Observation& o, std::uint32_t others_pending, Clock::time_point now,
                     std::int64_t unix_ms) {
  std::lock_guard lock(mu_);
  Key& k = keys_.at(key);
  k.remote_pending = others_pending;
  if (o.observed_ms <= k.observed_ms) {
    return;
  }
  k.observed_ms = o.observed_ms;
  k.limit = o.limit;
  k.remaining = o.remaining;
  k.reset_at = to_steady(o.reset_ms, now, unix_ms);
  k.tokens_remaining = o.tokens_remaining;
  k.tokens_reset_at = to_steady(o.tokens_reset_ms, now, unix_ms);
  k.blocked_until = std::max(k.blocked_until, to_steady(o.blocked_ms, now, unix_ms));
  k.disabled_until = to_steady(o.disabled_ms, now, unix_ms);
}

}  // namespace sluice::routing
