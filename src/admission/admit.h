#pragma once
// The admission step of one proxied request, between routing and the upstream plan: model allowed for the
// key, per-key limits (429 + x-ratelimit-* headers), priority from X-Priority capped by the key, then the
// group's gate (queue or 503 with an honest Retry-After; or the configured degradation model). Every
// rejection is answered here, before any upstream work.
#include <optional>
#include <string>

#include "admission/admission.h"
#include "http/responder.h"
#include "openai/request_view.h"
#include "openai/usage.h"
#include "routing/router.h"
#include "telemetry/access_log.h"

namespace sluice::admission {

struct Admitted {
  KeyTicket ticket;  // key concurrency + token charge; reconciled with usage at the end
  Slot slot;         // the group's concurrency slot; released when this object dies
  const routing::Group* group = nullptr;  // may differ from the requested one after degradation
  Priority priority = Priority::kMedium;
  std::chrono::milliseconds waited{0};
  std::string failure;  // set when the request was answered here ("rate_limited_requests", "shed_codel", ...)
  bool gated = false;   // went through a group gate (queued or not)

  // Priority and queue wait into the access-log record (when a gate was involved).
  void log_to(telemetry::AccessRecord& log) const {
    if (gated) {
      log.priority = config::to_string(priority);
      log.queue_ms = waited.count();
    }
  }
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
};

// True when the request may go on (out.group set); false when it was answered (out.failure says why).
net::awaitable<bool> admit(const AdmitInput& in, http::Responder& res, Admitted& out);

// admit() for the common case that needs no waiting and no answer (no per-key limits to check, no gate):
// true after doing what admit() would; false, having changed nothing, when admit() must decide. A plain
// function, so the common case costs no coroutine frame.
bool admit_now(const AdmitInput& in, http::Responder& res, Admitted& out);

// After the answer: replaces the token estimate with the provider's usage.
void reconcile(Admitted& a, const std::optional<openai::Usage>& usage);

// "20ms", "1s", "6m0s": the form OpenAI uses in x-ratelimit-reset-*.
std::string format_reset(Nanos ns);

}  // namespace sluice::admission
