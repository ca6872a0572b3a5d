// Spend budgets shared through Redis: one hash per UTC day and month per key ("spent" plus each replica's
// allotment), leased like the other counters; settled costs reach Redis with the next sync, exactly once.
#include <fmt/format.h>

#include "state/redis_counters.h"
#include "common/unix_time.h"

namespace sluice::state {

namespace {
Nanos spend_ms_ns(std::chrono::milliseconds d) { return d.count() * 1'000'000; }
constexpr long long kDayKeepS = 3 * 86'400;    // a day's hash outlives its day (late settles, /admin/budgets)
constexpr long long kMonthKeepS = 33 * 86'400;
}  // namespace

RedisSpend::RedisSpend(RedisBackend& b, std::string tag) : b_(b), tag_(std::move(tag)) {}

redis::Command RedisSpend::command(NanoUsd want, NanoUsd need, NanoUsd add, std::int64_t unix_ms) const {
  const BudgetPeriods p = budget_periods(unix_ms);
  redis::Command c = redis::scripts().call(
      redis::Script::kSpend, {b_.key(tag_, "b:d:" + std::to_string(p.day)), b_.key(tag_, "b:m:" + std::to_string(p.month))});
  c.arg(b_.replica_id())
      .arg(static_cast<long long>(want))
      .arg(static_cast<long long>(need))
      .arg(static_cast<long long>(lease_.floor()))
      .arg(static_cast<long long>(add))
      .arg(static_cast<long long>(caps_.day))
      .arg(static_cast<long long>(caps_.month))
      .arg(static_cast<long long>(b_.allotment_ttl_ms()))
      .arg(kDayKeepS)
      .arg(kMonthKeepS);
  return c;
}

SpendView RedisSpend::view_of(const redis::Reply& r, std::int64_t unix_ms) const {
  SpendView v;
  v.day_spent = r.at(2);
  v.month_spent = r.at(3);
  v.reserved = std::max(r.at(4), r.at(5)) + r.at(1);  // every replica's allotment, this one's included
  v.periods = budget_periods(unix_ms);
  v.shared = true;
  return v;
}

SpendVerdict RedisSpend::reserve_local(NanoUsd estimate, std::int64_t unix_ms, Nanos now) {
  SpendVerdict v = lease_.reserve(estimate, unix_ms, now, 0);
  if (v.outcome == Outcome::kTaken) {
    return v;
  }
  if (b_.config().fail_mode == config::FailMode::kClosed) {
    v.outcome = Outcome::kUnavailable;
    return v;
  }
  if (!fallback_ || fallback_outage_ != b_.outage()) {
    // This replica's share of what was left when Redis was last heard from (of the whole cap if never).
    const SpendView& seen = lease_.shared_view();
    const auto n = static_cast<NanoUsd>(std::max<std::uint32_t>(1, b_.replicas()));
    auto share = [&](NanoUsd cap, NanoUsd spent) { return cap > 0 ? std::max<NanoUsd>(1, (cap - spent) / n) : 0; };
    fallback_ = std::make_unique<BudgetAccount>(
        BudgetCaps{share(caps_.day, seen.day_spent + seen.reserved), share(caps_.month, seen.month_spent + seen.reserved)});
    fallback_outage_ = b_.outage();
    fallback_reserved_ = 0;
  }
  b_.metrics().fallback->inc();
  v.budget = fallback_->reserve(estimate, unix_ms);
  v.outcome = v.budget.allowed ? Outcome::kTaken : Outcome::kRefused;
  if (v.budget.allowed) {
    fallback_reserved_ += std::max<NanoUsd>(estimate, 0);
  }
  return v;
}

SpendVerdict RedisSpend::reserve(const BudgetCaps& caps, NanoUsd estimate, std::int64_t unix_ms, Nanos now) {
  std::lock_guard lock(mu_);
  caps_ = caps;
  if (const std::int64_t day = budget_periods(unix_ms).day; day != day_) {
    day_ = day;
    lease_.set_held(lease_.floor());  // a new day's hash: only what is in flight moves over, with the next call
  }
  if (!b_.usable() || now < fallback_until_) {
    return reserve_local(estimate, unix_ms, now);
  }
  const NanoUsd cap = caps.day > 0 && (caps.month == 0 || caps.day < caps.month) ? caps.day : caps.month;
  const auto slice = static_cast<NanoUsd>(lease_slice(static_cast<std::uint64_t>(cap), b_.config().lease_fraction,
                                                      b_.replicas()));
  return lease_.reserve(estimate, unix_ms, now, slice);
}

void RedisSpend::settle(NanoUsd estimate, NanoUsd actual, std::int64_t unix_ms, Nanos) {
  std::lock_guard lock(mu_);
  estimate = std::max<NanoUsd>(estimate, 0);
  if (fallback_ && fallback_reserved_ >= estimate && estimate > 0) {
    fallback_reserved_ -= estimate;
    fallback_->settle(estimate, actual, unix_ms);
    lease_.settle(0, actual);  // the spend still reaches Redis once it is back
  } else {
    lease_.settle(estimate, actual);
  }
}

SpendView RedisSpend::local_view(std::int64_t) {
  std::lock_guard lock(mu_);
  return lease_.local_view();
}

std::optional<redis::Command> RedisSpend::refill_command(Nanos, std::int64_t unix_ms) {
  std::lock_guard lock(mu_);
  if (lease_.need() == 0) {
    return std::nullopt;
  }
  sending_ = lease_.take_unsent();
  return command(lease_.want(), lease_.need(), sending_, unix_ms);
}

void RedisSpend::on_refill(const redis::Reply& r, Nanos now) {
  std::lock_guard lock(mu_);
  sending_ = 0;
  const std::int64_t unix_ms = unix_now_ms();
  const SpendView v = view_of(r, unix_ms);
  const bool granted = r.at(0) != 0;
  BudgetVerdict refused;
  if (!granted) {
    const NanoUsd others = v.reserved - r.at(1) + lease_.floor();
    refused = budget_check(caps_, v.day_spent + others, v.month_spent + others, v.periods);
    if (refused.allowed) {  // the caps changed between the call and now: report the tighter one as spent
      refused = {false, BudgetPeriod::kDay, caps_.day, v.day_spent + others, v.periods.day_end_ms};
    }
  }
  lease_.on_reply(granted, r.at(1), v, refused, now, spend_ms_ns(b_.config().sync_interval));
  last_sync_ = now;
}

void RedisSpend::on_refill_failed(Nanos now, bool sent) {
  std::lock_guard lock(mu_);
  if (!sent) {
    lease_.restore_unsent(sending_);  // never left: send it with the next call
  }
  sending_ = 0;
  fallback_until_ = now + spend_ms_ns(b_.config().sync_interval);
}

std::vector<redis::Command> RedisSpend::sync_commands(Nanos now, std::int64_t unix_ms) {
  std::lock_guard lock(mu_);
  std::vector<redis::Command> out;
  const NanoUsd shrink = lease_.shrink_to(now, spend_ms_ns(b_.config().lease_ttl));
  const bool keepalive = lease_.held() > 0 && now - last_sync_ >= b_.allotment_ttl_ms() * 1'000'000 / 3;
  syncing_ = lease_.take_unsent();
  if (syncing_ == 0 && shrink < 0 && !keepalive) {
    return out;
  }
  out.push_back(command(shrink >= 0 ? shrink : lease_.held(), 0, syncing_, unix_ms));
  return out;
}

void RedisSpend::on_sync(const redis::Replies& r, redis::CallError err, Nanos now) {
  std::lock_guard lock(mu_);
  if (err == redis::CallError::kUnavailable) {
    lease_.restore_unsent(syncing_);  // never sent
  } else if (err == redis::CallError::kNone && !r.empty() && !r.front().is_error()) {
    const std::int64_t unix_ms = unix_now_ms();
    lease_.set_held(r.front().at(1));
    lease_.set_shared(view_of(r.front(), unix_ms));
    last_sync_ = now;
  }
  syncing_ = 0;
}

redis::Command RedisSpend::view_command(std::int64_t unix_ms) {
  std::lock_guard lock(mu_);
  return command(lease_.held(), 0, 0, unix_ms);
}

SpendView RedisSpend::read_view(const redis::Reply& r, std::int64_t unix_ms) {
  std::lock_guard lock(mu_);
  return view_of(r, unix_ms);
}

}  // namespace sluice::state
