// The request path for the OpenAI endpoints: validate, pick the upstream, run the attempt while watching
// for the client to leave, answer honestly, log.
#include <spdlog/spdlog.h>

#include "admission/admit.h"
#include "common/json.h"
#include "common/strings.h"
#include "gateway/attempt.h"
#include "gateway/cache_path.h"
#include "gateway/gateway.h"
#include "http/openai_error.h"
#include "openai/request_view.h"
#include "openai/stream_options.h"
#include "routing/backoff.h"
#include "sluice/version.h"

namespace sluice::gateway {

namespace {

bool is_json_content_type(std::string_view ct) {
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') {
    ct.remove_suffix(1);
  }
  return equals_lower(ct, "application/json");
}


// An upstream error body is passed on when it already is an OpenAI error envelope; otherwise it is wrapped.
std::string client_error_body(const AttemptOutcome& o, const FailureInfo& info) {
  if (o.error_body.starts_with('{') && o.error_body.find("\"error\"") != std::string::npos &&
      openai::is_valid_json(o.error_body)) {
    return o.error_body;
  }
  return http::openai_error_body(fmt::format("{} (HTTP {})", info.message, o.upstream_status), info.type,
                                 info.name);
}
}  // namespace

net::awaitable<void> ProxyHandler::proxy(Endpoint ep, std::string_view path, std::string_view key_name,
                                         http::Request& req, http::Responder& res) {
  const auto started = Clock::now();
  RequestMetrics metrics{*state_.metrics, started};
  telemetry::AccessRecord log;
  log.request_id = res.request_id();
  log.key = key_name;
  log.method = req.method_string();
  log.path = path;

  auto finish_log = [&](std::string_view failure) {
    log.status = res.status() != 0 ? res.status() : 499;  // 499: client closed before any answer (nginx)
    log.failure = failure;
    log.bytes_out = res.bytes_sent();
    const auto now = Clock::now();
    log.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - started).count();
    state_.access_log->write(log);
    metrics.finish(log.status, now);
  };
  auto reject = [&](bhttp::status status, std::string_view message, std::string_view code,
                    std::string_view param = {}) -> net::awaitable<void> {
    std::string body = http::openai_error_body(message, "invalid_request_error", code);
    if (!param.empty()) {
      body.replace(body.find("\"param\":null"), 12, "\"param\":" + json_string(param));
    }
    http::Response r{status, 11};
    r.set(bhttp::field::content_type, "application/json");
    r.body() = std::move(body);
    co_await res.send(std::move(r));
    finish_log("bad_request");
  };

  if (!is_json_content_type(req[bhttp::field::content_type])) {
    {
      co_await reject(bhttp::status::unsupported_media_type, "Content-Type must be application/json",
                      "unsupported_media_type");
      co_return;
    }
  }
  openai::RequestView view;
  if (auto err = openai::parse_request_view(req.body(), view)) {
    {
      co_await reject(bhttp::status::bad_request, err->message, err->code, err->param);
      co_return;
    }
  }
  log.model = view.model;
  log.stream = view.stream;
  if (ep == Endpoint::kEmbeddings && view.stream) {
    {
      co_await reject(bhttp::status::bad_request, "embeddings do not support stream", "invalid_value",
                      "stream");
      co_return;
    }
  }
  const routing::Group* group = state_.router->group(view.model);
  if (!group) {
    {
      co_await reject(
          bhttp::status::not_found,
          fmt::format("The model `{}` does not exist or you do not have access to it.", view.model),
          "model_not_found", "model");
      co_return;
    }
  }
  metrics.info().model = group->model;
  metrics.set_stream(view.stream);
  auto deadline = started + group->model->request_timeout;
  if (auto t = routing::parse_retry_after(req["x-request-timeout"]); t && t->count() > 0) {
    deadline = std::min(deadline, started + *t);  // the client's own budget, in seconds
  }
  admission::Admitted admitted;  // holds the key's and the group's slots until the answer is sent
  const admission::AdmitInput admit_in(*state_.admission, *state_.router, key_name, req["x-priority"], view,
                                       req.body(), *group, deadline);
  const bool admitted_now = admission::admit_now(admit_in, res, admitted);
  if (!admitted_now && !co_await admission::admit(admit_in, res, admitted)) {
    admitted.log_to(log);
    finish_log(admitted.failure);
    co_return;
  }
  admitted.log_to(log);
  // `started` stands in for the clock until something waits (routing and key pacing need no finer time):
  // admit() may have queued, and the cache may wait below.
  Clock::time_point fresh = admitted_now ? started : Clock::time_point{};
  group = admitted.group;  // the degradation model when the requested class is being shed
  // After admission, so the cache works with the group that will answer (degradation may have changed it).
  std::string body = std::move(req.body());
  CacheTicket ticket = cache_admit(*state_.cache, *state_.config, ep == Endpoint::kChatCompletions, path, *group,
                                   key_name, req, body, view);
  if (cache_may_answer(ticket, res)) {
    fresh = {};
    if (auto served = co_await cache_answer(*state_.cache, *state_.config, ticket, *group, key_name, res);
        !served.empty()) {
      log.detail = served;  // "cache_hit" | "coalesced"
      finish_log("none");
      co_return;
    }
  }
  // The ledger needs usage on every stream; the extra chunk is stripped again when the client did not ask.
  const bool strip_usage = view.stream && openai::request_stream_usage(body);
  PlanInput in{*group, path, req, body, view.model, view.stream, deadline, ticket.tap(), strip_usage, fresh};
  UpstreamConnection* current = nullptr;
  PlanResult plan;
  // The client leaving must stop the upstream at once (we stop paying for tokens nobody reads), unless
  // coalesced requests still read along.
  struct StopUpstream {
    UpstreamConnection*& current;
    PlanResult& plan;
    CacheTicket& ticket;
    void operator()() const {
      if (current && !ticket.shared()) {
        current->close();
      }
      if (plan.backoff) {
        plan.backoff->cancel();
      }
      if (plan.hedge) {
        plan.hedge->close();
      }
    }
  } stop{current, plan, ticket};
  res.watch_client([&stop] { stop(); });  // one pointer: std::function keeps it without allocating
  struct Unwatch {
    http::Responder& r;
    ~Unwatch() { r.unwatch(); }
  } unwatch{res};
  co_await run_plan(in, res, &current, plan);
  res.unwatch();
  AttemptOutcome& out = plan.out;
  if (plan.upstream) {
    log.upstream = plan.upstream->name;
  }
  log.attempts = plan.attempts;
  metrics.record_plan(plan);
  if (out.ttft) {
    log.ttft_ms = out.ttft->count();
  }
  admission::reconcile(admitted, out.usage);
  if (out.usage) {
    log.prompt_tokens = out.usage->prompt_tokens;
    log.completion_tokens = out.usage->completion_tokens;
  }
  log.keepalives = out.keepalives;
  log.detail = out.detail;
  if (ticket.settles() &&
      co_await cache_settle(*state_.cache, *state_.config, ticket, *group, key_name, plan, res)) {
    log.detail = "stale answer served";  // cache_settle counts it in the ledger (source "stale")
    finish_log(describe(out.failure).name);
    co_return;
  }
  record_upstream_usage(*state_.cache, *state_.config, key_name, *group, plan, view.stream, res);
  if (res.broken()) {
    res.set_keep_alive(false);
    finish_log("client_gone");
    co_return;
  }
  const FailureInfo& info = describe(out.failure);
  if (!out.committed && out.failure != UpstreamFailure::kNone) {
    if (out.upstream_status >= 400) {
      unsigned status = out.failure == UpstreamFailure::kAuthRejected ? info.status : out.upstream_status;
      http::Response r{static_cast<bhttp::status>(status), 11};
      r.set(bhttp::field::content_type, "application/json");
      if (!out.retry_after.empty()) {
        r.set(bhttp::field::retry_after, out.retry_after);
      }
      r.body() = out.failure == UpstreamFailure::kAuthRejected
                     ? http::openai_error_body(info.message, info.type, info.name)
                     : client_error_body(out, info);
      co_await res.send(std::move(r));
    } else {
      co_await res.send_error(static_cast<bhttp::status>(info.status), info.message, info.type, info.name);
    }
  }
  if (out.failure != UpstreamFailure::kNone) {
    spdlog::debug("request {}: {} ({})", res.request_id(), info.name, out.detail);
  }
  finish_log(info.name);
}

}  // namespace sluice::gateway
