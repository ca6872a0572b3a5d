// The completion flow: outage and fault checks, admission (account limit, slots, overload policy), the
// wait queue with DeepSeek's keep-alives, then generation (stream or whole body) with mid-stream faults.
#include <spdlog/spdlog.h>

#include <ctime>

#include "sim/faults.h"
#include "sim/handler.h"
#include "sim/responses.h"
#include "sim/text_gen.h"

namespace sluice::sim {

namespace {
using SteadyClock = std::chrono::steady_clock;

enum class Stage { kStarting, kQueued, kGenerating, kDone };
enum class Sleep { kElapsed, kWoken, kCancelled, kBroken };

// One timer per request, also the doorbell the capacity model rings when a slot is granted.
struct WaitCtx {
  explicit WaitCtx(const net::any_io_executor& ex) : timer(ex) {}
  net::steady_timer timer;
};

struct Run {
  SimState& st;
  http::Responder& res;
  const Phase& phase;
  FaultSpec fault;
  ApiRequest req;
  Endpoint ep;
  uint64_t seq;
  Rng rng;
  bool holds_slot = false;
  std::shared_ptr<Waiter> waiter;
  std::shared_ptr<std::atomic<bool>> granted = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<WaitCtx> wait;
  Stage stage = Stage::kStarting;
  bool aborted_by_us = false;
  bool reasoner = false;
  int64_t kv_tokens = 0;
  Ms ka_interval{5000};
  SteadyClock::time_point next_keepalive{};

