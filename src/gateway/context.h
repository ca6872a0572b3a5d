#pragma once
// One proxied request, as the stages of the pipeline see it (docs/architecture.md): built once when the
// request arrives, filled by each stage in turn (authenticate → validate → admit → cache → execute → settle),
// read by the writer and the access log. Stages return decisions; what they learn about the request lives
// here.
#include <chrono>
#include <string>
#include <string_view>

#include "admission/admit.h"
#include "cache/lookup.h"
#include "common/cancel_scope.h"
#include "gateway/executor.h"
#include "gateway/gateway_metrics.h"
#include "http/answer_headers.h"
#include "http/h1.h"
#include "openai/request_view.h"
#include "telemetry/access_log.h"

namespace sluice::gateway {

enum class Endpoint { kChatCompletions, kCompletions, kEmbeddings };

struct GatewayState;

struct RequestContext {
  RequestContext(GatewayState& st, GatewayMetrics& m, Endpoint ep, std::string_view p, std::string_view key,
                 http::h1::Request& r, Clock::time_point now)
      : state(st), endpoint(ep), path(p), key_name(key), req(r), started(now), fresh(now), metrics(m, now) {}
  RequestContext(const RequestContext&) = delete;
  RequestContext& operator=(const RequestContext&) = delete;

  GatewayState& state;
  const Endpoint endpoint;
  const std::string_view path;      // "/chat/completions" (without /v1)
  const std::string_view key_name;  // the virtual key ("" when the gateway has none)
  http::h1::Request& req;
  const Clock::time_point started;
  // `started` while nothing has waited since (routing and key pacing need no finer time); cleared by a wait.
  Clock::time_point fresh;
  Clock::time_point deadline;  // the model's request_timeout, shortened by X-Request-Timeout
  std::string priority;        // X-Priority, lowercased ("" when absent)
  openai::RequestView view;
  std::string body;  // taken from the request once admitted
  const routing::Group* group =
      nullptr;                   // after admission: the group that answers (degradation may change it)
  http::AnswerHeaders headers;   // sent with the answer, whoever writes it
  admission::Admitted admitted;  // the key's and the group's slots, held until the answer is sent
  cache::CacheTicket ticket;
  ExecuteResult result;
  CancelScope cancel;  // the client leaving stops waits and (unless others share it) the upstream
  RequestMetrics metrics;
  telemetry::AccessRecord log;

  void on_client_gone() { cancel.cancel(ticket.shared() ? CancelScope::kWait : CancelScope::kAll); }
};

}  // namespace sluice::gateway
