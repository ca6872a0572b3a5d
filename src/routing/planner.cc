#include "routing/planner.h"

#include "routing/retry_rules.h"

namespace sluice::routing {

Action Planner::start(Clock::time_point now) {
  tried_.assign(view_.hosts(group_), false);
  return plan_attempt(now, {});
}

// Hosts whose every provider key is out of headroom count as tried while another host can take the request:
// route around a provider's limit before it answers 429.
HostMask Planner::avoid_paced(Clock::time_point now) const {
  HostMask avoid = tried_;
  bool any_open = false;
  for (std::size_t i = 0; i < avoid.size(); ++i) {
    if (!avoid[i] && !view_.key_headroom(group_, i, now)) {
      avoid[i] = true;
    }
    any_open = any_open || !avoid[i];
  }
  return any_open ? avoid : tried_;
}

bool Planner::all_keys_refused(Clock::time_point now) const {
  for (std::size_t i = 0; i < view_.hosts(group_); ++i) {
    if (!view_.keys_refused(group_, i, now)) {
      return false;
    }
  }
  return true;
}

// The next group of the chain, once this one used its attempts; false at the end of the chain.
bool Planner::advance_group() {
  if (group_ + 1 >= view_.groups()) {
    return false;
  }
  ++group_;
  tries_ = 0;
  tried_.assign(view_.hosts(group_), false);
  return true;
}

Action Planner::plan_attempt(Clock::time_point now, std::string_view retry_after) {
  while (tries_ >= view_.model(group_).retry.max_attempts) {
    if (!advance_group()) {
      return {};
    }
  }
  const config::Model& model = view_.model(group_);
  const std::size_t idx = view_.pick(group_, avoid_paced(now), now, true);
  Action a{.step = Step::kAttempt, .group = group_, .host = idx, .retry = attempts_ > 0};
  if (a.retry) {
    // A retry (or the first try of a fallback group) must fit the budget and the deadline.
    if (!view_.admit_retry(group_, now)) {
      return {.note = "retry throttled (most recent attempts failed)"};
    }
    const auto after = parse_retry_after(retry_after);
    if (after && tried_[idx] && !view_.key_headroom(group_, idx, now)) {
      a.delay = retry_after_jitter(*after, rng_);  // the same host asked us to wait
    } else if (tries_ > 0) {
      a.delay = full_jitter({model.retry.backoff_base, model.retry.backoff_cap}, tries_ - 1, rng_);
    }
    const auto remaining = std::chrono::duration_cast<Ms>(limits_.deadline - now);
    if (!fit_before_deadline(a.delay, remaining)) {
      return {.note = "no time left for another attempt"};
    }
  }
  tried_[idx] = true;
  ++tries_;
  ++attempts_;
  if (limits_.may_hedge && view_.hosts(group_) > 1) {
    a.hedge_after = view_.hedge_delay(group_);
  }
  return a;
}

std::optional<std::size_t> Planner::hedge(Clock::time_point now) {
  const std::size_t h = view_.pick(group_, tried_, now, false);
  if (tried_[h] || !view_.available(group_, h, now) || !view_.admit_retry(group_, now)) {
    return std::nullopt;  // only an untried healthy host, and only when retries are admitted
  }
  tried_[h] = true;
  return h;
}

Action Planner::plan_resume(const AttemptReport& r, Clock::time_point now) {
  const config::Model& model = view_.model(group_);
  const bool may = r.resumable && resumes_ < model.failover.max_resumes && now < limits_.deadline;
  const std::size_t h = view_.pick(group_, tried_, now, false);
  if (!may || !view_.admit_retry(group_, now)) {
    return {.step = Step::kEndStream};
  }
  tried_[h] = true;
  ++resumes_;
  return {.step = Step::kResume, .group = group_, .host = h};
}

Action Planner::next(const AttemptReport& r, Clock::time_point now) {
  if (r.client_gone) {
    return {};  // the client left; that says nothing about the host
  }
  if (resuming_ || r.broken_stream || r.cut_short) {
    // Failover of a partial answer: a stream open and unfinished, or a non-stream answer cut short. After a
    // continuation, any failure leaves it so.
    if (!limits_.may_resume || !view_.model(group_).failover.enabled) {
      return {.step = Step::kEndStream};
    }
    resuming_ = true;
    if (r.failure == UpstreamFailure::kNone && !r.cut_short) {
      return {};
    }
    return plan_resume(r, now);
  }
  // A 401/402/403 speaks about the gateway's credentials at that upstream, not about the request: another key
  // of the same upstream may answer it, else another host.
  const bool credentials = r.status == 401 || r.status == 402 || r.status == 403;
  if (credentials && view_.key_headroom(group_, r.host, now)) {
    tried_[r.host] = false;
  } else if (credentials && all_keys_refused(now) && !advance_group()) {
    return {};  // every key of every host of the chain is refused again and again: another try answers the same
  }
  if (r.failure == UpstreamFailure::kNone || r.committed || (!retriable(r.failure) && !credentials)) {
    return {};
  }
  return plan_attempt(now, r.retry_after);
}

}  // namespace sluice::routing
