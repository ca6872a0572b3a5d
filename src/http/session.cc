#include "http/session.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/coarse_clock.h"
#include "http/openai_error.h"

namespace sluice::http {

namespace {
// beast::tcp_stream's own timeout closes the socket, which would leave no way to send the 408. This deadline
// only cancels the pending read, so the session can still answer before closing.
class ReadDeadline {
 public:
  ReadDeadline(tcp::socket& sock, std::chrono::milliseconds timeout)
      : state_(std::make_shared<State>()), timer_(sock.get_executor(), timeout) {
    timer_.async_wait([st = state_, &sock](error_code ec) {
      if (!ec && !st->done) {
        st->fired = true;
        error_code ignored;
        sock.cancel(ignored);
      }
    });
  }
  ~ReadDeadline() {
    state_->done = true;
    timer_.cancel();
  }
  // Maps the cancellation this deadline caused to beast::error::timeout.
  error_code result(error_code ec) const { return state_->fired && ec ? error_code(beast::error::timeout) : ec; }

 private:
  struct State {
    bool done = false;
    bool fired = false;
  };
  std::shared_ptr<State> state_;
  net::steady_timer timer_;
};
}  // namespace

Session::Session(Worker& worker, tcp::socket socket)
    : worker_(worker), stream_(std::move(socket)), watch_(std::make_shared<ClientWatch>(stream_.socket(), worker.options().finish_on_half_close)) {
  error_code ec;
  stream_.socket().non_blocking(true, ec);  // Responder tries a plain send before an asynchronous write
  entry_.stream = &stream_;
  entry_.next = worker_.sessions_;
  if (worker_.sessions_) {
    worker_.sessions_->prev = &entry_;
  }
  worker_.sessions_ = &entry_;
  worker_.active_.fetch_add(1, std::memory_order_relaxed);
}

Session::~Session() {
  watch_->detach();  // a read still completing must not touch a socket that is going away
  if (entry_.prev) {
    entry_.prev->next = entry_.next;
  } else {
    worker_.sessions_ = entry_.next;
  }
  if (entry_.next) {
    entry_.next->prev = entry_.prev;
  }
  worker_.active_.fetch_sub(1, std::memory_order_relaxed);
}

void close_idle_sessions(Worker& w) {
  for (auto* e = w.sessions_; e; e = e->next) {
    if (e->idle) {
      error_code ec;
      e->stream->socket().close(ec);
    }
  }
}

void close_all_sessions(Worker& w) {
  for (auto* e = w.sessions_; e; e = e->next) {
    error_code ec;
    e->stream->socket().close(ec);
  }
}

net::awaitable<void> Session::settle_watch() {
  while (watch_->busy()) {
    co_await net::post(stream_.get_executor(), net::use_awaitable);
  }
}

bool Session::must_wait_for_request() {
  if (buffer_.size() > 0 || watch_->has_pending() || watch_->gone()) {
    return false;
  }
  watch_->read_ahead();  // usually still pending: the last request's client watch
  return watch_->busy();
}

net::awaitable<error_code> Session::read_more(std::size_t want) {
  auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(want), await_tuple);
  buffer_.commit(n);
  co_return ec;
}

// The body into req_.body() from the bytes already buffered: kNone when it is complete (the common case, with
// no coroutine frame), kNeedMore when read_body_rest() must read the rest, or the body's error.
h1::Error Session::take_buffered_body(std::size_t limit) {
  auto& body = req_.body();
  if (req_.framing() == h1::Framing::kLength) {
    body.reserve(req_.content_length() + kBodyPadding);
  }
  body_.reset(req_.framing(), req_.content_length(), limit);
  const auto step = body_.decode_append(buffer_view(buffer_), body);
  buffer_.consume(step.used);
  if (step.error != h1::Error::kNone) {
    return step.error;
  }
  if (!body_.done()) {
    return h1::Error::kNeedMore;
  }
  pad_body();
  return h1::Error::kNone;
}

