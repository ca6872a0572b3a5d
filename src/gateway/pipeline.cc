// The pipeline of one request to an OpenAI endpoint (docs/architecture.md): validate → admit → cache →
// execute → settle. Each stage decides; the writer answers; the access log and metrics record how it ended.
#include <spdlog/spdlog.h>

#include "cache/shared_lookup.h"
#include "gateway/failure_answer.h"
#include "gateway/gateway.h"
#include "gateway/stages.h"
#include "openai/stream_options.h"
#include "routing/affinity.h"

namespace sluice::gateway {

namespace {

// The access log line and the request metrics, once, however the request ended.
void finish(RequestContext& ctx, const ClientWriter& w, std::string_view failure) {
  auto& log = ctx.log;
  log.status = w.status() != 0 ? w.status() : 499;  // 499: client closed before any answer (nginx)
  log.failure = failure;
  log.bytes_out = w.bytes_sent();
  const auto now = Clock::now();
  log.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - ctx.started).count();
  ctx.state.access_log->write(log);
  ctx.metrics.finish(log.status, now);
}

void log_admission(RequestContext& ctx) {
  if (ctx.admitted.gated) {
    ctx.log.priority = config::to_string(ctx.admitted.priority);
    ctx.log.queue_ms = ctx.admitted.waited.count();
  }
}

void charge(RequestContext& ctx, std::string_view source, std::string_view model, std::string_view upstream,
            const std::string& upstream_model, const std::optional<openai::Usage>& usage,
            const ClientWriter& w) {
  ctx.state.accounting->record({.source = source,
                                .key = ctx.key_name,
                                .model = model,
                                .upstream = upstream,
                                .upstream_model = upstream_model,
                                .stream = ctx.view.stream,
                                .status = w.status(),
                                .usage = usage});
}

cache::CacheRequest cache_request(const RequestContext& ctx) {
  return {.chat = ctx.endpoint == Endpoint::kChatCompletions,
          .path = ctx.path,
          .model = ctx.group->model->name,
          .key_name = ctx.key_name,
          .cache_control = ctx.req[bhttp::field::cache_control],
          .body = ctx.body,
          .view = ctx.view};
}

// A cache hit, or a share of another request's upstream call; false when the request must go upstream.
net::awaitable<bool> answer_from_cache(RequestContext& ctx, ClientWriter& w, cache::CacheDecision& d) {
  cache::CacheServices& svc = *ctx.state.cache;
  const std::string& model = ctx.group->model->name;
  if (d.step == cache::CacheStep::kHit) {
    const cache::CachedAnswer& a = *d.hit.answer;
    ctx.headers.set("x-sluice-model", model);
    ctx.headers.set("x-sluice-upstream", a.upstream);
    co_await w.replay(a, ctx.view.stream, ctx.view.include_usage);
    charge(ctx, "cache", model, a.upstream, a.upstream_model, a.usage, w);
    ctx.log.detail = "cache_hit";
    co_return true;
  }
  ctx.headers.set("x-sluice-model", model);
  ctx.headers.set("x-sluice-coalesced", "true");
  if (co_await w.follow(*ctx.ticket.flight, ctx.ticket, ctx.cancel) == ClientWriter::Follow::kServed) {
    svc.stats.count_coalesced(model);
    const cache::FlightView v = ctx.ticket.flight->read(0, false);
    charge(ctx, "coalesced", model, v.upstream, v.upstream_model, v.usage, w);
    ctx.log.detail = "coalesced";
    co_return true;
  }
  cache::run_own(svc, ctx.ticket);  // the leader left before any answer: run our own upstream call
  ctx.headers.set("x-sluice-cache", std::string(ctx.ticket.header));
  co_return false;
}

// After the upstream part: the joiners' answer and the cache entry; true when an expired answer stood in.
net::awaitable<bool> settle_cache(RequestContext& ctx, ClientWriter& w) {
  const AttemptOutcome& out = ctx.result.out;
  cache::UpstreamEnd end{.ok = out.failure == routing::UpstreamFailure::kNone,
                         .committed = out.committed,
                         .client_gone = w.broken(),
                         .upstream = ctx.result.upstream_name(),
                         .upstream_model = ctx.result.upstream_model(),
                         .usage = out.usage};
  if (!end.ok && !end.committed) {
    FailureAnswer a = failure_answer(out);
    end.status = a.status;
    end.error_body = std::move(a.body);
    end.retry_after = std::move(a.retry_after);
  }
  auto stale = cache::settle(*ctx.state.cache, *ctx.state.config, ctx.ticket, std::move(end));
  if (!stale) {
    co_return false;
  }
  const cache::CachedAnswer& a = *stale->answer;
  ctx.headers.set("x-sluice-cache", std::string(ctx.ticket.header));
  ctx.headers.set("x-sluice-upstream", a.upstream);
  co_await w.replay(a, ctx.view.stream, ctx.view.include_usage);
  charge(ctx, "stale", ctx.group->model->name, a.upstream, a.upstream_model, a.usage, w);
  ctx.log.detail = "stale answer served";
  co_return true;
}

void log_result(RequestContext& ctx) {
  const ExecuteResult& r = ctx.result;
  if (r.upstream) {
    ctx.log.upstream = r.upstream->name;
  }
  ctx.log.attempts = r.attempts;
  ctx.metrics.record_plan(r);
  if (r.out.ttft) {
    ctx.log.ttft_ms = r.out.ttft->count();
  }
  if (r.out.usage) {
    ctx.log.prompt_tokens = r.out.usage->prompt_tokens;
    ctx.log.completion_tokens = r.out.usage->completion_tokens;
  }
  ctx.log.keepalives = r.out.keepalives;
  ctx.log.detail = r.out.detail;
}

ExecuteInput execute_input(RequestContext& ctx) {
  // The ledger needs usage on every stream; the extra chunk is stripped again when the client did not ask.
  const bool strip_usage = ctx.view.stream && openai::request_stream_usage(ctx.body);
  const config::Model& m = *ctx.group->model;
  return {.group = *ctx.group,
          .path = ctx.path,
          .client = ctx.req,
          .body = ctx.body,
          .model = ctx.view.model,
          .request_id = ctx.log.request_id,
          .stream = ctx.view.stream,
          .deadline = ctx.deadline,
          .tap = ctx.ticket.tap(),
          .strip_usage_chunk = strip_usage,
          .affinity_key =
              m.affinity.prefix_bytes > 0 ? routing::prefix_key(ctx.body, m.affinity.prefix_bytes) : 0,
          .now = ctx.fresh};
}

// validate → admit. False when the request ended here (answered and logged). A coroutine of its own so that
// its locals (the admission input, decisions, a rejection) are not in proxy()'s frame, which lives as long
// as the request (a stream waiting for its first token).
net::awaitable<bool> admit_stage(RequestContext& ctx, ClientWriter& w) {
  if (auto bad = validate(ctx)) {
    co_await w.reply(*bad);
    finish(ctx, w, "bad_request");
    co_return false;
  }
  w.watch([&ctx] { ctx.on_client_gone(); });  // one pointer: std::function keeps it without allocating
  GatewayState& st = ctx.state;
  const admission::AdmitInput admit_in{*st.admission, *st.router, ctx.key_name, ctx.priority,
                                       ctx.view,      ctx.req.body(), *ctx.group, ctx.deadline};
  admission::AdmitDecision d = admission::admit(admit_in, ctx.admitted, ctx.headers);
  if (d.step == admission::AdmitStep::kRefill) {  // state hook: a shared lease needs one round trip
    ctx.fresh = {};
    d = co_await admission::admit_refilled(admit_in, ctx.admitted, ctx.headers);
  }
  if (d.step == admission::AdmitStep::kQueue) {
    ctx.fresh = {};
    d = co_await admission::admit_queued(admit_in, ctx.admitted, ctx.headers, ctx.cancel);
  }
  log_admission(ctx);
  if (d.step == admission::AdmitStep::kReject) {
    if (d.rejection.status != 0) {
      co_await w.reply(rejection_reply(d.rejection));
    }
    finish(ctx, w, d.rejection.failure);
    co_return false;
  }
  ctx.group = ctx.admitted.group;  // the degradation model when the requested class is being shed
  co_return true;
}

}  // namespace

