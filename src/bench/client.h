#pragma once
// A small HTTP/1.1 keep-alive client for the load generator: one connection per in-flight request, a
// per-target pool capped at --connections, and one request run end to end with its timings.
#include <array>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bench/options.h"
#include "bench/outcome.h"
#include "http/asio.h"

namespace sluice::bench {

namespace ssl = boost::asio::ssl;
using Clock = std::chrono::steady_clock;

class Connection {
 public:
  using Plain = beast::tcp_stream;
  using Tls = beast::ssl_stream<beast::tcp_stream>;

  Connection(net::any_io_executor ex, ssl::context* tls);
  beast::tcp_stream& tcp() {
    return std::visit([](auto& s) -> beast::tcp_stream& { return lowest(s); }, stream_);
  }
  bool connected() const { return connected_; }
  unsigned uses() const { return uses_; }

  net::awaitable<error_code> connect(const tcp::resolver::results_type& endpoints, const std::string& host);
  net::awaitable<std::tuple<error_code, std::size_t>> write(std::string_view bytes);
  template <class Parser>
  net::awaitable<std::tuple<error_code, std::size_t>> read_header(Parser& p) {
    co_return co_await std::visit([&](auto& s) { return bhttp::async_read_header(s, buffer_, p, use_tuple); },
                                  stream_);
  }
  template <class Parser>
  net::awaitable<std::tuple<error_code, std::size_t>> read_some(Parser& p) {
    co_return co_await std::visit([&](auto& s) { return bhttp::async_read_some(s, buffer_, p, use_tuple); },
                                  stream_);
  }

  std::array<char, 16384>& body_buffer() { return body_buf_; }
  void mark_used() { ++uses_; }

 private:
  static beast::tcp_stream& lowest(Plain& s) { return s; }
  static beast::tcp_stream& lowest(Tls& s) { return s.next_layer(); }

  std::variant<Plain, Tls> stream_;
  beast::flat_buffer buffer_;
  std::array<char, 16384> body_buf_{};  // per connection: reads of different requests interleave
  bool connected_ = false;
  unsigned uses_ = 0;
};

// Connections to one target, at most `max` at a time; requests beyond that wait in FIFO order.
class TargetPool {
 public:
  TargetPool(net::any_io_executor ex, Target target, unsigned max, ssl::context* tls);

  error_code resolve();  // once, before the run: DNS stays out of the measurement
  // An idle connection, a new (unconnected) one, or one released by another request; nullptr when the
  // deadline passes first.
  net::awaitable<std::unique_ptr<Connection>> acquire(Clock::time_point deadline);
  // Returns a connection; `reusable` = its last response was read completely and keep-alive holds.
  void release(std::unique_ptr<Connection> conn, bool reusable);
  std::unique_ptr<Connection> fresh() { return std::make_unique<Connection>(ex_, tls_); }

  const Target& target() const { return target_; }
  const tcp::resolver::results_type& endpoints() const { return endpoints_; }
  unsigned open() const { return open_; }

 private:
  struct Waiter {
    net::steady_timer timer;
    std::unique_ptr<Connection> conn;
    bool granted = false;
  };

  net::any_io_executor ex_;
  Target target_;
  unsigned max_;
  ssl::context* tls_;
  tcp::resolver::results_type endpoints_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::deque<Waiter*> waiters_;
  unsigned open_ = 0;  // connections handed out or idle
};

struct RequestResult {
  Outcome outcome = Outcome::kOk;
  Clock::time_point start;              // scheduled send time (open loop) or send time (closed loop)
  Clock::duration queued{};             // waiting for a connection
  std::optional<Clock::duration> ttft;  // streams: first content chunk
  Clock::duration e2e{};
  std::int64_t tokens = 0;            // completion tokens (usage, else content chunks)
  std::int64_t prompt_tokens = -1;    // streams with a usage chunk: prompt tokens, -1 without
  std::int64_t cached_prompt_tokens = 0;
  std::vector<std::uint32_t> itl_us;  // gaps between content chunks
};

// Sends `request` (complete HTTP bytes) on a pooled connection and reads the whole response.
net::awaitable<RequestResult> run_request(TargetPool& pool, std::string_view request, bool stream,
                                          Clock::time_point start, Clock::time_point deadline);

// TLS client context: system CAs, peer verification unless insecure.
std::unique_ptr<ssl::context> make_client_tls(bool insecure, std::string& error);

}  // namespace sluice::bench
