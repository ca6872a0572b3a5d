#include "gateway/batch_runner.h"

#include "admission/budget.h"
#include "cache/lookup.h"
#include "cache/shared_lookup.h"
#include "gateway/failure_answer.h"
#include "http/openai_error.h"
#include "routing/backoff.h"
#include "upstream/transport.h"
#include "common/unix_time.h"

namespace sluice::gateway {

struct GatewayLineRunner::Generation {
  std::shared_ptr<GatewayState> state;
  upstream::SocketTransport transport;
  Generation(std::shared_ptr<GatewayState> s, const net::any_io_executor& ex)
      : state(std::move(s)), transport(ex, *state->config, state->tls) {}
};

namespace {

// Collects a line's answer. Batch lines never stream, so only the JSON body arrives.
class BufferSink final : public upstream::ClientSink {
 public:
  std::string body;
  void start_stream() override {}
  net::awaitable<bool> send_chunk(net::const_buffer data, bool) override {
    body.append(static_cast<const char*>(data.data()), data.size());
    co_return true;
  }
  net::awaitable<bool> finish_stream() override { co_return true; }
  bool send_body_now(const std::string& b) override {
    body = b;
    return true;
  }
  net::awaitable<bool> send_body_rest(const std::string& b) override {
    body = b;
    co_return true;
  }
  bool broken() const override { return false; }
  void answered() override {}
};

batch::LineResult final_error(unsigned status, std::string_view message, std::string_view code,
                              std::string_view param = {}) {
  batch::LineResult r;
  r.status = status;
  r.body = http::openai_error_body(message, "invalid_request_error", code, param);
  return r;
}

// 429, 5xx and answers that never came are worth another try later; other statuses are the line's answer.
bool retryable(unsigned status) { return status == 0 || status == 408 || status == 429 || status >= 500; }

batch::LineUsage line_usage(const openai::Usage& u, std::optional<double> cost) {
  return {.prompt = u.prompt_tokens,
          .completion = u.completion_tokens,
          .cache_hit = u.prompt_cache_hit_tokens,
          .cache_miss = u.prompt_cache_miss_tokens,
          .reasoning = u.reasoning_tokens,
          .cost_usd = cost.value_or(0.0)};
}

// The response cache as the interactive path uses it (docs/cache.md): a fresh entry answers the line, with no
// upstream call (the ledger counts it as saved, source "cache"); otherwise the line leads a flight whose tee
// fills the cache, and identical interactive requests may share its answer. A line never waits on another
// request's flight (it would hold a batch slot meanwhile): it makes its own call.
net::awaitable<std::optional<batch::LineResult>> answer_from_cache(GatewayState& st, const batch::LineRequest& req,
                                                                   std::string_view path,
                                                                   const openai::RequestView& view,
                                                                   const config::Model& model,
                                                                   Clock::time_point deadline,
                                                                   cache::CacheTicket& ticket) {
  const cache::CacheRequest creq{.chat = path == "/chat/completions",
                                 .path = path,
                                 .model = model.name,
                                 .key_name = req.key,
                                 .body = req.body,
                                 .view = view};
  cache::CacheDecision c = cache::lookup(*st.cache, *st.config, creq, ticket);
  if (ticket.check_shared) {
    c = co_await cache::lookup_shared(*st.cache, ticket, model.name, deadline);
  }
  if (c.step == cache::CacheStep::kJoin) {
    cache::run_own(*st.cache, ticket);
  }
  if (c.step != cache::CacheStep::kHit) {
    co_return std::nullopt;
  }
  const cache::CachedAnswer& a = *c.hit.answer;
  const std::optional<openai::Usage> usage = a.usage;
  batch::LineResult res;
  res.request_id = req.request_id;
  res.status = 200;
  res.body = a.json;  // what the line's batch pays for it: nothing (no usage)
  const double saved = st.accounting->count({.source = "cache",
                                             .key = req.key,
                                             .model = model.name,
                                             .upstream = a.upstream,
                                             .upstream_model = a.upstream_model,
                                             .status = 200,
                                             .usage = usage});
  res.ledger = batch::LineLedger{.model = model.name,
                                 .upstream = a.upstream,
                                 .upstream_model = a.upstream_model,
                                 .cost_usd = saved,
                                 .unix_ms = unix_now_ms(),
                                 .source = "cache"};
  co_return res;
}

// The line's access log entry (method BATCH, priority batch).
void log_line(GatewayState& st, const batch::LineRequest& req, std::string_view path, const config::Model& model,
              std::string_view upstream, unsigned status, std::string_view failure, std::string_view detail,
              Clock::time_point started, const openai::Usage* usage, unsigned attempts) {
  st.access_log->write({.request_id = req.request_id,
                        .key = req.key,
                        .method = "BATCH",
                        .path = path,
                        .model = model.name,
                        .upstream = upstream,
                        .status = status,
                        .failure = failure.empty() ? "none" : failure,
                        .detail = detail,
                        .duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started)
                                           .count(),
                        .prompt_tokens = usage ? std::optional(usage->prompt_tokens) : std::nullopt,
                        .completion_tokens = usage ? std::optional(usage->completion_tokens) : std::nullopt,
                        .attempts = attempts,
                        .priority = "batch"});
}

// The leader's upstream call ended: store a complete answer, release identical requests that joined it.
void settle_flight(GatewayState& st, cache::CacheTicket& ticket, const ExecuteResult& result) {
  if (!ticket.settles()) {
    return;
  }
  const AttemptOutcome& out = result.out;
  cache::UpstreamEnd end{.ok = out.failure == routing::UpstreamFailure::kNone,
                         .upstream = result.upstream_name(),
                         .upstream_model = result.upstream_model(),
                         .usage = out.usage};
  if (!end.ok) {
    FailureAnswer a = failure_answer(out);
    end.status = a.status;
    end.error_body = std::move(a.body);
    end.retry_after = std::move(a.retry_after);
  }
  cache::settle(*st.cache, *st.config, ticket, std::move(end));  // a stale stand-in is not used: lines retry
}

}  // namespace

