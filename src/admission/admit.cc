#include "admission/admit.h"

#include <fmt/format.h>

#include "admission/token_estimate.h"
#include "http/openai_error.h"

namespace sluice::admission {

namespace {
Nanos now_ns() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

// Whole seconds, rounded up, at least 1 (Retry-After has no fractions).
std::string retry_after_seconds(Nanos ns) { return std::to_string(std::max<Nanos>(1, (ns + 999'999'999) / 1'000'000'000)); }

void set_rate_headers(http::Responder& res, const KeyDecision& d) {
  if (d.requests.limit != 0) {
    res.set_header("x-ratelimit-limit-requests", std::to_string(d.requests.limit));
    res.set_header("x-ratelimit-remaining-requests", std::to_string(d.requests.remaining));
    res.set_header("x-ratelimit-reset-requests", format_reset(d.requests.reset_ns));
  }
  if (d.tokens.limit != 0) {
    res.set_header("x-ratelimit-limit-tokens", std::to_string(d.tokens.limit));
    res.set_header("x-ratelimit-remaining-tokens", std::to_string(d.tokens.remaining));
    res.set_header("x-ratelimit-reset-tokens", format_reset(d.tokens.reset_ns));
  }
}

net::awaitable<void> send_limited(http::Responder& res, const KeyDecision& d, std::string_view key,
                                  std::uint64_t tokens) {
  std::string message;
  std::string retry;
  switch (d.rejected) {
    case LimitKind::kRequests:
      message = fmt::format("Rate limit reached for key {} on requests per window: limit {}. Please try again in {}.",
                            key, d.requests.limit, format_reset(d.retry_after_ns));
      retry = retry_after_seconds(d.retry_after_ns);
      break;
    case LimitKind::kTokens:
      if (d.too_large) {
        message = fmt::format("Request too large for key {} on tokens per window: limit {}, requested {} (estimate "
                              "including max_tokens). Lower max_tokens or the prompt.",
                              key, d.tokens.limit, tokens);
      } else {
        message = fmt::format("Rate limit reached for key {} on tokens per window: limit {}, requested {}. Please try "
                              "again in {}.",
                              key, d.tokens.limit, tokens, format_reset(d.retry_after_ns));
        retry = retry_after_seconds(d.retry_after_ns);
      }
      break;
    default:
      message = fmt::format("Too many concurrent requests for key {}. Please retry when one finishes.", key);
      retry = "1";
      break;
  }
  if (!retry.empty()) {
    res.set_header("retry-after-ms", std::to_string(std::max<Nanos>(1, d.retry_after_ns / 1'000'000)));
  }
  const char* type = d.rejected == LimitKind::kTokens ? "tokens" : "requests";
  co_await res.send_error(bhttp::status::too_many_requests, message, type, "rate_limit_exceeded", retry);
}
// X-Priority, capped by the key's policy, decides the class; the client sees which one it got.
void set_priority(const AdmitInput& in, const KeyEntry* key, http::Responder& res, Admitted& out) {
  out.priority = Admission::priority_for(key, in.priority_header);
  res.set_header("x-sluice-priority", config::to_string(out.priority));
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

bool admit_now(const AdmitInput& in, http::Responder& res, Admitted& out) {
  const KeyEntry* key = in.admission.key(in.key_name);
  if (key != nullptr &&
      (!key->allows(in.view.model) || key->all.any() || key->model_limits(in.view.model) != nullptr)) {
    return false;
  }
  if (in.admission.gate(in.group.model->name) != nullptr) {
    return false;
  }
  out.group = &in.group;
  set_priority(in, key, res, out);
  return true;
}

net::awaitable<bool> admit(const AdmitInput& in, http::Responder& res, Admitted& out) {
  const KeyEntry* key = in.admission.key(in.key_name);
  out.group = &in.group;
  if (key != nullptr && !key->allows(in.view.model)) {
    out.failure = "model_not_allowed";
    co_await res.send_error(bhttp::status::forbidden,
                            fmt::format("The key {} is not allowed to use the model `{}`.", key->name, in.view.model),
                            "invalid_request_error", "model_not_allowed");
    co_return false;
  }
  if (key != nullptr && (key->all.any() || key->model_limits(in.view.model) != nullptr)) {
    const bool count_tokens =
        !key->all.tokens.unlimited() ||
        (key->model_limits(in.view.model) && !key->model_limits(in.view.model)->tokens.unlimited());
    const std::uint64_t tokens =
        count_tokens ? estimate_request_tokens(in.body, in.view.max_tokens, key->policy.default_max_tokens) : 0;
    KeyDecision d = check_key(*key, in.view.model, tokens, now_ns(), out.ticket);
    set_rate_headers(res, d);
    if (d.rejected != LimitKind::kNone) {
      key->limited[static_cast<std::size_t>(d.rejected) - 1]->inc();
      out.failure = std::string("rate_limited_") + to_string(d.rejected);
      co_await send_limited(res, d, key->name, tokens);
      co_return false;
    }
  }
  set_priority(in, key, res, out);
  const std::shared_ptr<GroupGate>* gate = in.admission.gate(in.group.model->name);
  if (gate == nullptr) {
    co_return true;
  }
  WaitHook hook;
  out.gated = true;
  res.watch_client([&hook] { hook.cancel(); });
  GateResult r = co_await (*gate)->acquire(out.priority, in.deadline, hook);
  res.unwatch();
  out.waited = r.waited;
  if (hook.gone || r.reason == ShedReason::kClientGone) {
    out.failure = "client_gone";  // a slot granted in the same instant goes back with `r`
    co_return false;
  }
  if (r.slot) {
    out.slot = std::move(r.slot);
    co_return true;
  }
  // Degradation: a cheaper model for this class instead of an error, through its own gate (no further hops).
  if (const std::string& to = in.admission.degrade_to(in.group.model->name, out.priority); !to.empty()) {
    if (const routing::Group* g = in.router.group(to)) {
      const std::shared_ptr<GroupGate>* g2 = in.admission.gate(to);
      GateResult r2;
      if (g2 != nullptr) {
        res.watch_client([&hook] { hook.cancel(); });
        r2 = co_await (*g2)->acquire(out.priority, in.deadline, hook);
        res.unwatch();
      }
      if (g2 == nullptr || r2.slot) {
        out.slot = std::move(r2.slot);
        out.group = g;
        out.waited += r2.waited;
        res.set_header("x-sluice-degraded", fmt::format("{} -> {} ({})", in.group.model->name, to, to_string(r.reason)));
        co_return true;
      }
    }
  }
  out.failure = std::string("shed_") + to_string(r.reason);
  const Nanos retry_ns = std::chrono::nanoseconds(r.retry_after).count();
  res.set_header("retry-after-ms", std::to_string(std::max<std::int64_t>(1, r.retry_after.count())));
  co_await res.send_error(
      bhttp::status::service_unavailable,
      fmt::format("The gateway is shedding {} priority requests for `{}` ({}). Please retry after {}.",
                  config::to_string(out.priority), in.group.model->name, to_string(r.reason), format_reset(retry_ns)),
      "server_error", "overloaded", retry_after_seconds(retry_ns));
  co_return false;
}

void reconcile(Admitted& a, const std::optional<openai::Usage>& usage) {
  if (usage && a.ticket.charged_tokens() > 0) {
    a.ticket.reconcile(static_cast<std::uint64_t>(usage->prompt_tokens + usage->completion_tokens), now_ns());
  }
}

}  // namespace sluice::admission
