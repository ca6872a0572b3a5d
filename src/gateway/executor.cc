#include "gateway/executor.h"

#include <memory>
#include <utility>

#include "gateway/feedback.h"
#include "gateway/gateway_metrics.h"
#include "gateway/hedge_stats.h"
#include "openai/request_view.h"
#include "routing/plan_view.h"
#include "upstream/answer_stitch.h"
#include "upstream/race.h"
#include "upstream/request_head.h"

namespace sluice::gateway {

namespace {
using routing::Step;
using upstream::Leg;
using upstream::StreamStitch;

// One request's execution: what the actions of its plan share. Lives in execute()'s frame.
class Execution {
 public:
  Execution(const ExecutorDeps& deps, const ExecuteInput& in, upstream::ClientSink& sink, CancelScope& cancel,
            http::AnswerHeaders& headers, ExecuteResult& result, routing::RouterPlanView& view)
      : deps_(deps), in_(in), sink_(sink), cancel_(cancel), headers_(headers), result_(result), view_(view) {}

  // Fills a leg for `host` of group `g`: its body (model id rewritten when needed), key and head. A
  // continuation (mid-stream failover) passes its own body and the stream's stitch. False when the body
  // cannot be rewritten.
  bool prepare(std::size_t g, std::size_t host, Leg& leg, const std::string* continuation = nullptr,
               StreamStitch* stitch = nullptr);
  // The primary leg's provider key without waiting, when one has headroom.
  bool take_key_now(std::size_t g, std::size_t host, Leg& leg, Clock::time_point now);
  // Feeds a finished action's legs back and turns the answering one into the request's outcome.
  routing::AttemptReport finish(std::size_t g, Leg* legs, std::size_t count, int answer,
                                Clock::time_point ended);
  // A hedge leg, when the planner allows one.
  bool start_hedge(routing::Planner& planner, Leg& leg);
  void claimed(const Leg& leg);
  void note(std::string_view why);
  // The body could not be rewritten for the deployment: a client error, or (a continuation) a stream to end.
  void cannot_prepare(bool resume);
  // A non-stream chat answer the provider cuts short is held back and continued elsewhere (failover).
  bool holds_answers(const config::Model& model) const {
    return !in_.stream && model.failover.enabled && in_.path == "/chat/completions" && !in_.tap;
  }
  // A held piece: into the answer's stitch; the continuation request when it was cut short.
  void take_piece(AttemptOutcome& out, const config::Model& model, routing::AttemptReport& r);
  // What was gathered of a non-stream answer, to the client: the stitched pieces or a held answer as it is.
  bool has_held_answer() const { return !pieces_.empty() || !held_.empty(); }
  net::awaitable<void> send_held_answer();

