#include "upstream/connection.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include "common/coarse_clock.h"
#include "http/h1_error.h"
#include "http/ready_read.h"
#include "http/send.h"

namespace sluice::upstream {

namespace {
constexpr auto kResolveTtl = std::chrono::seconds(30);

std::variant<UpstreamConnection::Plain, UpstreamConnection::Tls> make_stream(net::any_io_executor ex,
                                                                             ssl::context* tls) {
  if (tls) {
    return std::variant<UpstreamConnection::Plain, UpstreamConnection::Tls>{
        std::in_place_type<UpstreamConnection::Tls>, ex, *tls};
  }
  return std::variant<UpstreamConnection::Plain, UpstreamConnection::Tls>{
      std::in_place_type<UpstreamConnection::Plain>, ex};
}

// An idle keep-alive connection the peer has already closed reads as EOF without blocking.
bool peer_closed(beast::tcp_stream& s) {
  char probe;
  ssize_t n = ::recv(s.socket().native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) {
    return true;
  }
  if (n < 0) {
    return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  }
  return true;  // unsolicited bytes on an idle HTTP connection: not trustworthy either
}
}  // namespace

UpstreamConnection::UpstreamConnection(net::any_io_executor ex, ssl::context* tls)
    : stream_(make_stream(ex, tls)),
      watchdog_timer_(ex),
      watchdog_(std::make_shared<Watchdog>()) {
  if (auto* plain = std::get_if<Plain>(&stream_)) {
    reactor_ = http::ReadyReactor(plain->socket());
  }
}

UpstreamConnection::~UpstreamConnection() {
  watchdog_->alive = false;  // the timer's destructor cancels its wait; the handler then touches nothing
}

void UpstreamConnection::close() {
  closed_ = true;
  error_code ec;
  tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
  tcp().socket().close(ec);
}

void UpstreamConnection::shed_buffers() {
  if (buffer_.size() == 0) {
    buffer_.shrink_to_fit();
  }
  scratch_.reset();
}

void UpstreamConnection::set_deadline(Clock::time_point deadline) {
  Watchdog& w = *watchdog_;
  w.deadline = deadline;
  w.fired = false;
  if (deadline < w.armed_for) {
    arm_watchdog(deadline);  // a later deadline waits for the pending wait to fire, which then re-arms
  }
}

void UpstreamConnection::arm_watchdog(Clock::time_point at) {
  Watchdog& w = *watchdog_;
  w.armed_for = at;
  const unsigned generation = ++w.generation;
  watchdog_timer_.expires_at(at);  // cancels a pending wait; its handler sees an old generation
  watchdog_timer_.async_wait([this, st = watchdog_, generation](error_code ec) {
    if (!st->alive || st->generation != generation) {
      return;
    }
    st->armed_for = Clock::time_point::max();
    if (ec) {
      return;
    }
    if (Clock::now() < st->deadline) {
      if (st->deadline != Clock::time_point::max()) {
        arm_watchdog(st->deadline);  // pushed back while we waited
      }
      return;
    }
    st->fired = true;
    error_code ignored;
    tcp().socket().cancel(ignored);  // the pending read or write ends with operation_aborted
  });
}

error_code UpstreamConnection::timed_out_or(error_code ec) const {
  return watchdog_->fired && ec ? error_code(beast::error::timeout) : ec;
}

bool UpstreamConnection::write_now(const Buffers& request, std::size_t& sent, error_code& ec) {
  sent = 0;
  if (watchdog_->fired) {
    ec = beast::error::timeout;
    return true;
  }
  auto* plain = std::get_if<Plain>(&stream_);
  if (!plain) {
    return false;  // TLS: the record layer writes asynchronously
  }
  sent = http::send_now(plain->socket(), request, ec);
  return ec || sent == net::buffer_size(request);
}

net::awaitable<std::tuple<error_code, std::size_t>> UpstreamConnection::write_rest(const Buffers& request,
                                                                                   std::size_t sent) {
  auto rest = http::unsent(request, sent);
  auto [ec, n] = std::holds_alternative<Plain>(stream_)
                     ? co_await net::async_write(std::get<Plain>(stream_).socket(), rest, await_tuple)
                     : co_await net::async_write(std::get<Tls>(stream_), rest, await_tuple);
  co_return std::tuple{timed_out_or(ec), sent + n};
}

error_code UpstreamConnection::finish_read(error_code ec, std::size_t n) {
  buffer_.commit(n);
  return timed_out_or(ec);
}

net::awaitable<error_code> UpstreamConnection::read_header() {
  start_header();
  error_code ec;
  while (!header_now(ec)) {
    auto [rec, n] = co_await read_some(await_tuple);
    if ((ec = finish_header_read(rec, n))) {
      break;
    }
  }
  co_return ec;
}

void UpstreamConnection::start_header() {
  head_read_ = false;
  head_scan_ = 0;
}

bool UpstreamConnection::header_now(error_code& ec) {
  while (buffer_.size() > 0) {
    std::size_t used = 0;
    const auto e = h1::parse_response(buffer_view(buffer_), head_, used, head_scan_);
    if (e == h1::Error::kNeedMore) {
      break;
    }
    if (e != h1::Error::kNone) {
      ec = h1::make_error_code(e);
      return true;
    }
    buffer_.consume(used);
    head_scan_ = 0;
    const unsigned status = head_.status();
    if (status >= 100 && status < 200 && status != 101) {
      continue;  // interim (100 Continue, 103 Early Hints): the final head follows
    }
    head_read_ = true;
    body_.reset(head_.framing(), head_.content_length());
    ec = {};
    return true;
  }
  if (watchdog_->fired) {  // it fired while nothing was pending
    ec = beast::error::timeout;
    return true;
  }
  return false;
}

error_code UpstreamConnection::finish_header_read(error_code ec, std::size_t n) {
  ec = finish_read(ec, n);
  if (ec == net::error::eof) {
    return buffer_.size() > 0 ? error_code(bhttp::error::partial_message)
                              : error_code(bhttp::error::end_of_stream);
  }
  return ec;
}

bool UpstreamConnection::read_body_now(std::tuple<error_code, std::size_t>& result) {
  std::size_t produced = 0;
  // Greedy: everything already buffered goes out in one piece (for a stream, all events in one write).
  if (buffer_.size() > 0 && !body_.done()) {
    const auto step = body_.decode(buffer_view(buffer_), scratch());
    buffer_.consume(step.used);
    produced = step.produced;
    if (step.error != h1::Error::kNone) {
      result = {h1::make_error_code(step.error), produced};
      return true;
    }
  }
  result = {error_code{}, produced};
  return produced > 0 || body_.done();
}

net::awaitable<std::tuple<error_code, std::size_t>> UpstreamConnection::read_body() {
  for (;;) {
    std::tuple<error_code, std::size_t> result;
    if (read_body_now(result)) {
      co_return result;
    }
    if (watchdog_->fired) {  // it fired while nothing was pending
      co_return std::tuple{error_code(beast::error::timeout), std::size_t{0}};
    }
    shed_buffers();  // the read takes a buffer again when bytes arrive
    auto [rec, n] = co_await read_some(await_tuple);
    const error_code ec = finish_read(rec, n);
    if (ec == net::error::eof) {
      co_return std::tuple{
          body_.finish() == h1::Error::kNone ? error_code{} : error_code(bhttp::error::partial_message),
          std::size_t{0}};
    }
    if (ec) {
      co_return std::tuple{ec, std::size_t{0}};
    }
  }
}

UpstreamPool::UpstreamPool(net::any_io_executor ex, const config::Upstream& up, ssl::context* tls)
    : ex_(ex), up_(up), tls_(tls), resolver_(ex) {}

std::unique_ptr<UpstreamConnection> UpstreamPool::take_idle() {
  auto now = CoarseClock::now();
  while (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    // Peeking costs a syscall per request; a connection idle for under a second is almost never closed by
    // its peer, and a stale one is retried on a fresh connection anyway (Attempt::connect_and_send).
    bool fresh = now - c->idle_since_ < std::chrono::seconds(1);
    if (now - c->idle_since_ < kMaxIdleAge && c->tcp().socket().is_open() &&
        (fresh || !peer_closed(c->tcp()))) {
      return c;
    }
  }
  return nullptr;
}

net::awaitable<error_code> UpstreamPool::resolve() {
  if (!endpoints_.empty() && Clock::now() - resolved_at_ < kResolveTtl) {
    co_return error_code{};
  }
  auto [ec, results] = co_await resolver_.async_resolve(up_.host, std::to_string(up_.port), use_tuple);
  if (!ec) {
    endpoints_ = std::move(results);
    resolved_at_ = Clock::now();
  }
  co_return ec;
}

net::awaitable<AcquireResult> UpstreamPool::acquire(Clock::time_point deadline, UpstreamConnection** slot) {
  AcquireResult r;
  if (auto c = take_idle()) {
    *slot = c.get();
    r.conn = std::move(c);
    co_return r;
  }
  auto c = std::make_unique<UpstreamConnection>(ex_, tls_);
  *slot = c.get();
  if (auto ec = co_await resolve()) {
    r.failure = UpstreamFailure::kConnectFailed;
    r.detail = "resolve " + up_.host + ": " + ec.message();
    co_return r;
  }
  if (c->closed()) {  // cancelled while resolving: the socket is not open yet, so close() stopped nothing
    r.failure = UpstreamFailure::kReset;
    r.detail = "cancelled before connecting";
    co_return r;
  }
  auto& tcp_stream = c->tcp();
  tcp_stream.expires_at(deadline);
  auto [ec, ep] = co_await tcp_stream.async_connect(endpoints_, use_tuple);
  if (c->closed()) {  // cancelled while connecting (a range connect may have opened the next address's socket)
    r.failure = UpstreamFailure::kReset;
    r.detail = "cancelled while connecting";
    co_return r;
  }
  if (ec) {
    r.failure =
        ec == beast::error::timeout ? UpstreamFailure::kConnectTimeout : UpstreamFailure::kConnectFailed;
    r.detail = "connect " + up_.host + ":" + std::to_string(up_.port) + ": " + ec.message();
    endpoints_ = {};  // re-resolve next time; the address may have moved
    co_return r;
  }
  error_code opt_ec;
  tcp_stream.socket().set_option(tcp::no_delay(true), opt_ec);
  tcp_stream.socket().non_blocking(true, opt_ec);  // write() tries a plain send first
  http::enable_read_ready(tcp_stream.socket());
  if (auto* tls = std::get_if<UpstreamConnection::Tls>(&c->stream_)) {
    if (!SSL_set_tlsext_host_name(tls->native_handle(), up_.host.c_str())) {
      r.failure = UpstreamFailure::kTlsHandshake;
      r.detail = "cannot set SNI";
      co_return r;
    }
    if (up_.tls_verify) {
      tls->set_verify_callback(ssl::host_name_verification(up_.host));
    }
    auto [hec] = co_await tls->async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
      r.failure =
          hec == beast::error::timeout ? UpstreamFailure::kConnectTimeout : UpstreamFailure::kTlsHandshake;
      r.detail = "TLS handshake with " + up_.host + ": " + hec.message();
      co_return r;
    }
  }
  tcp_stream.expires_never();
  r.conn = std::move(c);
  co_return r;
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> conn) {
  if (!conn || !conn->tcp().socket().is_open()) {
    return;
  }
  conn->requests_++;
  conn->idle_since_ = CoarseClock::now();
  conn->clear_deadline();
  conn->shed_buffers();
  if (idle_.size() >= up_.max_idle_connections) {
    idle_.erase(idle_.begin());  // drop the coldest
  }
  idle_.push_back(std::move(conn));
}

std::unique_ptr<ssl::context> make_tls_context(const config::Upstream& up, std::string& error) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx->set_default_verify_paths(ec);
  if (ec) {
    error = "cannot load system CA certificates: " + ec.message();
    return nullptr;
  }
  if (!up.tls_ca_file.empty()) {
    ctx->load_verify_file(up.tls_ca_file, ec);
    if (ec) {
      error = "cannot load tls_ca_file " + up.tls_ca_file + ": " + ec.message();
      return nullptr;
    }
  }
  ctx->set_verify_mode(up.tls_verify ? ssl::verify_peer : ssl::verify_none);
  return ctx;
}

}  // namespace sluice::upstream