// The rest of the body, read under the body deadline. kNeedMore: the deadline passed; kTruncated: the client
// closed or reset the connection.
net::awaitable<h1::Error> Session::read_body_rest(const ServerOptions& opts) {
  ReadDeadline deadline{stream_.socket(), opts.body_timeout};
  while (!body_.done()) {
    const std::size_t left = body_.remaining();
    if (auto ec = deadline.result(co_await read_more(std::clamp<std::size_t>(left, 4096, 64 * 1024)))) {
      co_return ec == beast::error::timeout ? h1::Error::kNeedMore : h1::Error::kTruncated;
    }
    const auto step = body_.decode_append(buffer_view(buffer_), req_.body());
    buffer_.consume(step.used);
    if (step.error != h1::Error::kNone) {
      co_return step.error;
    }
  }
  pad_body();
  co_return h1::Error::kNone;
}

void Session::pad_body() {
  auto& body = req_.body();
  if (body.capacity() < body.size() + kBodyPadding) {
    body.reserve(body.size() + kBodyPadding);  // chunked uploads had no length up front
  }
}

net::awaitable<void> Session::reject(bhttp::status status, std::string_view message, std::string_view code) {
  Response res{status, version_};
  res.set(bhttp::field::content_type, "application/json");
  res.keep_alive(false);
  res.body() = openai_error_body(message, "invalid_request_error", code);
  res.prepare_payload();
  stream_.expires_after(worker_.options().write_timeout);
  co_await bhttp::async_write(stream_, res, use_tuple);
  co_await lingering_close();
}

// Closing with unread request bytes makes the kernel send RST, which can destroy the error response we
// just wrote before the client reads it. Half-close, then discard input briefly (as nginx's lingering_close).
net::awaitable<void> Session::lingering_close() {
  error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.expires_after(std::chrono::seconds(2));
  std::size_t discarded = 0;
  while (!ec && discarded < (1u << 20)) {
    char sink[4096];
    std::size_t n;
    std::tie(ec, n) = co_await stream_.async_read_some(net::buffer(sink), use_tuple);
    discarded += n;
  }
  stream_.socket().close(ec);
}