GatewayLineRunner::GatewayLineRunner(StateSource current) : current_(std::move(current)), rng_(std::random_device{}()) {}
GatewayLineRunner::~GatewayLineRunner() = default;

std::shared_ptr<GatewayLineRunner::Generation> GatewayLineRunner::generation(const net::any_io_executor& ex) {
  std::shared_ptr<GatewayState> st = current_();
  if (!gen_ || gen_->state != st) {
    gen_ = std::make_shared<Generation>(std::move(st), ex);
  }
  return gen_;
}

net::awaitable<batch::LineResult> GatewayLineRunner::run(const batch::LineRequest& req) {
  const auto started = Clock::now();
  const std::shared_ptr<Generation> gen = generation(co_await net::this_coro::executor);
  GatewayState& st = *gen->state;
  openai::RequestView view;
  const openai::Api api =
      req.endpoint.ends_with("/embeddings") ? openai::Api::kEmbeddings : openai::Api::kChatCompletions;
  if (auto err = openai::parse_request_view(req.body, api, view)) {
    co_return final_error(400, err->message, err->code, err->param);
  }
  const routing::Group* group = st.router->group(view.model);
  if (group == nullptr) {
    co_return final_error(404, "The model `" + view.model + "` does not exist", "model_not_found", "model");
  }
  const auto deadline = std::min(req.deadline, started + group->model->request_timeout);

  admission::Admitted admitted;
  http::AnswerHeaders headers;
  CancelScope cancel;
  const admission::AdmitInput in{*st.admission, *st.router, req.key, {}, view, req.body, *group, deadline,
                                 config::Priority::kBatch};
  admission::AdmitDecision d = admission::admit(in, admitted, headers);
  if (d.step == admission::AdmitStep::kRefill) {
    d = co_await admission::admit_refilled(in, admitted, headers);
  }
  if (d.step == admission::AdmitStep::kQueue) {
    d = co_await admission::admit_queued(in, admitted, headers, cancel);
  }
  batch::LineResult res;
  res.request_id = req.request_id;
  if (d.step == admission::AdmitStep::kReject) {
    const admission::Rejection& r = d.rejection;
    res.status = r.status;
    res.body = http::openai_error_body(r.message, r.type, r.code);
    res.retryable = retryable(r.status);
    res.retry_after = routing::parse_retry_after(r.retry_after).value_or(routing::Ms{0});
    co_return res;
  }

  const std::string path = req.endpoint.starts_with("/v1/") ? req.endpoint.substr(3) : req.endpoint;
  cache::CacheTicket ticket;
  if (auto hit = co_await answer_from_cache(st, req, path, view, *admitted.group->model, deadline, ticket)) {
    log_line(st, req, path, *admitted.group->model, hit->ledger->upstream, 200, {}, "cache_hit", started, nullptr, 0);
    co_return std::move(*hit);
  }
  static const http::Request kNoClientHeaders;  // nothing of a client's to forward
  ExecuteResult result;
  BufferSink sink;
  const ExecutorDeps deps{*st.router, *st.config, *st.metrics, *st.admission, st.secrets, gen->transport, rng_};
  co_await execute(deps,
                   {.group = *admitted.group,
                    .path = path,
                    .client = kNoClientHeaders,
                    .body = req.body,
                    .model = view.model,
                    .request_id = req.request_id,
                    .stream = false,
                    .deadline = deadline,
                    .tap = ticket.tap()},
                   sink, cancel, headers, result);
  settle_flight(st, ticket, result);
  const AttemptOutcome& out = result.out;
  const std::string upstream_model = result.upstream_model();
  const std::optional<double> cost =
      admission::answer_cost_usd(*st.config, result.attempts, upstream_model, out.usage);
  admission::reconcile(admitted, out.usage, admitted.ticket.holds_budget() ? cost : std::optional(0.0));

  if (out.failure == routing::UpstreamFailure::kNone) {
    res.status = 200;
    res.body = std::move(sink.body);
  } else {
    FailureAnswer a = failure_answer(out);
    res.status = a.status;
    res.body = std::move(a.body);
    res.retryable = retryable(a.status);
    res.retry_after = routing::parse_retry_after(a.retry_after).value_or(routing::Ms{0});
  }
  if (out.usage) {
    res.usage = line_usage(*out.usage, cost);
  }
  const config::Model& answered = result.answered_by ? *result.answered_by : *admitted.group->model;
  if (result.attempts > 0) {
    // Cost metrics now; the ledger row goes with the line's final result into the batch store, which feeds
    // the ledger once (docs/batch.md "Exactly once in the ledger").
    const double price = st.accounting->count({.source = "upstream",  // billed to the owner's key
                                               .key = req.key,
                                               .model = answered.name,
                                               .upstream = result.upstream_name(),
                                               .upstream_model = upstream_model,
                                               .status = res.status,
                                               .usage = out.usage});
    res.ledger = batch::LineLedger{.model = answered.name,
                                   .upstream = std::string(result.upstream_name()),
                                   .upstream_model = upstream_model,
                                   .cost_usd = price,
                                   .unix_ms = unix_now_ms()};
  }
  log_line(st, req, path, answered, result.upstream_name(), res.status, routing::to_string(out.failure),
           out.detail, started, out.usage ? &*out.usage : nullptr, result.attempts);
  co_return res;
}

}  // namespace sluice::gateway
