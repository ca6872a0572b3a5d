#include "bench/client.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace sluice::bench {

namespace {
std::variant<Connection::Plain, Connection::Tls> new_stream(net::any_io_executor ex, ssl::context* tls) {
  if (tls != nullptr) {
    return std::variant<Connection::Plain, Connection::Tls>{std::in_place_type<Connection::Tls>, ex, *tls};
  }
  return std::variant<Connection::Plain, Connection::Tls>{std::in_place_type<Connection::Plain>, ex};
}

std::uint32_t to_us(Clock::duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(us, 0, UINT32_MAX));
}

// An idle keep-alive connection the server has closed reads as EOF (or has stray bytes) without blocking.
// Such a connection is dropped before use rather than retried after a failure, so that a server's
// deliberate reset is never hidden by a silent retry.
bool closed_by_peer(beast::tcp_stream& s) {
  char probe;
  const ssize_t n = ::recv(s.socket().native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) {
    return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  }
  return true;
}
}  // namespace

Connection::Connection(net::any_io_executor ex, ssl::context* tls) : stream_(new_stream(ex, tls)) {}

net::awaitable<error_code> Connection::connect(const tcp::resolver::results_type& endpoints,
                                               const std::string& host) {
  auto& s = tcp();
  auto [ec, ep] = co_await s.async_connect(endpoints, use_tuple);
  if (ec) {
    co_return ec;
  }
  error_code opt_ec;
  s.socket().set_option(tcp::no_delay(true), opt_ec);
  if (auto* tls = std::get_if<Tls>(&stream_)) {
    if (SSL_set_tlsext_host_name(tls->native_handle(), host.c_str()) != 1) {
      co_return error_code(net::error::invalid_argument);
    }
    tls->set_verify_callback(ssl::host_name_verification(host));
    auto [hec] = co_await tls->async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
      co_return hec;
    }
  }
  connected_ = true;
  co_return error_code{};
}

net::awaitable<std::tuple<error_code, std::size_t>> Connection::write(std::string_view bytes) {
  co_return co_await std::visit([&](auto& s) { return net::async_write(s, net::buffer(bytes), use_tuple); },
                                stream_);
}

TargetPool::TargetPool(net::any_io_executor ex, Target target, unsigned max, ssl::context* tls)
    : ex_(ex), target_(std::move(target)), max_(max), tls_(tls) {}

error_code TargetPool::resolve() {
  tcp::resolver resolver(ex_);
  error_code ec;
  auto results = resolver.resolve(target_.host, target_.port, ec);
  if (!ec) {
    endpoints_ = std::move(results);
  }
  return ec;
}

net::awaitable<std::unique_ptr<Connection>> TargetPool::acquire(Clock::time_point deadline) {
  while (!idle_.empty()) {
    auto c = std::move(idle_.back());  // LIFO: the hottest connection
    idle_.pop_back();
    if (!closed_by_peer(c->tcp())) {
      co_return c;
    }
    --open_;
  }
  if (open_ < max_) {
    ++open_;
    co_return fresh();
  }
  Waiter w{net::steady_timer(ex_), nullptr, false};
  w.timer.expires_at(deadline);
  waiters_.push_back(&w);
  auto [ec] = co_await w.timer.async_wait(use_tuple);
  (void)ec;
  if (w.conn) {
    co_return std::move(w.conn);
  }
  if (w.granted) {
    co_return fresh();
  }
  waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), &w), waiters_.end());
  co_return nullptr;
}

void TargetPool::release(std::unique_ptr<Connection> conn, bool reusable) {
  if (!waiters_.empty()) {
    Waiter* w = waiters_.front();
    waiters_.pop_front();
    if (reusable) {
      w->conn = std::move(conn);
    } else {
      w->granted = true;  // the slot of the dropped connection passes on
    }
    w->timer.cancel();
    return;
  }
  if (reusable) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
}

net::awaitable<RequestResult> run_request(TargetPool& pool, std::string_view request, bool stream,
                                          Clock::time_point start, Clock::time_point deadline) {
  RequestResult r;
  r.start = start;
  auto finish = [&](Outcome o) {
    r.outcome = o;
    r.e2e = Clock::now() - start;
  };
  auto conn = co_await pool.acquire(deadline);
  r.queued = Clock::now() - start;
  if (!conn) {
    finish(Outcome::kTimeout);
    co_return r;
  }
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(std::uint64_t{1} << 32);
  conn->tcp().expires_at(deadline);
  if (!conn->connected()) {
    if (auto ec = co_await conn->connect(pool.endpoints(), pool.target().host)) {
      pool.release(std::move(conn), false);
      finish(classify_error(ec, true));
      co_return r;
    }
  }
  {
    auto [ec, n] = co_await conn->write(request);
    if (!ec) {
      auto [hec, hn] = co_await conn->read_header(parser);
      ec = hec;
    }
    if (ec) {
      pool.release(std::move(conn), false);
      finish(classify_error(ec, false));
      co_return r;
    }
  }
  conn->mark_used();
  const Outcome status_class = classify_status(parser.get().result_int());
  const bool sse = stream && status_class == Outcome::kOk;
  StreamCheck check;
  std::string body;
  auto& buf = conn->body_buffer();
  Clock::time_point last_token{};
  while (!parser.is_done()) {
    parser.get().body().data = buf.data();
    parser.get().body().size = buf.size();
    auto [ec, n] = co_await conn->read_some(parser);
    if (ec == bhttp::error::need_buffer) {
      ec = {};
    }
    const std::size_t got = buf.size() - parser.get().body().size;
    if (got > 0) {
      const std::string_view bytes(buf.data(), got);
      if (sse) {
        unsigned tokens = check.feed(bytes);
        if (tokens > 0) {
          const auto now = Clock::now();
          if (!r.ttft) {
            r.ttft = now - start;
          } else {
            r.itl_us.push_back(to_us(now - last_token));
          }
          // Chunks that arrived in the same read are 0 µs apart.
          for (unsigned i = 1; i < tokens; ++i) {
            r.itl_us.push_back(0);
          }
          last_token = now;
        }
      } else if (body.size() < (std::size_t{64} << 20)) {
        body.append(bytes);
      }
    }
    if (ec) {
      pool.release(std::move(conn), false);
      // A stream the server cut after some tokens is a reset; with none it may just have given up.
      finish(classify_error(ec, false));
      r.tokens = check.completion_tokens();
      co_return r;
    }
  }
  const bool keep = parser.keep_alive();
  conn->tcp().expires_never();
  pool.release(std::move(conn), keep);
  if (status_class != Outcome::kOk) {
    finish(status_class);
  } else if (sse) {
    finish(check.finish());
    r.tokens = check.completion_tokens();
    r.prompt_tokens = check.prompt_tokens();
    r.cached_prompt_tokens = check.cached_prompt_tokens();
  } else {
    auto bc = check_body(body);
    finish(bc.outcome);
    r.tokens = bc.completion_tokens;
  }
  co_return r;
}

std::unique_ptr<ssl::context> make_client_tls(bool insecure, std::string& error) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  error_code ec;
  ctx->set_default_verify_paths(ec);
  if (ec) {
    error = "cannot load the system CA certificates: " + ec.message();
    return nullptr;
  }
  ctx->set_verify_mode(insecure ? ssl::verify_none : ssl::verify_peer, ec);
  if (ec) {
    error = ec.message();
    return nullptr;
  }
  return ctx;
}

}  // namespace sluice::bench
