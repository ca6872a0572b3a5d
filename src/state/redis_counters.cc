#include "state/redis_counters.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "common/coarse_clock.h"

namespace sluice::state {

namespace {
std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(CoarseWallClock::now().time_since_epoch()).count();
}

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / std::max<std::uint64_t>(b, 1); }

Nanos ms_ns(std::chrono::milliseconds d) { return d.count() * 1'000'000; }
}  // namespace

// ---- RedisRate ------------------------------------------------------------------------------------------

RedisRate::RedisRate(RedisBackend& b, std::string key, std::string tag, std::string name)
    : b_(b), key_(std::move(key)), tag_(std::move(tag)), name_(std::move(name)) {}

bool RedisRate::local_mode(Nanos now) const { return !b_.usable() || now < fallback_until_; }

GcraParams RedisRate::share(const GcraParams& p) const {
  const std::uint64_t n = b_.replicas();
  const auto window = std::chrono::nanoseconds(static_cast<std::int64_t>(p.emission_ns * double(p.limit)));
  return GcraParams::make(ceil_div(p.limit, n), window, ceil_div(p.burst, n));
}

void RedisRate::count(const GcraParams& p, std::int64_t units) {
  if (!p.unlimited() && units != 0) {
    tally_.add(units, wall_ms(), window_ms(p));
  }
}

Verdict RedisRate::reserve_local(const GcraParams& p, std::uint64_t units, Nanos now) {
  // Units this replica leased before Redis went away are still its own.
  Verdict v = lease_.reserve(p, units, now, 0);
  if (v.taken() || v.outcome == Outcome::kTooLarge) {
    return v;
  }
  if (b_.config().fail_mode == config::FailMode::kClosed) {
    v.outcome = Outcome::kUnavailable;
    return v;
  }
  const GcraParams s = share(p);
  if (!fallback_ || fallback_outage_ != b_.outage()) {
    fallback_ = std::make_unique<LocalRate>();
    fallback_outage_ = b_.outage();
    fallback_units_ = 0;
    // This replica's share of what the shared bucket had left (not a fresh bucket: an outage, or a flapping
    // connection, must not hand every replica a new burst).
    if (auto seen = lease_.remaining_seen()) {
      const std::uint64_t room = std::min<std::uint64_t>(s.burst, *seen / std::max<std::uint32_t>(1, b_.replicas()));
      fallback_->settle(s, 0, s.burst - room, now);
    }
  }
  b_.metrics().fallback->inc();
  v = fallback_->reserve(s, units, now);
  v.limit = p.limit;
  if (v.taken()) {
    fallback_units_ += units;
  }
  return v;
}

Verdict RedisRate::reserve(const GcraParams& p, std::uint64_t units, Nanos now) {
  std::lock_guard lock(mu_);
  params_ = p;
  Verdict v = local_mode(now) ? reserve_local(p, units, now)
                              : lease_.reserve(p, units, now, lease_slice(p.limit, b_.config().lease_fraction,
                                                                          b_.replicas()));
  if (v.taken()) {
    count(p, static_cast<std::int64_t>(units));
  }
  return v;
}

void RedisRate::settle(const GcraParams& p, std::uint64_t reserved, std::uint64_t actual, Nanos now) {
  std::lock_guard lock(mu_);
  if (fallback_ && fallback_units_ >= reserved && reserved > 0) {
    fallback_units_ -= reserved;
    fallback_->settle(share(p), reserved, actual, now);
  } else {
    lease_.settle(reserved, actual);
  }
  count(p, static_cast<std::int64_t>(actual) - static_cast<std::int64_t>(reserved));
}

Verdict RedisRate::peek(const GcraParams& p, Nanos now) const {
  std::lock_guard lock(mu_);
  if (local_mode(now) && fallback_) {
    Verdict v = fallback_->peek(share(p), now);
    v.limit = p.limit;
    return v;
  }
  return lease_.peek(p, now);
}

std::optional<redis::Command> RedisRate::refill_command(Nanos, std::int64_t) {
  std::lock_guard lock(mu_);
  const RefillAsk& a = lease_.ask();
  if (a.need == 0 || params_.unlimited()) {
    return std::nullopt;
  }
  redis::Command c = redis::scripts().call(redis::Script::kGcraTake, {key_});
  c.arg(fmt::format("{:.3f}", params_.emission_ns / 1000.0))
      .arg(fmt::format("{:.0f}", double(params_.capacity_ns) / 1000.0))
      .arg(static_cast<long long>(a.need))
      .arg(static_cast<long long>(a.want));
  return c;
}

void RedisRate::on_refill(const redis::Reply& r, Nanos now) {
  std::lock_guard lock(mu_);
  lease_.on_grant(static_cast<std::uint64_t>(std::max(0LL, r.at(0))), static_cast<std::uint64_t>(std::max(0LL, r.at(1))),
                  r.at(2) * 1000, r.at(3) * 1000, now, ms_ns(b_.config().lease_ttl));
}

void RedisRate::on_refill_failed(Nanos now, bool) {
  std::lock_guard lock(mu_);
  fallback_until_ = now + ms_ns(b_.config().sync_interval);
}

