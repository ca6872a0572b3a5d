#pragma once
// A pooled connection to one upstream (plain TCP or TLS) and the per-worker pool that keeps them alive.
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <memory>
#include <span>
#include <variant>
#include <vector>

#include "config/config.h"
#include "gateway/upstream_failure.h"
#include "http/asio.h"

namespace sluice::gateway {

namespace ssl = boost::asio::ssl;
using Clock = std::chrono::steady_clock;

class UpstreamConnection {
 public:
  using Plain = beast::tcp_stream;
  using Tls = beast::ssl_stream<beast::tcp_stream>;

  UpstreamConnection(net::any_io_executor ex, ssl::context* tls);
  beast::tcp_stream& tcp() { return std::visit([](auto& s) -> beast::tcp_stream& { return lowest(s); }, stream_); }
  beast::flat_buffer& buffer() { return buffer_; }
  // Body bytes land here; owned by the connection so a request allocates no read buffer of its own.
  std::span<char> scratch() { return {scratch_.get(), kScratchBytes}; }
  static constexpr std::size_t kScratchBytes = 16 * 1024;
  bool reused() const { return requests_ > 0; }
  void close();  // aborts every pending operation on it at once

  // Plain TCP: one non-blocking send first (a request fits the socket buffer), the rest asynchronously.
  template <class Buffers>
  net::awaitable<std::tuple<error_code, std::size_t>> write(const Buffers& b) {
    if (auto* plain = std::get_if<Plain>(&stream_)) {
      error_code ec;
      std::size_t total = net::buffer_size(b);
      std::size_t n = plain->socket().write_some(b, ec);
      if ((!ec && n == total) || (ec && ec != net::error::would_block && ec != net::error::try_again)) {
        co_return std::tuple{ec, n};
      }
      beast::buffers_suffix<Buffers> rest{b};
      rest.consume(n);
      auto [wec, wn] = co_await net::async_write(*plain, rest, use_tuple);
      co_return std::tuple{wec, n + wn};
    }
    co_return co_await net::async_write(std::get<Tls>(stream_), b, use_tuple);
  }
  template <class Parser>
  net::awaitable<std::tuple<error_code, std::size_t>> read_header(Parser& p) {
    co_return co_await std::visit([&](auto& s) { return bhttp::async_read_header(s, buffer_, p, use_tuple); },
                                  stream_);
  }
  // Body bytes that came with the header are parsed in place, without an I/O operation.
  template <class Parser>
  net::awaitable<std::tuple<error_code, std::size_t>> read_some(Parser& p) {
    if (buffer_.size() > 0 && !p.is_done()) {
      error_code ec;
      std::size_t n = p.put(buffer_.data(), ec);
      buffer_.consume(n);
      if (ec != bhttp::error::need_more && (n > 0 || ec)) {
        co_return std::tuple{ec, n};
      }
    }
    co_return co_await std::visit([&](auto& s) { return bhttp::async_read_some(s, buffer_, p, use_tuple); },
                                  stream_);
  }

 private:
  friend class UpstreamPool;
  static beast::tcp_stream& lowest(Plain& s) { return s; }
  static beast::tcp_stream& lowest(Tls& s) { return s.next_layer(); }

  std::variant<Plain, Tls> stream_;
  beast::flat_buffer buffer_;
  std::unique_ptr<char[]> scratch_;
  Clock::time_point idle_since_{};
  unsigned requests_ = 0;
};

struct AcquireResult {
  std::unique_ptr<UpstreamConnection> conn;
  UpstreamFailure failure = UpstreamFailure::kNone;
  std::string detail;  // e.g. the resolver's or TLS library's message, for logs
};

// Per worker thread, per upstream: LIFO of idle keep-alive connections (hot connections first).
class UpstreamPool {
 public:
  UpstreamPool(net::any_io_executor ex, const config::Upstream& up, ssl::context* tls);

  // A live connection, reused or new. `slot` receives the connection before connecting so a watcher can
  // close() it to abort a slow connect.
  net::awaitable<AcquireResult> acquire(Clock::time_point deadline, UpstreamConnection** slot);
  // Returns a connection whose last response was read completely and may be reused.
  void release(std::unique_ptr<UpstreamConnection> conn);
  void clear() { idle_.clear(); }
  std::size_t idle_count() const { return idle_.size(); }

  static constexpr auto kMaxIdleAge = std::chrono::seconds(30);

 private:
  std::unique_ptr<UpstreamConnection> take_idle();
  net::awaitable<error_code> resolve();

  net::any_io_executor ex_;
  const config::Upstream& up_;
  ssl::context* tls_;
  std::vector<std::unique_ptr<UpstreamConnection>> idle_;
  tcp::resolver resolver_;
  tcp::resolver::results_type endpoints_;
  Clock::time_point resolved_at_{};
};

// TLS client context for an upstream: system CAs (plus tls_ca_file), peer verification unless disabled.
std::unique_ptr<ssl::context> make_tls_context(const config::Upstream& up, std::string& error);

}  // namespace sluice::gateway
