#pragma once
// The admission step of one proxied request, between validation and the cache: model allowed for the key,
// per-key limits (429 + x-ratelimit-* headers), priority from X-Priority capped by the key, then the group's
// gate (queue, or 503 with an honest Retry-After, or the configured degradation model). It answers nobody
// itself: it returns a decision, and every rejection as data for the request's writer.
#include <optional>
#include <string>

#include "admission/admission.h"
#include "common/cancel_scope.h"
#include "http/answer_headers.h"
#include "openai/request_view.h"
#include "openai/usage.h"
#include "routing/router.h"

namespace sluice::admission {

struct Admitted {
  KeyTicket ticket;                       // key concurrency + token charge; reconciled with usage at the end
  Slot slot;                              // the group's concurrency slot; released when this object dies
  const routing::Group* group = nullptr;  // may differ from the requested one after degradation
  Priority priority = Priority::kMedium;
  std::chrono::milliseconds waited{0};
  bool gated = false;  // went through a group gate (queued or not)
};

// An answer instead of the upstream's: what the writer sends.
struct Rejection {
  unsigned status = 0;
  std::string message;
  std::string_view type;
  std::string_view code;
  std::string retry_after;  // whole seconds; empty: none
  std::string failure;      // for the access log: "rate_limited_requests", "shed_codel", ...
};

enum class AdmitStep : std::uint8_t {
  kGo,      // admitted (out.group set)
  kReject,  // answered by `rejection`
  kQueue,   // the group's gate decides: await admit_queued()
  kRefill,  // a key counter shared through the state backend needs a refill first: await admit_refilled()
};

struct AdmitDecision {
  AdmitStep step = AdmitStep::kGo;
  Rejection rejection;
};

struct AdmitInput {
  const Admission& admission;
  const routing::Router& router;
  std::string_view key_name;
  std::string_view priority_header;  // X-Priority
  const openai::RequestView& view;
  const std::string& body;
  const routing::Group& group;
  std::chrono::steady_clock::time_point deadline;
  // A class set by the caller, not a client (the Batch API's kBatch): X-Priority and the key's ceiling do not
  // apply.
  std::optional<config::Priority> forced_priority = std::nullopt;
};

// Everything that needs no waiting: the key's model allow-list and limits (charged here), the priority class.
// Headers for the answer (x-ratelimit-*, x-sluice-priority) go into `headers`.
AdmitDecision admit(const AdmitInput& in, Admitted& out, http::AnswerHeaders& headers);

// After kRefill: refills the key's leases from the shared state (one round trip, at most state.redis.timeout),
// then decides like admit(): kGo, kQueue or kReject.
net::awaitable<AdmitDecision> admit_refilled(const AdmitInput& in, Admitted& out, http::AnswerHeaders& headers);

// After kQueue: waits at the group's gate (a client leaving cancels it through the scope's kWait hooks), then
// admits, degrades to the group's degradation model, or sheds.
net::awaitable<AdmitDecision> admit_queued(const AdmitInput& in, Admitted& out, http::AnswerHeaders& headers,
                                           CancelScope& cancel);

// After the answer: replaces the token estimate with the provider's usage, and the budget reservation with the
// answer's cost (USD from the pricing table; nullopt when unknown: the estimate stands).
void reconcile(Admitted& a, const std::optional<openai::Usage>& usage, std::optional<double> cost_usd);

// "20ms", "1s", "6m0s": the form OpenAI uses in x-ratelimit-reset-*.
std::string format_reset(Nanos ns);

}  // namespace sluice::admission
