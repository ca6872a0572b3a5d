#include "admission/admit.h"

#include <fmt/format.h>

#include "common/coarse_clock.h"

namespace sluice::admission {

namespace {
Nanos now_ns() { return std::chrono::steady_clock::now().time_since_epoch().count(); }
std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(CoarseWallClock::now().time_since_epoch()).count();
}

// Whole seconds, rounded up, at least 1 (Retry-After has no fractions).
std::string retry_after_seconds(Nanos ns) {
  return std::to_string(std::max<Nanos>(1, (ns + 999'999'999) / 1'000'000'000));
}

void set_rate_headers(http::AnswerHeaders& h, const KeyDecision& d) {
  if (d.requests.limit != 0) {
    h.set("x-ratelimit-limit-requests", std::to_string(d.requests.limit));
    h.set("x-ratelimit-remaining-requests", std::to_string(d.requests.remaining));
    h.set("x-ratelimit-reset-requests", format_reset(d.requests.reset_ns));
  }
  if (d.tokens.limit != 0) {
    h.set("x-ratelimit-limit-tokens", std::to_string(d.tokens.limit));
    h.set("x-ratelimit-remaining-tokens", std::to_string(d.tokens.remaining));
    h.set("x-ratelimit-reset-tokens", format_reset(d.tokens.reset_ns));
  }
}

Rejection limited(const KeyDecision& d, std::string_view key, std::uint64_t tokens, http::AnswerHeaders& h) {
  Rejection r{.status = 429,
              .type = d.rejected == LimitKind::kTokens ? "tokens" : "requests",
              .code = "rate_limit_exceeded",
              .failure = std::string("rate_limited_") + to_string(d.rejected)};
  switch (d.rejected) {
    case LimitKind::kRequests:
      r.message = fmt::format(
          "Rate limit reached for key {} on requests per window: limit {}. Please try again "
          "in {}.",
          key, d.requests.limit, format_reset(d.retry_after_ns));
      r.retry_after = retry_after_seconds(d.retry_after_ns);
      break;
    case LimitKind::kTokens:
      if (d.too_large) {
        r.message = fmt::format(
            "Request too large for key {} on tokens per window: limit {}, requested {} "
            "(estimate including max_tokens). Lower max_tokens or the prompt.",
            key, d.tokens.limit, tokens);
      } else {
        r.message = fmt::format(
            "Rate limit reached for key {} on tokens per window: limit {}, requested {}. "
            "Please try again in {}.",
            key, d.tokens.limit, tokens, format_reset(d.retry_after_ns));
        r.retry_after = retry_after_seconds(d.retry_after_ns);
      }
      break;
    case LimitKind::kBudget:  // state hook: spend budgets (admission/budget.h)
      r.type = "insufficient_quota";
      r.code = "budget_exceeded";
      r.message = budget_message(key, d.budget, d.budget.resets_at_ms - d.retry_after_ns / 1'000'000);
      r.retry_after = retry_after_seconds(d.retry_after_ns);
      break;
    case LimitKind::kUnavailable:  // state hook: shared state away and fail_mode closed
      r.status = 503;
      r.type = "server_error";
      r.code = "state_unavailable";
      r.message = fmt::format(
          "The limits of key {} cannot be checked right now (shared state unavailable). Please retry shortly.",
          key);
      r.retry_after = "1";
      break;
    default:
      r.message =
          fmt::format("Too many concurrent requests for key {}. Please retry when one finishes.", key);
      r.retry_after = "1";
      break;
  }
  if (!r.retry_after.empty()) {
    h.set("retry-after-ms", std::to_string(std::max<Nanos>(1, d.retry_after_ns / 1'000'000)));
  }
  return r;
}

Rejection shed(const AdmitInput& in, Priority prio, const GateResult& r, http::AnswerHeaders& h) {
  const Nanos retry_ns = std::chrono::nanoseconds(r.retry_after).count();
  h.set("retry-after-ms", std::to_string(std::max<std::int64_t>(1, r.retry_after.count())));
  return {.status = 503,
          .message = fmt::format(
              "The gateway is shedding {} priority requests for `{}` ({}). Please retry after {}.",
              config::to_string(prio), in.group.model->name, to_string(r.reason), format_reset(retry_ns)),
          .type = "server_error",
          .code = "overloaded",
          .retry_after = retry_after_seconds(retry_ns),
          .failure = std::string("shed_") + to_string(r.reason)};
}

// Waits at one gate; the scope's kWait hooks wake the waiter when the client leaves.
net::awaitable<GateResult> wait_at(GroupGate& gate, Priority prio, Clock::time_point deadline,
                                   CancelScope& cancel, WaitHook& hook) {
  auto wake = [&hook] { hook.cancel(); };
  const CancelScope::Hook registered(cancel, CancelScope::kWait, wake);
  co_return co_await gate.acquire(prio, deadline, hook);
}
}  // namespace

std::string format_reset(Nanos ns) {
  const std::int64_t ms = (std::max<Nanos>(ns, 0) + 999'999) / 1'000'000;
  if (ms < 1000) {
    return fmt::format("{}ms", ms);
  }
  const std::int64_t s = (ms + 999) / 1000;
  if (s < 60) {
    return fmt::format("{}s", s);
  }
  return fmt::format("{}m{}s", s / 60, s % 60);
}

namespace {
// The key's decision (when it has limits or a budget) into headers or a rejection; then the priority class and
// whether the group's gate decides.
AdmitDecision after_key(const AdmitInput& in, const KeyEntry* key, const KeyDecision& d, const RequestCost& cost,
                        Admitted& out, http::AnswerHeaders& headers) {
  if (key != nullptr && key->checks(in.view.model)) {
    set_rate_headers(headers, d);
    if (d.rejected != LimitKind::kNone) {
      key->limited[static_cast<std::size_t>(d.rejected) - 1]->inc();
      return {AdmitStep::kReject, limited(d, key->name, cost.tokens, headers)};
    }
  }
  // X-Priority, capped by the key's policy, decides the class; the client sees which one it got.
  out.priority = in.forced_priority ? *in.forced_priority : Admission::priority_for(key, in.priority_header);
  headers.set("x-sluice-priority", std::string(config::to_string(out.priority)));
  return {in.admission.gate(in.group.model->name) != nullptr ? AdmitStep::kQueue : AdmitStep::kGo, {}};
}
}  // namespace

AdmitDecision admit(const AdmitInput& in, Admitted& out, http::AnswerHeaders& headers) {
  const KeyEntry* key = in.admission.key(in.key_name);
  out.group = &in.group;
  if (key != nullptr && !key->allows(in.view.model)) {
    return {
        AdmitStep::kReject,
        {.status = 403,
         .message = fmt::format("The key {} is not allowed to use the model `{}`.", key->name, in.view.model),
         .type = "invalid_request_error",
         .code = "model_not_allowed",
         .failure = "model_not_allowed"}};
  }
  if (key != nullptr && key->checks(in.view.model)) {
    const RequestCost cost = in.admission.estimate(*key, in.view.model, in.body, in.view.max_tokens);
    const KeyDecision d = check_key(*key, in.view.model, cost, now_ns(), unix_ms_now(), out.ticket);
    if (d.pending()) {
      return {AdmitStep::kRefill, {}};  // state hook: a shared lease needs a refill (nothing charged)
    }
    return after_key(in, key, d, cost, out, headers);
  }
  return after_key(in, key, {}, {}, out, headers);
}

net::awaitable<AdmitDecision> admit_refilled(const AdmitInput& in, Admitted& out, http::AnswerHeaders& headers) {
  const KeyEntry* key = in.admission.key(in.key_name);
  const RequestCost cost = in.admission.estimate(*key, in.view.model, in.body, in.view.max_tokens);
  const KeyDecision d = co_await check_key_async(in.admission.backend(), *key, in.view.model, cost, out.ticket);
  co_return after_key(in, key, d, cost, out, headers);
}

net::awaitable<AdmitDecision> admit_queued(const AdmitInput& in, Admitted& out, http::AnswerHeaders& headers,
                                           CancelScope& cancel) {
  const std::shared_ptr<GroupGate>* gate = in.admission.gate(in.group.model->name);
  WaitHook hook;
  out.gated = true;
  GateResult r = co_await wait_at(**gate, out.priority, in.deadline, cancel, hook);
  out.waited = r.waited;
  if (hook.gone || r.reason == ShedReason::kClientGone) {
    co_return AdmitDecision{AdmitStep::kReject,
                            {.failure = "client_gone"}};  // a slot granted now goes back with r
  }
  if (r.slot) {
    out.slot = std::move(r.slot);
    co_return AdmitDecision{};
  }
  // Degradation: a cheaper model for this class instead of an error, through its own gate (no further hops).
  if (const std::string& to = in.admission.degrade_to(in.group.model->name, out.priority); !to.empty()) {
    if (const routing::Group* g = in.router.group(to)) {
      const std::shared_ptr<GroupGate>* g2 = in.admission.gate(to);
      GateResult r2;
      if (g2 != nullptr) {
        r2 = co_await wait_at(**g2, out.priority, in.deadline, cancel, hook);
      }
      if (g2 == nullptr || r2.slot) {
        out.slot = std::move(r2.slot);
        out.group = g;
        out.waited += r2.waited;
        headers.set("x-sluice-degraded",
                    fmt::format("{} -> {} ({})", in.group.model->name, to, to_string(r.reason)));
        co_return AdmitDecision{};
      }
    }
  }
  co_return AdmitDecision{AdmitStep::kReject, shed(in, out.priority, r, headers)};
}

void reconcile(Admitted& a, const std::optional<openai::Usage>& usage, std::optional<double> cost_usd) {
  if (usage && a.ticket.charged_tokens() > 0) {
    a.ticket.reconcile(static_cast<std::uint64_t>(usage->prompt_tokens + usage->completion_tokens), now_ns());
  }
  // State hook: the budget reservation ends with the real cost (nullopt: unknown, the estimate stands).
  if (a.ticket.holds_budget()) {
    a.ticket.settle_cost(cost_usd ? std::optional<NanoUsd>(to_nano_usd(*cost_usd)) : std::nullopt, unix_ms_now(),
                         now_ns());
  }
}

}  // namespace sluice::admission