  bool headers_sent() const { return res.committed(); }
};

bool cancelled(const net::cancellation_state& cs) { return cs.cancelled() != net::cancellation_type::none; }

// Commits a 200 whose body is written piecewise: SSE for streams, JSON bytes (keep-alive newlines first)
// otherwise. DeepSeek answers 200 before it knows whether the request will ever run.
net::awaitable<bool> commit_headers(Run& r) {
  if (r.res.committed()) {
    co_return !r.res.broken();
  }
  bhttp::response<bhttp::empty_body> h{bhttp::status::ok, 11};
  if (r.req.stream) {
    h.set(bhttp::field::content_type, "text/event-stream; charset=utf-8");
    h.set(bhttp::field::cache_control, "no-cache");
  } else {
    h.set(bhttp::field::content_type, "application/json");
  }
  co_return co_await r.res.send_stream_header(std::move(h));
}

net::awaitable<bool> send_keepalive(Run& r) {
  if (!co_await commit_headers(r)) {
    co_return false;
  }
  r.st.stats().inc(Counter::kKeepalives);
  std::string_view ka = r.req.stream ? ChunkWriter::keepalive() : std::string_view{"\n"};
  co_return co_await r.res.send_chunk(net::buffer(ka));
}

// Sleeps until `until`, sending keep-alives on their schedule when `keepalives` is set. Returns early when
// a slot is granted (kWoken) or the request is cancelled (the client left).
net::awaitable<Sleep> sleep_until(Run& r, SteadyClock::time_point until, bool keepalives, bool wake_on_grant) {
  auto cs = co_await net::this_coro::cancellation_state;
  for (;;) {
    if (wake_on_grant && r.granted->load()) {
      co_return Sleep::kWoken;
    }
    auto now = SteadyClock::now();
    if (keepalives && now >= r.next_keepalive) {
      if (!co_await send_keepalive(r)) {
        co_return Sleep::kBroken;
      }
      r.next_keepalive += r.ka_interval;
      continue;
    }
    if (now >= until) {
      co_return Sleep::kElapsed;
    }
    if (wake_on_grant && r.granted->load()) {
      co_return Sleep::kWoken;  // checked again: a grant may have landed while we wrote
    }
    r.wait->timer.expires_at(keepalives ? std::min(until, r.next_keepalive) : until);
    co_await r.wait->timer.async_wait(use_tuple);  // expiry, a grant or a cancellation: re-checked above
    if (cancelled(cs)) {
      co_return Sleep::kCancelled;
    }
  }
}

// Ends a request that never got a slot, as DeepSeek does after its max wait: non-stream bodies are only
// blank lines, streams just end. Then the connection closes.
net::awaitable<void> give_up(Run& r) {
  r.st.stats().inc(Counter::kQueueTimeouts);
  if (!r.res.committed()) {
    bool ok = co_await send_keepalive(r);
    if (!ok) {
      co_return;
    }
  }
  r.res.set_keep_alive(false);
  bool finished = co_await r.res.finish_stream();
  (void)finished;  // the connection closes either way
}

// A stall: no bytes at all until the client leaves or the max wait passes, then a reset.
net::awaitable<void> stall(Run& r) {
  r.st.stats().inc(Counter::kFaultStall);
  auto s = co_await sleep_until(r, SteadyClock::now() + r.phase.max_wait, false, false);
  if (s == Sleep::kElapsed) {
    r.aborted_by_us = true;
    r.res.abort();
  }
}

void reset(Run& r, Counter c) {
  r.st.stats().inc(c);
  r.aborted_by_us = true;
  r.res.abort();
}

struct Plan {
  uint64_t tokens = 0;
  uint64_t reasoning = 0;
  std::string_view finish = "stop";
  SteadyClock::duration ttft{};
  SteadyClock::duration itl{};
  Usage usage;
};

Plan make_plan(Run& r) {
  Plan p;
  int64_t natural = r.fault.tokens >= 0 ? r.fault.tokens
                                        : std::max<int64_t>(1, std::llround(r.phase.output_tokens.sample(r.rng)));
  p.tokens = static_cast<uint64_t>(natural);
  if (r.req.max_tokens && p.tokens > *r.req.max_tokens) {
    p.tokens = *r.req.max_tokens;
    p.finish = "length";
  }
  if (r.fault.truncate_after >= 0 && static_cast<uint64_t>(r.fault.truncate_after) < p.tokens) {
    p.tokens = static_cast<uint64_t>(r.fault.truncate_after);
    p.finish = "insufficient_system_resource";
    r.st.stats().inc(Counter::kFaultTruncate);
  }
  p.reasoning = r.reasoner && r.ep == Endpoint::kChat ? p.tokens / 2 : 0;
  auto ttft = r.phase.ttft.sample(r.rng);
  auto itl = r.phase.itl.sample(r.rng);  // one decode speed per request
  if (r.fault.ttft) {
    ttft = *r.fault.ttft;
    r.st.stats().inc(Counter::kFaultSlowFirstToken);
  }
  if (r.fault.itl) {
    itl = *r.fault.itl;
  }
  p.ttft = ttft;
  p.itl = itl;
  std::size_t hit_blocks = r.st.prefix_cache().lookup_and_insert(r.req.prefix_blocks);
  p.usage = Usage{r.req.prompt_tokens, p.tokens, std::min<uint64_t>(hit_blocks * kCacheUnitTokens, r.req.prompt_tokens),
                  p.reasoning, r.reasoner && r.ep == Endpoint::kChat};
  auto& stats = r.st.stats();
  stats.inc(Counter::kPromptTokens, r.req.prompt_tokens);
  stats.inc(Counter::kCacheQueries, r.req.prefix_blocks.size() * kCacheUnitTokens);
  stats.inc(Counter::kCacheHits, hit_blocks * kCacheUnitTokens);
  r.kv_tokens = static_cast<int64_t>(r.req.prompt_tokens + p.tokens);
  stats.active_kv_tokens.fetch_add(r.kv_tokens, std::memory_order_relaxed);
  return p;
}

void count_success(Run& r, std::string_view finish, uint64_t tokens) {
  auto& stats = r.st.stats();
  stats.inc(Counter::kGenerationTokens, tokens);
  stats.inc(finish == "stop" ? Counter::kSuccessStop
                             : finish == "length" ? Counter::kSuccessLength : Counter::kSuccessTruncated);
  r.stage = Stage::kDone;
}

uint64_t text_seed(const Run& r) { return mix_seed(r.st.seed(), r.req.content_hash); }

// Chat prefix completion: advance past the tokens the prefix already holds, so the answer is its continuation.
void skip_prefix(const Run& r, TextGen& gen) {
  const std::string& prefix = r.req.assistant_prefix;
  std::string seen;
  while (seen.size() < prefix.size()) {
    gen.append_token(seen);
  }
}

net::awaitable<void> stream_tokens(Run& r, const Plan& p, SteadyClock::time_point t0) {
  int64_t created = static_cast<int64_t>(std::time(nullptr));
  std::string id = make_completion_id(r.st.seed(), r.seq);
  ChunkWriter w{r.ep, id, created, r.req.model};
  if (!co_await commit_headers(r) || !co_await r.res.send_chunk(net::buffer(w.role_chunk()))) {
    co_return;
  }
  TextGen gen{text_seed(r)};
  TextGen content_gen{text_seed(r) + 1};  // reasoner: the answer has its own text, as in whole_body()
  skip_prefix(r, p.reasoning > 0 ? content_gen : gen);
  std::string piece;
  piece.reserve(64);
  for (uint64_t i = 0;; ++i) {
    auto chunks = static_cast<int64_t>(i);
    if (r.fault.reset_after == chunks) {
      reset(r, Counter::kFaultResetMidStream);
      co_return;
    }
    if (r.fault.stall_after == chunks) {
      co_await stall(r);
      co_return;
    }
    if (r.fault.malformed_after == chunks) {
      r.st.stats().inc(Counter::kFaultMalformed);
      if (!co_await r.res.send_chunk(net::buffer(w.malformed_chunk()))) {
        co_return;
      }
    }
    if (i == p.tokens) {
      break;
    }
    if (i > 0 && p.itl.count() > 0) {
      if (co_await sleep_until(r, t0 + p.itl * static_cast<int64_t>(i), true, false) != Sleep::kElapsed) {
        co_return;
      }
    }
    piece.clear();
    (i < p.reasoning || p.reasoning == 0 ? gen : content_gen).append_token(piece);
    if (!co_await r.res.send_chunk(net::buffer(w.token_chunk(piece, i < p.reasoning)))) {
      co_return;
    }
  }
  if (r.req.include_usage) {
    if (!co_await r.res.send_chunk(net::buffer(w.finish_chunk(p.finish, nullptr))) ||
        !co_await r.res.send_chunk(net::buffer(w.usage_chunk(p.usage)))) {
      co_return;
    }
  } else if (!co_await r.res.send_chunk(net::buffer(w.finish_chunk(p.finish, &p.usage)))) {
    co_return;
  }
  if (co_await r.res.send_chunk(net::buffer(ChunkWriter::done())) && co_await r.res.finish_stream()) {
    count_success(r, p.finish, p.tokens);
  }
}

net::awaitable<void> whole_body(Run& r, const Plan& p) {
  TextGen gen{text_seed(r)};
  TextGen content_gen{text_seed(r) + 1};
  skip_prefix(r, p.reasoning > 0 ? content_gen : gen);
  std::string reasoning = gen.generate(p.reasoning);
  std::string content = p.reasoning > 0 ? content_gen.generate(p.tokens - p.reasoning) : gen.generate(p.tokens);
  std::string id = make_completion_id(r.st.seed(), r.seq);
  BodyParts parts{id, static_cast<int64_t>(std::time(nullptr)), r.req.model, content, reasoning, p.finish, p.usage};
  std::string body = r.ep == Endpoint::kChat ? chat_completion_body(parts) : text_completion_body(parts);
  if (r.fault.malformed_after >= 0) {
    r.st.stats().inc(Counter::kFaultMalformed);
    body.resize(body.size() / 2);  // a cut JSON document with a success status
  }
  if (r.fault.reset_after >= 0 || r.fault.stall_after >= 0) {
    if (!co_await commit_headers(r) || !co_await r.res.send_chunk(net::buffer(body.data(), body.size() / 2))) {
      co_return;
    }
    if (r.fault.reset_after >= 0) {
      reset(r, Counter::kFaultResetMidStream);
    } else {
      co_await stall(r);
    }
    co_return;
  }
  bool ok;
  if (r.res.committed()) {
    ok = co_await r.res.send_chunk(net::buffer(body)) && co_await r.res.finish_stream();
  } else {
    ok = co_await send_json(r.res, 200, std::move(body));
  }
  if (ok) {
    count_success(r, p.finish, p.tokens);
  }
}

net::awaitable<void> run(Run& r) {
  co_await net::this_coro::throw_if_cancelled(false);
  auto start = SteadyClock::now();
  r.next_keepalive = start + r.ka_interval;
  if (r.fault.give_up) {
    // This connection will close after the answer: say so in the header, or a keep-alive client would send its
    // next request into a closing socket and see a reset instead of this request's empty answer.
    r.res.set_keep_alive(false);
  }
  if (r.req.stream && !co_await commit_headers(r)) {
    co_return;
  }
  // Queued on request (x-sim-fault keepalive=N): N keep-alive intervals before anything else.
  if (r.fault.keepalives > 0) {
    r.stage = Stage::kQueued;
    auto until = start + r.ka_interval * r.fault.keepalives;
    if (co_await sleep_until(r, until, true, false) != Sleep::kElapsed) {
      co_return;
    }
  }
  if (r.fault.give_up) {
    co_await give_up(r);
    co_return;
  }
  if (!r.holds_slot) {
    r.stage = Stage::kQueued;
    r.st.stats().inc(Counter::kQueued);
    auto ex = co_await net::this_coro::executor;
    r.waiter = std::make_shared<Waiter>();
    r.waiter->on_grant = [ex, flag = r.granted, weak = std::weak_ptr<WaitCtx>(r.wait)] {
      flag->store(true);
      net::post(ex, [weak] {
        if (auto w = weak.lock()) {
          w->timer.cancel();
        }
      });
    };
    r.st.capacity().enqueue(r.waiter);
    auto s = co_await sleep_until(r, start + r.phase.max_wait, true, true);
    if (s == Sleep::kWoken) {
      r.holds_slot = true;
      r.waiter.reset();
    } else {
      if (s == Sleep::kElapsed) {
        co_await give_up(r);
      }
      co_return;
    }
  }
  r.stage = Stage::kGenerating;
  Plan p = make_plan(r);
  auto t0 = SteadyClock::now() + p.ttft;
  if (p.ttft.count() > 0 && co_await sleep_until(r, t0, true, false) != Sleep::kElapsed) {
    co_return;
  }
  if (r.req.stream) {
    co_await stream_tokens(r, p, t0);
  } else {
    auto done = t0 + p.itl * static_cast<int64_t>(p.tokens);
    if (p.itl.count() > 0 && co_await sleep_until(r, done, true, false) != Sleep::kElapsed) {
      co_return;
    }
    co_await whole_body(r, p);
  }
}
}  // namespace

net::awaitable<void> SimHandler::completion(http::Request& req, http::Responder& res, Endpoint ep) {
  auto& stats = state_.stats();
  stats.inc(Counter::kRequests);
  const Phase& phase = state_.phase();
  uint64_t seq = state_.next_request_seq();
  Rng rng{mix_seed(state_.seed(), seq)};
  if (phase.outage == OutageMode::kRefuse) {
    stats.inc(Counter::kOutageRefused);
    res.abort();
    co_return;
  }
  if (phase.outage == OutageMode::kErrors) {
    stats.inc(Counter::kOutageErrors);
    co_await send_status_error(state_, res, phase.outage_status, {}, phase.retry_after);
    co_return;
  }
  FaultSpec fault;
  if (auto h = req["x-sim-fault"]; !h.empty()) {
    auto fp = parse_fault_header(h);
    if (!fp.error.empty()) {
      co_await send_status_error(state_, res, 400, fp.error);
      co_return;
    }
    fault = fp.spec;
  } else {
    fault = roll_faults(phase, rng);
  }
  auto parsed = parse_api_request(parser_, req.body(), ep);
  if (!parsed.error.empty()) {
    co_await send_status_error(state_, res, 400, parsed.error);
    co_return;
  }
  if (!model_known(parsed.req.model)) {
    co_await send_status_error(state_, res, 400, "Model Not Exist");
    co_return;
  }
  if (fault.reset_before_headers) {
    stats.inc(Counter::kFaultResetBeforeHeaders);
    res.abort();
    co_return;
  }
  if (fault.status != 0) {
    co_await send_status_error(state_, res, fault.status, {}, fault.retry_after);
    co_return;
  }
  // Admission: the account concurrency limit counts everything admitted, running or queued.
  auto& inflight = state_.inflight();
  int64_t now_inflight = inflight.fetch_add(1, std::memory_order_relaxed) + 1;
  struct InflightGuard {
    std::atomic<int64_t>& n;
    ~InflightGuard() { n.fetch_sub(1, std::memory_order_relaxed); }
  } inflight_guard{inflight};
  if (phase.account_concurrency > 0 && now_inflight > static_cast<int64_t>(phase.account_concurrency)) {
    stats.inc(Counter::kRejectedConcurrency);
    co_await send_status_error(state_, res, 429,
                               fmt::format("Rate limit reached: the account concurrency limit of {} is exceeded",
                                           phase.account_concurrency));
    co_return;
  }
  bool got_slot = state_.capacity().try_acquire();
  if (!got_slot && phase.overload != OverloadPolicy::kQueue) {
    stats.inc(Counter::kRejectedOverload);
    unsigned status = phase.overload == OverloadPolicy::kReject503 ? 503 : 429;
    std::optional<Ms> ra;
    if (phase.overload == OverloadPolicy::kReject429RetryAfter || status == 503) {
      ra = phase.retry_after;
    }
    co_await send_status_error(state_, res, status, {}, ra);
    co_return;
  }
  if (!got_slot && phase.max_queue > 0 && state_.capacity().waiting() >= phase.max_queue) {
    stats.inc(Counter::kRejectedOverload);
    co_await send_status_error(state_, res, 503, {}, phase.retry_after);
    co_return;
  }

  auto ex = co_await net::this_coro::executor;
  Run r{state_, res, phase, fault, std::move(parsed.req), ep, seq, rng};
  r.holds_slot = got_slot;
  r.wait = std::make_shared<WaitCtx>(ex);
  r.ka_interval = fault.keepalive_interval.value_or(phase.keepalive_interval);
  r.reasoner = r.req.model.find("reasoner") != std::string::npos || r.req.model.find("r1") != std::string::npos;
  // Only requests that can wait need to watch for a client leaving (it costs a socket wait).
  bool may_wait = !got_slot || !phase.ttft.zero() || !phase.itl.zero() || fault.keepalives > 0 || fault.ttft ||
                  fault.itl || fault.stall_after >= 0 || fault.give_up;
  bool client_left = false;
  if (may_wait) {
    using namespace net::experimental::awaitable_operators;
    auto which = co_await (run(r) || res.wait_client_gone());
    client_left = which.index() == 1 && !r.aborted_by_us;
  } else {
    co_await run(r);
  }
  if (r.waiter && !state_.capacity().cancel(r.waiter)) {
    r.holds_slot = true;  // granted while we were leaving: give it back
  }
  if (r.holds_slot) {
    state_.capacity().release();
  }
  stats.active_kv_tokens.fetch_sub(r.kv_tokens, std::memory_order_relaxed);
  if (r.stage != Stage::kDone && !r.aborted_by_us && (client_left || res.broken())) {
    stats.inc(Counter::kClientDisconnects);
    if (r.stage == Stage::kQueued) {
      stats.inc(Counter::kQueueAbandoned);
    } else if (r.stage == Stage::kGenerating && r.req.stream) {
      stats.inc(Counter::kStreamsCancelled);
    }
  }
}

}  // namespace sluice::sim
