#include "gateway/writer.h"

#include "cache/shape.h"
#include "gateway/failure_answer.h"
#include "http/openai_error.h"

namespace sluice::gateway {

void ClientWriter::start_stream() {
  res_.start_stream(bhttp::status::ok, "text/event-stream; charset=utf-8", "no-cache");
}

bool ClientWriter::send_body_now(const std::string& body) {
  return res_.send_body_now(bhttp::status::ok, "application/json", body);
}

net::awaitable<void> ClientWriter::send_json(unsigned status, std::string body,
                                             std::string_view retry_after) {
  http::Response r{static_cast<bhttp::status>(status), 11};
  r.set(bhttp::field::content_type, "application/json");
  if (!retry_after.empty()) {
    r.set(bhttp::field::retry_after, retry_after);
  }
  r.body() = std::move(body);
  co_await res_.send(std::move(r));
}

net::awaitable<void> ClientWriter::reply(const LocalReply& r) {
  co_await send_json(r.status, http::openai_error_body(r.message, r.type, r.code, r.param), r.retry_after);
}

net::awaitable<void> ClientWriter::end_stream(std::string_view tail) {
  // Two statements: with `co_await a && co_await b` in one condition of this coroutine, GCC 12 emitted a
  // trap.
  bool ok = co_await res_.send_chunk(net::buffer(tail));
  if (ok) {
    ok = co_await res_.finish_stream();
  }
  if (ok) {
    res_.unwatch();
  }
}

net::awaitable<void> ClientWriter::fail(const upstream::AttemptOutcome& out) {
  if (res_.broken() || out.failure == routing::UpstreamFailure::kNone) {
    co_return;
  }
  if (out.committed) {
    if (out.broken_stream) {
      co_await end_stream(failure_stream_tail(out.failure));  // never a silent cut
    }
    co_return;
  }
  FailureAnswer a = failure_answer(out);
  co_await send_json(a.status, std::move(a.body), a.retry_after);
}

net::awaitable<void> ClientWriter::replay(const cache::CachedAnswer& a, bool stream, bool include_usage) {
  if (!stream) {
    co_await send_json(200, a.json);
    co_return;
  }
  std::string body;
  body.reserve(a.sse_main.size() + a.sse_usage.size() + cache::kSseDone.size());
  body += a.sse_main;
  if (include_usage) {
    body += a.sse_usage;
  }
  body += cache::kSseDone;
  start_stream();
  if (!res_.broken()) {
    co_await res_.send_chunk(net::buffer(body), true);
  }
}

net::awaitable<ClientWriter::Follow> ClientWriter::follow(cache::Flight& f, const cache::CacheTicket& t,
                                                          CancelScope& cancel) {
  using cache::FlightState;
  auto w = f.join(co_await net::this_coro::executor);
  struct Leave {
    cache::Flight& f;
    std::shared_ptr<cache::Wakeup>& w;
    ~Leave() { f.leave(w); }
  } leave{f, w};
  auto wake = [&w] { w->cancel(); };
  const CancelScope::Hook hook(cancel, CancelScope::kWait, wake);
  std::size_t next = 0;
  bool started = false;
  for (;;) {
    cache::FlightView v = f.read(next, t.include_usage);
    next = v.next_event;
    if (!v.upstream.empty()) {
      res_.set_header("x-sluice-upstream", v.upstream);
    }
    if (v.state == FlightState::kFailed || v.state == FlightState::kAbandoned) {
      if (started) {
        co_await end_stream(failure_stream_tail(routing::UpstreamFailure::kReset));
        co_return Follow::kServed;
      }
      if (v.state == FlightState::kAbandoned) {
        co_return Follow::kRunOwn;  // the leader left before any answer: go upstream ourselves
      }
      co_await send_json(v.status, std::move(v.error_body), v.retry_after);
      co_return Follow::kServed;
    }
    if (t.stream && !v.bytes.empty()) {
      if (!started) {
        start_stream();
      }
      started = true;
      if (res_.broken() || !co_await res_.send_chunk(net::buffer(v.bytes))) {
        co_return Follow::kServed;
      }
    }
    if (v.state == FlightState::kDone) {
      if (t.stream) {
        co_await res_.finish_stream();
      } else {
        co_await send_json(200, std::move(v.bytes));
      }
      co_return Follow::kServed;
    }
    if (res_.broken() || cancel.cancelled(CancelScope::kWait)) {
      co_return Follow::kServed;
    }
    co_await w->async_receive(use_tuple);
    if (res_.broken()) {
      co_return Follow::kServed;
    }
  }
}

}  // namespace sluice::gateway