std::vector<redis::Command> RedisRate::sync_commands(Nanos now, std::int64_t unix_ms) {
  std::lock_guard lock(mu_);
  std::vector<redis::Command> out;
  sync_ = {};
  if (params_.unlimited()) {
    return out;
  }
  if (const std::int64_t back = lease_.take_expired(now); back != 0) {
    redis::Command c = redis::scripts().call(redis::Script::kGcraAdjust, {key_});
    c.arg(fmt::format("{:.3f}", params_.emission_ns / 1000.0)).arg(static_cast<long long>(back));
    out.push_back(std::move(c));
    sync_.adjust = true;
  }
  const std::int64_t wms = window_ms(params_);
  if (const std::int64_t n = tally_.take_unsent(); n != 0 && wms > 0) {
    const std::string k = key_ + ":w:" + std::to_string(unix_ms / wms);
    out.push_back(redis::Command{"INCRBY", k}.arg(static_cast<long long>(n)));
    out.push_back(redis::Command{"PEXPIRE", k}.arg(static_cast<long long>(3 * wms)));
    sync_.tally = true;
  }
  // Once per window: read the whole (all replicas) tally of the window that just ended.
  if (wms > 0 && unix_ms / wms - 1 > gauge_index_) {
    sync_.read = true;
    sync_.read_index = unix_ms / wms - 1;
    out.push_back(redis::Command{"GET", key_ + ":w:" + std::to_string(sync_.read_index)});
  }
  return out;
}

void RedisRate::on_sync(const redis::Replies& r, redis::CallError err, Nanos) {
  std::lock_guard lock(mu_);
  if (err != redis::CallError::kNone || !sync_.read || r.empty()) {
    return;
  }
  gauge_index_ = sync_.read_index;
  if (gauge_ == nullptr) {
    gauge_ = &overshoot_gauge(tag_, name_);
  }
  gauge_->set(double(r.back().as_int().value_or(0)) / double(std::max<std::uint64_t>(params_.limit, 1)));
}

// ---- RedisSlots -----------------------------------------------------------------------------------------

RedisSlots::RedisSlots(RedisBackend& b, std::string key) : b_(b), key_(std::move(key)) {}

Verdict RedisSlots::acquire(std::uint32_t limit, Nanos now) {
  std::lock_guard lock(mu_);
  limit_ = limit;
  if (b_.usable() && now >= fallback_until_) {
    const auto slack = static_cast<std::uint32_t>(lease_slice(limit, b_.config().lease_fraction, b_.replicas()) - 1);
    return lease_.acquire(limit, now, slack);
  }
  Verdict v;
  v.limit = limit;
  if (b_.config().fail_mode == config::FailMode::kClosed) {
    v.outcome = Outcome::kUnavailable;
    return v;
  }
  b_.metrics().fallback->inc();
  const auto share = static_cast<std::uint32_t>(ceil_div(limit, b_.replicas()));
  if (lease_.in_flight() < std::max(share, lease_.held())) {
    lease_.acquire_local();
  } else {
    v.outcome = Outcome::kRefused;
  }
  return v;
}

void RedisSlots::release(Nanos now) {
  std::lock_guard lock(mu_);
  lease_.release(now);
}

std::uint32_t RedisSlots::in_flight() const {
  std::lock_guard lock(mu_);
  return lease_.in_flight();
}

redis::Command RedisSlots::set_command(std::uint32_t want, std::uint32_t floor, std::uint32_t limit) const {
  redis::Command c = redis::scripts().call(redis::Script::kSlots, {key_});
  c.arg(b_.replica_id())
      .arg(static_cast<long long>(want))
      .arg(static_cast<long long>(floor))
      .arg(static_cast<long long>(limit))
      .arg(static_cast<long long>(b_.allotment_ttl_ms()));
  return c;
}

std::optional<redis::Command> RedisSlots::refill_command(Nanos, std::int64_t) {
  std::lock_guard lock(mu_);
  if (lease_.want() == 0) {
    return std::nullopt;
  }
  return set_command(lease_.want(), lease_.in_flight(), limit_);
}

void RedisSlots::on_refill(const redis::Reply& r, Nanos now) {
  std::lock_guard lock(mu_);
  lease_.on_grant(static_cast<std::uint32_t>(std::max(0LL, r.at(0))), now, ms_ns(b_.config().sync_interval));
  last_sync_ = now;
}

void RedisSlots::on_refill_failed(Nanos now, bool) {
  std::lock_guard lock(mu_);
  fallback_until_ = now + ms_ns(b_.config().sync_interval);
}

std::vector<redis::Command> RedisSlots::sync_commands(Nanos now, std::int64_t) {
  std::lock_guard lock(mu_);
  std::vector<redis::Command> out;
  if (lease_.held() == 0 && lease_.in_flight() == 0) {
    return out;
  }
  const auto slack = static_cast<std::uint32_t>(lease_slice(limit_, b_.config().lease_fraction, b_.replicas()) - 1);
  const Nanos ttl = b_.allotment_ttl_ms() * 1'000'000;
  if (auto target = lease_.shrink_to(now, ms_ns(b_.config().lease_ttl), slack)) {
    out.push_back(set_command(*target, lease_.in_flight(), 0));
  } else if (now - last_sync_ >= ttl / 3 || lease_.in_flight() > lease_.held()) {
    // Keep-alive (and, after a fallback or a Redis restart, the truth about what is in flight).
    out.push_back(set_command(std::max(lease_.held(), lease_.in_flight()), lease_.in_flight(), 0));
  }
  return out;
}

void RedisSlots::on_sync(const redis::Replies& r, redis::CallError err, Nanos now) {
  std::lock_guard lock(mu_);
  if (err == redis::CallError::kNone && !r.empty() && !r.front().is_error()) {
    lease_.set_held(static_cast<std::uint32_t>(std::max(0LL, r.front().at(0))));
    last_sync_ = now;
  }
}

}  // namespace sluice::state
