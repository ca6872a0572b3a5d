#include "admission/group_gate.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <limits>

namespace sluice::admission {

const char* to_string(ShedReason r) {
  switch (r) {
    case ShedReason::kNone:
      return "none";
    case ShedReason::kQueueFull:
      return "queue_full";
    case ShedReason::kDeadline:
      return "deadline";
    case ShedReason::kMaxWait:
      return "max_wait";
    case ShedReason::kCodel:
      return "codel";
    case ShedReason::kClientGone:
      return "client_gone";
    case ShedReason::kNoHeadroom:
      return "no_headroom";
  }
  return "none";
}

struct GroupGate::Waiter {
  explicit Waiter(const net::any_io_executor& e) : ex(e), timer(e) {}
  net::any_io_executor ex;
  net::steady_timer timer;
  Clock::time_point enqueued;
  bool granted = false;  // guarded by the gate's mutex
};

Slot& Slot::operator=(Slot&& o) noexcept {
  if (this != &o) {
    release();
    gate_ = std::move(o.gate_);
    since_ = o.since_;
  }
  return *this;
}

void Slot::release() {
  if (gate_) {
    gate_->release(Clock::now() - since_);
    gate_.reset();
  }
}

namespace {
AdaptiveParams adaptive_params(const config::AdmissionGroup& g) {
  AdaptiveParams p;
  p.algorithm = g.adaptive;
  p.max_limit = std::max<double>(g.max_concurrent, 1);
  p.min_limit = std::min<double>(std::max<double>(g.min_concurrent, 1), p.max_limit);
  p.initial = g.initial_concurrent != 0 ? g.initial_concurrent : std::max(p.min_limit, p.max_limit / 2);
  return p;
}

using Ms = std::chrono::milliseconds;
}  // namespace

GroupGate::GroupGate(std::string name, const config::AdmissionGroup& group, const config::AdmissionConfig& cfg)
    : name_(std::move(name)),
      adaptive_(adaptive_params(group)),
      queue_(cfg.policy, cfg.weights),
      metrics_(make_gate_metrics(name_)) {
  apply_config_locked(group, cfg);
  collector_ = telemetry::metrics().add_collector([this] {
    std::lock_guard lock(mu_);
    for (std::size_t c = 0; c < kPriorityCount; ++c) {
      metrics_.depth[c]->set(double(queue_.size(static_cast<Priority>(c))));
    }
    const double lim = limit_locked();
    metrics_.limit->set(std::isinf(lim) ? 0.0 : lim);
    const double pending = double(pending_locked());
    metrics_.pending->set(pending);
    // Gates come and go with reloads; each adds only the change of its own share to the pod total.
    metrics_.pending_total->add(pending - pending_reported_);
    pending_reported_ = pending;
  });
}

GroupGate::~GroupGate() {
  telemetry::metrics().remove_collector(collector_);  // waits for a running scrape: no collector runs after
  metrics_.pending_total->add(-pending_reported_);
  metrics_.pending->set(0);
}

void GroupGate::apply_config_locked(const config::AdmissionGroup& group, const config::AdmissionConfig& cfg) {
  group_ = group;
  codel_interval_ = cfg.codel_interval;
  codel_.configure(std::chrono::nanoseconds(cfg.codel_target).count(),
                   std::chrono::nanoseconds(cfg.codel_interval).count());
  queue_.configure(cfg.policy, cfg.weights);
}

void GroupGate::reconfigure(const config::AdmissionGroup& group, const config::AdmissionConfig& cfg) {
  std::lock_guard lock(mu_);
  apply_config_locked(group, cfg);
  adaptive_.set_params(adaptive_params(group));
  dispatch_locked(Clock::now());
}

double GroupGate::limit_locked() const {
  if (group_.adaptive != config::AdaptiveAlgorithm::kOff) {
    return std::max(1.0, std::floor(adaptive_.limit()));
  }
  return group_.max_concurrent == 0 ? std::numeric_limits<double>::infinity() : double(group_.max_concurrent);
}

double GroupGate::batch_limit_locked() const {
  const double lim = limit_locked();
  return std::isinf(lim) ? lim : std::floor(lim * double(100 - group_.batch_reserve) / 100.0);
}

double GroupGate::limit() const {
  std::lock_guard lock(mu_);
  return limit_locked();
}

std::size_t GroupGate::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

std::size_t GroupGate::pending_locked() const {
  const double lim = limit_locked();
  const double over = std::isinf(lim) ? 0.0 : std::max(0.0, double(in_flight_) - lim);
  return queue_.size() + static_cast<std::size_t>(over);
}

std::size_t GroupGate::pending() const {
  std::lock_guard lock(mu_);
  return pending_locked();
}

std::size_t GroupGate::queued(Priority p) const {
  std::lock_guard lock(mu_);
  return queue_.size(p);
}

Ms GroupGate::estimate_wait_locked(std::size_t ahead) const {
  if (hold_ewma_ms_ <= 0) {
    return Ms{0};  // nothing measured yet: no basis to shed on
  }
  const double lim = std::isinf(limit_locked()) ? 1.0 : limit_locked();
  return Ms{static_cast<std::int64_t>(std::ceil(double(ahead + 1) * hold_ewma_ms_ / lim))};
}

net::awaitable<GateResult> GroupGate::acquire(Priority prio, Clock::time_point deadline, WaitHook& hook) {
  const auto c = static_cast<std::size_t>(prio);
  const net::any_io_executor ex = co_await net::this_coro::executor;
  auto now = Clock::now();
  GateResult out;
  std::shared_ptr<Waiter> w;
  Ms budget{0};
  bool deadline_bound = false;
  {
    std::lock_guard lock(mu_);
    if (prio == Priority::kBatch) {
      // Batch work takes only spare capacity, now: it never waits in (or fills) the interactive queue.
      if (!queue_.empty() || double(in_flight_) >= batch_limit_locked()) {
        out.reason = ShedReason::kNoHeadroom;
        out.retry_after = Ms(std::max<std::int64_t>(1, static_cast<std::int64_t>(hold_ewma_ms_)));
        stats_.shed[c][static_cast<std::size_t>(out.reason)].fetch_add(1, std::memory_order_relaxed);
        metrics_.shed[c][static_cast<std::size_t>(out.reason)]->inc();
        co_return out;
      }
    }
    if (queue_.empty() && double(in_flight_) < limit_locked()) {
      ++in_flight_;
      stats_.admitted[c].fetch_add(1, std::memory_order_relaxed);
      metrics_.wait[c]->observe(0.0);
      out.slot = Slot(shared_from_this(), now);
    } else {
      const Ms est = estimate_wait_locked(queue_.ahead(prio));
      const Ms to_deadline = std::chrono::duration_cast<Ms>(deadline - now);
      budget = std::min(to_deadline, group_.max_wait[c]);
      deadline_bound = to_deadline <= group_.max_wait[c];
      if (queue_.size() >= group_.max_queue) {
        out.reason = ShedReason::kQueueFull;
      } else if (budget.count() <= 0 || est > budget) {
        out.reason = deadline_bound ? ShedReason::kDeadline : ShedReason::kMaxWait;
      } else if (prio != Priority::kHigh && est > codel_interval_ && codel_.overloaded(now.time_since_epoch().count())) {
        out.reason = ShedReason::kCodel;
      }
      if (out.reason != ShedReason::kNone) {
        out.retry_after = est.count() > 0 ? est : Ms(static_cast<std::int64_t>(hold_ewma_ms_));
        stats_.shed[c][static_cast<std::size_t>(out.reason)].fetch_add(1, std::memory_order_relaxed);
        metrics_.shed[c][static_cast<std::size_t>(out.reason)]->inc();
      } else {
        w = std::make_shared<Waiter>(ex);
        w->enqueued = now;
        queue_.push(prio, w);
        stats_.queued[c].fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  if (!w) {
    co_return out;
  }
  // No suspension between the push above and this wait, so a wake-up posted by another thread always finds
  // the wait pending (the post runs on this thread, after we suspend).
  w->timer.expires_after(budget);
  hook.timer = &w->timer;
  if (!hook.gone) {
    co_await w->timer.async_wait(use_tuple);
  }
  hook.timer = nullptr;
  now = Clock::now();
  out.waited = std::chrono::duration_cast<Ms>(now - w->enqueued);
  std::lock_guard lock(mu_);
  if (w->granted) {
    stats_.admitted[c].fetch_add(1, std::memory_order_relaxed);
    metrics_.wait[c]->observe(std::chrono::duration<double>(now - w->enqueued).count());
    out.slot = Slot(shared_from_this(), now);
    co_return out;
  }
  queue_.remove(prio, w);
  out.reason = hook.gone ? ShedReason::kClientGone : (deadline_bound ? ShedReason::kDeadline : ShedReason::kMaxWait);
  const Ms est = estimate_wait_locked(queue_.ahead(prio));
  out.retry_after = est.count() > 0 ? est : Ms(static_cast<std::int64_t>(hold_ewma_ms_));
  stats_.shed[c][static_cast<std::size_t>(out.reason)].fetch_add(1, std::memory_order_relaxed);
  metrics_.shed[c][static_cast<std::size_t>(out.reason)]->inc();
  co_return out;
}

void GroupGate::dispatch_locked(Clock::time_point now) {
  while (!queue_.empty() && double(in_flight_) < limit_locked()) {
    std::shared_ptr<Waiter> w = *queue_.pop();
    w->granted = true;
    ++in_flight_;
    codel_.on_dequeue((now - w->enqueued).count(), now.time_since_epoch().count());
    net::post(w->ex, [w] { w->timer.cancel(); });
  }
}

void GroupGate::release(Clock::duration held) {
  std::lock_guard lock(mu_);
  --in_flight_;
  const double ms = std::chrono::duration<double, std::milli>(held).count();
  hold_ewma_ms_ = hold_ewma_ms_ == 0 ? ms : 0.9 * hold_ewma_ms_ + 0.1 * ms;
  dispatch_locked(Clock::now());
}

void GroupGate::on_attempt(std::optional<double> ttft_ms, bool overload_signal) {
  int changed_to = 0;
  int was = 0;
  {
    std::lock_guard lock(mu_);
    if (group_.adaptive == config::AdaptiveAlgorithm::kOff) {
      return;
    }
    const auto now = Clock::now();
    const std::int64_t ns = now.time_since_epoch().count();
    if (overload_signal) {
      adaptive_.on_overload(ns);
    } else if (ttft_ms) {
      adaptive_.on_success(*ttft_ms, double(in_flight_) * 2 >= limit_locked(), ns);
    }
    dispatch_locked(now);
    const int lim = static_cast<int>(limit_locked());
    if (lim != logged_limit_ && now - logged_at_ >= std::chrono::seconds(1)) {
      was = logged_limit_;
      changed_to = lim;
      logged_limit_ = lim;
      logged_at_ = now;
    }
  }
  if (changed_to != 0) {
    spdlog::info("admission: group {} concurrency limit {} (was {})", name_, changed_to, was);
  }
}

}  // namespace sluice::admission