// The next request into req_ (head and body): waits for its first bytes, parses, reads the rest of the body
// and answers what is wrong with it. False when there is none (closed, timed out, draining, rejected). Its own
// coroutine so its locals are gone from run()'s frame while the request runs (a stream may wait for minutes).
net::awaitable<bool> Session::next_request(bool first) {
  const auto& opts = worker_.options();
  entry_.idle = true;
  const auto waited_from = first ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  if (worker_.draining()) {
    co_return false;
  }
  // The next request's first bytes, through the client watch's read (client_watch.h).
  if (must_wait_for_request()) {
    const auto timeout = first ? opts.header_timeout : opts.keepalive_timeout;
    auto [ec] = co_await watch_->async_wait_read(CoarseClock::now() + timeout, await_tuple);
    if (ec || watch_->busy()) {  // timed out: no request (bytes that came just now are still taken)
      watch_->cancel();
      co_await settle_watch();
    }
  }
  watch_->drain_into(buffer_);
  if (buffer_.size() == 0) {
    co_return false;
  }
  // On a new connection header_timeout covers everything from accept; later requests get it from their
  // first byte (keepalive_timeout covered the idle wait before it).
  auto header_budget = opts.header_timeout;
  if (first) {
    header_budget -= std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                           waited_from);
    header_budget = std::max(header_budget, std::chrono::milliseconds(1));
  }
  entry_.idle = false;

  stream_.expires_never();
  // What the first read brought usually holds the whole request: parse it without another I/O operation
  // (no deadline timer, no completion to dispatch); only a request still incomplete is read under one.
  std::size_t used = 0;
  std::size_t scan_from = 0;
  const h1::Limits limits{opts.max_header_bytes};
  h1::Error herr = h1::parse_request(buffer_view(buffer_), req_, used, scan_from, limits);
  if (herr == h1::Error::kNeedMore) {
    ReadDeadline deadline{stream_.socket(), header_budget};
    while (herr == h1::Error::kNeedMore) {
      if (auto ec = deadline.result(co_await read_more(4096))) {
        if (ec == beast::error::timeout) {
          co_await reject(bhttp::status::request_timeout, "request header not received in time",
                          "request_timeout");
        }
        herr = h1::Error::kTruncated;  // closed or reset: nothing to answer
        break;
      }
      herr = h1::parse_request(buffer_view(buffer_), req_, used, scan_from, limits);
    }
  }
  if (herr != h1::Error::kNone) {
    if (herr == h1::Error::kHeadTooLarge) {
      co_await reject(bhttp::status::request_header_fields_too_large,
                      "request header exceeds the configured limit", "header_too_large");
    } else if (herr == h1::Error::kRepeatedField) {
      co_await reject(bhttp::status::bad_request,
                      fmt::format("invalid HTTP request: the {} header may appear only once",
                                  h1::repeated_field(req_)),
                      "bad_request");
    } else if (herr != h1::Error::kTruncated) {
      co_await reject(bhttp::status::bad_request,
                      fmt::format("malformed HTTP request: {}", h1::describe(herr)), "bad_request");
    }
    co_return false;
  }
  buffer_.consume(used);
  version_ = req_.version();
  const bool sized = req_.framing() == h1::Framing::kLength;
  const std::size_t max_body = body_limit(opts, req_);
  if (sized && req_.content_length() > max_body) {
    co_await reject(bhttp::status::payload_too_large,
                    fmt::format("request body of {} bytes exceeds the limit of {} bytes",
                                req_.content_length(), max_body),
                    "request_too_large");
    co_return false;
  }
  if (req_.expect_continue() && req_.framing() != h1::Framing::kNone) {
    bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version_};
    stream_.expires_after(opts.write_timeout);
    auto [cec, cn] = co_await bhttp::async_write(stream_, cont, use_tuple);
    stream_.expires_never();
    if (cec) {
      co_return false;
    }
  }
  h1::Error berr = take_buffered_body(max_body);
  if (berr == h1::Error::kNeedMore) {
    berr = co_await read_body_rest(opts);
  }
  if (berr != h1::Error::kNone) {
    if (berr == h1::Error::kBodyTooLarge) {
      co_await reject(bhttp::status::payload_too_large,
                      fmt::format("request body exceeds the limit of {} bytes", max_body), "request_too_large");
    } else if (berr == h1::Error::kNeedMore) {  // the body deadline passed
      co_await reject(bhttp::status::request_timeout, "request body not received in time", "request_timeout");
    } else if (berr != h1::Error::kTruncated) {
      co_await reject(bhttp::status::bad_request,
                      fmt::format("malformed HTTP request body: {}", h1::describe(berr)), "bad_request");
    }
    co_return false;
  }
  co_return true;
}

net::awaitable<void> Session::run() {
  const auto& opts = worker_.options();
  for (bool first = true; co_await next_request(first); first = false) {
    Request& req = req_;
    // With pipelined bytes already buffered, a close behind them cannot be seen: no watching this request.
    // Without, the read buffer is freed while the request runs (a stream may run for minutes): the watch's
    // read brings the next request, into a buffer of its own taken when the bytes arrive.
    watch_->enable(buffer_.size() == 0);
    if (buffer_.size() == 0) {
      buffer_.shrink_to_fit();
    }
    // Shutting down: every answer says Connection: close, so keep-alive clients reconnect elsewhere.
    Responder res{stream_, *watch_, req, opts.write_timeout, worker_.shutting_down()};
    try {
      std::shared_ptr<Handler> handler = worker_.handler_;  // pinned for this request (hot reload)
      co_await handler->handle(req, res);
    } catch (const std::exception& e) {
      spdlog::error("{}: handler failed: {}", opts.name, e.what());
      res.set_keep_alive(false);
    }
    if (!res.committed()) {
      res.set_keep_alive(false);
      co_await res.send_error(bhttp::status::internal_server_error, "internal error: no response produced",
                              "server_error", "internal_error");
    }
    if (!res.keep_alive()) {
      break;
    }
  }
  error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.socket().close(ec);
}

}  // namespace sluice::http