net::awaitable<void> ProxyHandler::proxy(Endpoint ep, std::string_view path, std::string_view key_name,
                                         http::Request& req, http::Responder& res) {
  RequestContext ctx{state_, *state_.metrics, ep, path, key_name, req, Clock::now()};
  ClientWriter w{res, ctx.headers};
  ctx.log = {.request_id = res.request_id(), .key = key_name, .method = req.method_string(), .path = path};
  if (!co_await admit_stage(ctx, w)) {
    co_return;
  }
  ctx.body = std::move(req.body());
  cache::CacheDecision c = cache::lookup(*state_.cache, *state_.config, cache_request(ctx), ctx.ticket);
  if (ctx.ticket.check_shared) {  // state hook: the tier other replicas share (entries and their flights)
    c = co_await cache::lookup_shared(*state_.cache, ctx.ticket, ctx.group->model->name, ctx.deadline);
  }
  ctx.headers.set("x-sluice-cache", std::string(ctx.ticket.header));
  if (!ctx.ticket.key.empty()) {
    ctx.fresh = {};
  }
  if (c.step != cache::CacheStep::kUpstream && co_await answer_from_cache(ctx, w, c)) {
    co_return finish(ctx, w, "none");
  }
  co_await execute(deps_, execute_input(ctx), w, ctx.cancel, ctx.headers, ctx.result);
  w.unwatch();
  log_result(ctx);
  admission::reconcile(ctx.admitted, ctx.result.out.usage,  // state hook: + the budget at the real cost
                       ctx.admitted.ticket.holds_budget()
                           ? admission::answer_cost_usd(*state_.config, ctx.result.attempts,
                                                        ctx.result.upstream_model(), ctx.result.out.usage)
                           : std::optional(0.0));
  const AttemptOutcome& out = ctx.result.out;
  if (ctx.ticket.settles() && co_await settle_cache(ctx, w)) {
    co_return finish(ctx, w, routing::to_string(out.failure));  // charged as "stale" by settle_cache
  }
  if (ctx.result.attempts > 0) {
    const config::Model& answered = ctx.result.answered_by ? *ctx.result.answered_by : *ctx.group->model;
    charge(ctx, "upstream", answered.name, ctx.result.upstream_name(), ctx.result.upstream_model(), out.usage,
           w);
  }
  if (w.broken()) {
    w.close_after();
    co_return finish(ctx, w, "client_gone");
  }
  co_await w.fail(out);
  if (out.failure != routing::UpstreamFailure::kNone) {
    spdlog::debug("request {}: {} ({})", w.request_id(), routing::to_string(out.failure), out.detail);
  }
  finish(ctx, w, routing::to_string(out.failure));
}

}  // namespace sluice::gateway