  const ExecutorDeps& deps_;
  const ExecuteInput& in_;
  upstream::ClientSink& sink_;
  CancelScope& cancel_;
  http::AnswerHeaders& headers_;
  ExecuteResult& result_;
  routing::RouterPlanView& view_;
  StreamStitch stitch_;                      // the stream on the wire, carried across continuations
  upstream::AnswerStitch pieces_;            // a non-stream answer cut short, gathered across hosts
  std::optional<std::string> continuation_;  // the next continuation's body, when the answer broke
  std::string held_;                         // a held answer that could not be stitched: sent as it is
};

bool Execution::prepare(std::size_t g, std::size_t host, Leg& leg, const std::string* continuation,
                        StreamStitch* stitch) {
  const routing::Group& group = view_.group(g);
  const config::Model& model = *group.model;
  const config::Deployment& dep = model.deployments[host];
  leg.idx = host;
  leg.host = group.hosts[host];
  const config::Upstream& up = leg.host->upstream();
  if (continuation) {
    leg.rewritten = *continuation;
  }
  if (dep.upstream_model != in_.model) {
    if (leg.rewritten.empty()) {
      leg.rewritten = in_.body;
    }
    if (!openai::rewrite_model(leg.rewritten, dep.upstream_model)) {
      return false;
    }
  }
  const std::string_view body =
      leg.rewritten.empty() ? std::string_view(in_.body) : std::string_view(leg.rewritten);
  if (!leg.key) {
    leg.key.emplace(*leg.host);
    leg.key->take_now(Clock::now());  // hedges and continuations do not wait for a key
  }
  leg.head = upstream::build_request_head(
      {up, in_.path, in_.client, in_.stream, body.size(), in_.request_id, leg.key->secret()});
  if (continuation && model.failover.mode == config::FailoverConfig::Mode::kPrefix) {
    upstream::set_prefix_completion_path(leg.head, up.base_path, in_.path);
  }
  leg.spec.emplace(upstream::AttemptSpec{up, leg.head, body, in_.stream,
                                         deps_.config.limits.max_response_bytes, in_.deadline, in_.tap,
                                         in_.strip_usage_chunk});
  leg.spec->scrubber = &deps_.secrets;
  leg.spec->cancel = &leg.cancel;
  leg.link(cancel_);
  // A coalescing leader's tap reads one plain relay: no stitched continuation for it.
  if (in_.stream && model.failover.enabled && in_.path == "/chat/completions" && !in_.tap) {
    leg.spec->stitch = stitch ? stitch : &leg.stitch;
  }
  if (holds_answers(model)) {
    leg.spec->hold = continuation ? upstream::AttemptSpec::Hold::kAlways : upstream::AttemptSpec::Hold::kCutShort;
  }
  ++result_.attempts;
  headers_.set("x-sluice-model", model.name);  // which group answered (fallbacks change it)
  headers_.set("x-sluice-upstream", up.name);
  headers_.set("x-sluice-attempts", std::to_string(result_.attempts));
  return true;
}

bool Execution::take_key_now(std::size_t g, std::size_t host, Leg& leg, Clock::time_point now) {
  leg.key.emplace(*view_.group(g).hosts[host]);
  return leg.key->try_take(now);
}

bool Execution::start_hedge(routing::Planner& planner, Leg& leg) {
  const auto h = planner.hedge(Clock::now());
  return h && prepare(planner.group(), *h, leg);
}

void Execution::take_piece(AttemptOutcome& out, const config::Model& model, routing::AttemptReport& r) {
  continuation_.reset();
  if (!pieces_.add(out.held_body)) {
    held_ = std::move(out.held_body);  // cannot be continued (tool calls, reasoning): it goes as it came
    return;
  }
  out.held_body.clear();
  if (r.cut_short) {
    continuation_ = pieces_.continuation_body(in_.body, model.failover.mode);
    r.resumable = continuation_.has_value();
  }
}

net::awaitable<void> Execution::send_held_answer() {
  AttemptOutcome& out = result_.out;
  std::string body = pieces_.empty() ? std::move(held_) : pieces_.merged();
  if (!pieces_.empty()) {
    out.usage = pieces_.usage();
    headers_.set("x-sluice-resumes", std::to_string(pieces_.resumes()));
  }
  out.failure = routing::UpstreamFailure::kNone;  // an answer, complete or honestly cut short
  out.committed = true;
  if (!sink_.send_body_now(body)) {
    co_await sink_.send_body_rest(body);
  }
  if (!sink_.broken()) {
    sink_.answered();
  }
}

void Execution::claimed(const Leg& leg) {
  result_.upstream = &leg.host->upstream();
  headers_.set("x-sluice-upstream", leg.host->upstream().name);
}

void Execution::cannot_prepare(bool resume) {
  if (resume && in_.stream) {
    result_.out.committed = result_.out.broken_stream = true;
  } else if (!resume) {
    result_.out = AttemptOutcome{.failure = routing::UpstreamFailure::kClientError, .detail = "cannot rewrite model"};
  }
}

// Sleeps a backoff (cancelled with the scope's kWait hooks); the time slept is not the gateway's overhead.
net::awaitable<Clock::time_point> backoff(routing::Ms delay, CancelScope& cancel, ExecuteResult& result) {
  net::steady_timer timer{co_await net::this_coro::executor, delay};
  auto wake = [&timer] { timer.cancel(); };
  const CancelScope::Hook hook(cancel, CancelScope::kWait, wake);
  const auto slept_from = Clock::now();
  if (!cancel.cancelled(CancelScope::kWait)) {
    co_await timer.async_wait(use_tuple);
  }
  const auto now = Clock::now();
  result.not_overhead += now - slept_from;
  co_return now;
}

void Execution::note(std::string_view why) {
  result_.out.detail += "; ";
  result_.out.detail += why;
}

routing::AttemptReport Execution::finish(std::size_t g, Leg* legs, std::size_t count, int answer,
                                         Clock::time_point ended) {
  Leg& won = legs[answer];
  result_.upstream = &won.host->upstream();
  routing::AttemptReport r{.client_gone = sink_.broken()};
  if (!r.client_gone) {  // a client leaving says nothing about the hosts
    for (std::size_t i = 0; i < count; ++i) {
      record_attempt(deps_, view_.group(g), legs[i], ended);
    }
  }
  result_.out = std::move(won.out);
  const AttemptOutcome& out = result_.out;
  r.failure = out.failure;
  r.status = out.upstream_status;
  r.retry_after = out.retry_after;
  r.committed = out.committed;
  r.broken_stream = out.broken_stream;
  r.host = won.idx;
  r.cut_short = out.cut_short && !out.held_body.empty();
  if (!r.client_gone && !out.held_body.empty()) {
    take_piece(result_.out, view_.model(g), r);
    return r;
  }
  if (!r.client_gone && !in_.stream && !pieces_.empty()) {
    r.resumable = continuation_.has_value();  // a continuation failed: the answer so far may go elsewhere
    return r;
  }
  StreamStitch* stitch = won.spec ? won.spec->stitch : nullptr;
  if (!r.client_gone && stitch != nullptr && (out.broken_stream || stitch_.continuing())) {
    if (stitch == &won.stitch) {
      stitch_ = std::move(won.stitch);  // the first leg's view of the stream goes on
    }
    continuation_.reset();
    if (stitch_.resumable()) {
      continuation_ = stitch_.continuation_body(in_.body, view_.model(g).failover.mode);
    }
    r.resumable = continuation_.has_value();
  }
  return r;
}
}  // namespace

std::string ExecuteResult::upstream_model() const {
  if (!answered_by || !upstream) {
    return {};
  }
  for (const auto& d : answered_by->deployments) {
    if (d.upstream == upstream->name) {
      return d.upstream_model;
    }
  }
  return answered_by->name;
}

net::awaitable<void> execute(const ExecutorDeps& deps, const ExecuteInput& in, upstream::ClientSink& sink,
                             CancelScope& cancel, http::AnswerHeaders& headers, ExecuteResult& result) {
  routing::RouterPlanView view(deps.router, in.group, deps.rng, in.affinity_key);
  const bool chat = in.path == "/chat/completions";
  routing::Planner planner(view, {in.deadline, in.tap == nullptr, chat && in.tap == nullptr}, deps.rng);
  Execution ex(deps, in, sink, cancel, headers, result, view);
  auto hedge = [&](Leg& leg) { return ex.start_hedge(planner, leg); };
  auto claimed = [&](const Leg& leg) { ex.claimed(leg); };
  const upstream::RaceHooks hooks{hedge, claimed};
  Clock::time_point now = in.now != Clock::time_point{} ? in.now : Clock::now();
  for (routing::Action a = planner.start(now);;) {
    if (a.step == Step::kDone || a.step == Step::kEndStream) {
      if (!a.note.empty()) {
        ex.note(a.note);
      }
      if (ex.has_held_answer() && !sink.broken()) {
        co_await ex.send_held_answer();  // non-stream failover: the stitched answer, or what there is of it
      } else if (a.step == Step::kEndStream) {
        result.out.committed = result.out.broken_stream = true;  // the writer ends it with the error
      }
      co_return;
    }
    if (a.delay.count() > 0) {
      now = co_await backoff(a.delay, cancel, result);
      if (sink.broken()) {
        co_return;
      }
    }
    if (a.retry && result.answered_by) {
      deps.metrics.on_next_attempt(*result.answered_by, view.model(a.group), result.out.failure);
    }
    // A hedged action's two legs live on the heap: the frame keeps one leg, which is all most requests (and
    // every stream waiting for its first token) use. Leg is ~800 bytes.
    struct LegPair {
      Leg legs[2];
    };
    std::unique_ptr<LegPair> pair = a.hedge_after ? std::make_unique<LegPair>() : nullptr;
    Leg sole_leg;
    Leg* legs = pair ? pair->legs : &sole_leg;
    if (a.step == Step::kAttempt && !ex.take_key_now(a.group, a.host, legs[0], now)) {
      // Waiting for a key's rate-limit window is not gateway overhead.
      const bool have_key = co_await legs[0].key->acquire(in.deadline, cancel);
      result.not_overhead += Clock::now() - now;
      if (!have_key) {
        co_return;  // the client left while we waited for a key
      }
    }
    const bool resume = a.step == Step::kResume;
    if (resume && in.stream) {
      ex.stitch_.begin_continuation();
    }
    if (!ex.prepare(a.group, a.host, legs[0], resume ? &*ex.continuation_ : nullptr,
                    resume && in.stream ? &ex.stitch_ : nullptr)) {
      ex.cannot_prepare(resume);
      if (ex.has_held_answer() && !sink.broken()) {
        co_await ex.send_held_answer();
      }
      co_return;
    }
    result.answered_by = &view.model(a.group);
    result.upstream = &legs[0].host->upstream();
    const auto race_from = Clock::now();
    upstream::RaceResult race;
    if (a.hedge_after) {
      race = co_await upstream::race_attempts(pair->legs, *a.hedge_after, deps.transport, sink, hooks);
    } else {
      upstream::SoleLeg sole{legs[0]};
      legs[0].spec->started = resume ? Clock::time_point{} : race_from;
      co_await deps.transport.attempt(*legs[0].spec, sink, legs[0].out);
    }
    const auto race_end = Clock::now();  // also the time the legs' outcomes are recorded at
    result.not_overhead += race_end - race_from;
    if (race.hedged) {
      hedge_stats().record(view.model(a.group).name, race.answer == 1);
    }
    const routing::AttemptReport report =
        ex.finish(a.group, legs, race.hedged ? 2 : 1, race.answer, race_end);
    if (resume) {
      ex.note(in.stream ? "resumed mid-stream (" + std::to_string(ex.stitch_.resumes()) + ")"
                        : "continued a cut-short answer");
    }
    a = planner.next(report, race_end);
  }
}

}  // namespace sluice::gateway
