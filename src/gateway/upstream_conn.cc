#include "gateway/upstream_conn.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

namespace sluice::gateway {

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
    : stream_(make_stream(ex, tls)), scratch_(new char[kScratchBytes]) {
  // Beast sizes each read from the buffer's capacity (starting at 512 bytes): reserve so that one read
  // takes a whole response or a burst of SSE events.
  buffer_.reserve(kScratchBytes);
}

void UpstreamConnection::close() {
  error_code ec;
  tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
  tcp().socket().close(ec);
}

UpstreamPool::UpstreamPool(net::any_io_executor ex, const config::Upstream& up, ssl::context* tls)
    : ex_(ex), up_(up), tls_(tls), resolver_(ex) {}

std::unique_ptr<UpstreamConnection> UpstreamPool::take_idle() {
  auto now = Clock::now();
  while (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    // Peeking costs a syscall per request; a connection idle for under a second is almost never closed by
    // its peer, and a stale one is retried on a fresh connection anyway (Attempt::connect_and_send).
    bool fresh = now - c->idle_since_ < std::chrono::seconds(1);
    if (now - c->idle_since_ < kMaxIdleAge && c->tcp().socket().is_open() && (fresh || !peer_closed(c->tcp()))) {
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
  auto& tcp_stream = c->tcp();
  tcp_stream.expires_at(deadline);
  auto [ec, ep] = co_await tcp_stream.async_connect(endpoints_, use_tuple);
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
  conn->idle_since_ = Clock::now();
  conn->tcp().expires_never();
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

}  // namespace sluice::gateway
