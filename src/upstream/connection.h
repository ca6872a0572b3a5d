#pragma once
// A pooled connection to one upstream (plain TCP or TLS) and the per-worker pool that keeps them alive.
#include <array>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <memory>
#include <span>
#include <tuple>
#include <variant>
#include <vector>

#include "config/config.h"
#include "http/asio.h"
#include "http/h1.h"
#include "http/ready_read.h"
#include "routing/failure.h"

namespace sluice::upstream {

namespace ssl = boost::asio::ssl;
using Clock = std::chrono::steady_clock;
namespace h1 = http::h1;
using routing::classify_status;
using routing::describe;
using routing::FailureInfo;
using routing::UpstreamFailure;

class UpstreamConnection {
 public:
  using Plain = beast::tcp_stream;
  using Tls = beast::ssl_stream<beast::tcp_stream>;

  UpstreamConnection(net::any_io_executor ex, ssl::context* tls);
  ~UpstreamConnection();
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;
  beast::tcp_stream& tcp() {
    return std::visit([](auto& s) -> beast::tcp_stream& { return lowest(s); }, stream_);
  }
  static constexpr std::size_t kScratchBytes = 16 * 1024;
  // Frees the read buffer (when nothing is buffered) and the body buffer: a connection parked in the pool
  // holds neither.
  void shed_buffers();
  // Bytes of read and body buffer allocated now.
  std::size_t buffer_bytes() const { return buffer_.capacity() + (scratch_ ? kScratchBytes : 0); }
  bool reused() const { return requests_ > 0; }
  void close();  // aborts every pending operation on it at once
  // close() was called: a connection still being set up (resolve, connect) must not open after it.
  bool closed() const { return closed_; }

  // Reads and writes from now on fail with beast::error::timeout once `deadline` passes. Moving a deadline
  // later costs nothing (the watchdog timer re-arms itself when it fires early), so a stream can push it
  // forward on every chunk.
  void set_deadline(Clock::time_point deadline);
  void clear_deadline() { set_deadline(Clock::time_point::max()); }

  // Writing a request: one non-blocking send first (plain connections), true when that ended the write (all
  // sent, or an error in `ec`); otherwise write_rest() sends the rest. Split so that the common case creates
  // no coroutine frame.
  using Buffers = std::array<net::const_buffer, 2>;
  bool write_now(const Buffers& request, std::size_t& sent, error_code& ec);
  net::awaitable<std::tuple<error_code, std::size_t>> write_rest(const Buffers& request, std::size_t sent);
  // The next response's head (interim 1xx heads skipped) into head(). Errors: socket and timeout errors,
  // h1 parse errors (h1_error.h), end_of_stream when the peer closed before sending a byte, partial_message
  // when it closed mid-head.
  net::awaitable<error_code> read_header();
  // read_header in parts, so a caller's frame can hold the loop (the head usually comes in one read):
  // start_header(), then while !header_now(ec): await read_some(await_tuple) and pass its result to
  // finish_header_read(), stopping on an error. header_now is true once the head is read or failed (`ec`).
  void start_header();
  bool header_now(error_code& ec);
  error_code finish_header_read(error_code ec, std::size_t n);
  // One read into the connection's buffer, straight on the socket (plain) or through TLS: no beast stream
  // layer, no per-operation timer. An asynchronous operation (completes with error_code, bytes): the caller
  // awaits it with await_tuple, having checked the watchdog (header_now does), and passes the result on.
  template <class Token>
  auto read_some(Token&& token) {
    return net::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler) {
          if (auto* plain = std::get_if<Plain>(&stream_)) {
            http::async_read_ready(plain->socket(), reactor_, read_space_, std::move(handler));
          } else {
            std::get<Tls>(stream_).async_read_some(buffer_.prepare(kScratchBytes), std::move(handler));
          }
        },
        token);
  }
  const h1::ResponseHead& head() const { return head_; }
  // Body bytes into scratch(), buffered ones first: returns once some arrived (as many as are buffered, up
  // to kScratchBytes) or the body is complete; body_bytes(n) views them. partial_message when the peer closes
  // before the body ends. While it waits for the socket the connection holds neither buffer (a stream
  // between tokens costs its socket and its state, not 32 KB).
  net::awaitable<std::tuple<error_code, std::size_t>> read_body();
  // The same from the bytes already buffered, without waiting: true when that answers the read (bytes, the
  // body's end, or an error, in `result`); false when read_body() must wait for the socket. Lets the common
  // case, a body that came with its head, skip read_body()'s frame.
  bool read_body_now(std::tuple<error_code, std::size_t>& result);
  // The `n` bytes the last read_body or read_body_now produced.
  std::string_view body_bytes(std::size_t n) const { return n > 0 ? std::string_view{scratch_.get(), n} : ""; }
  // The whole response (head and body) has been read.
  bool response_done() const { return head_read_ && body_.done(); }

 private:
  friend class UpstreamPool;
  static beast::tcp_stream& lowest(Plain& s) { return s; }
  static beast::tcp_stream& lowest(Tls& s) { return s.next_layer(); }
  error_code finish_read(error_code ec, std::size_t n);
  // Decoded body bytes land here: allocated when a body is read, freed while the connection waits.
  std::span<char> scratch() {
    if (!scratch_) {
      scratch_.reset(new char[kScratchBytes]);
    }
    return {scratch_.get(), kScratchBytes};
  }
  error_code timed_out_or(error_code ec) const;
  void arm_watchdog(Clock::time_point at);

  // The read buffer's free space, taken only when the socket has bytes (a connection waiting for a first
  // token holds no read buffer); given back (freed) when a speculative recv found nothing.
  struct ReadBufferSpace final : http::ReadSpace {
    beast::flat_buffer& buf;
    explicit ReadBufferSpace(beast::flat_buffer& b) : buf(b) {}
    net::mutable_buffer take() override { return buf.prepare(kScratchBytes); }
    void give_back() noexcept override {
      if (buf.size() == 0) {
        buf.shrink_to_fit();
      }
    }
  };

  struct Watchdog {
    Clock::time_point deadline = Clock::time_point::max();
    Clock::time_point armed_for = Clock::time_point::max();  // when the pending wait fires (max: none)
    unsigned generation = 0;                                 // a wait replaced by an earlier one must not act
    bool fired = false;
    bool alive = true;  // the connection exists
  };

  std::variant<Plain, Tls> stream_;
  http::ReadyReactor reactor_;  // a plain stream's socket's, for async_read_ready
  beast::flat_buffer buffer_;
  ReadBufferSpace read_space_{buffer_};
  h1::ResponseHead head_;  // reused: its storage is allocated once per connection
  h1::BodyDecoder body_;
  bool head_read_ = false;
  bool closed_ = false;
  std::size_t head_scan_ = 0;  // where the search for the head's end resumes
  std::unique_ptr<char[]> scratch_;
  net::steady_timer watchdog_timer_;
  std::shared_ptr<Watchdog> watchdog_;
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
  // A live idle connection, or null (then acquire() connects). Lets the common case skip acquire()'s frame.
  std::unique_ptr<UpstreamConnection> take_idle();
  // Returns a connection whose last response was read completely and may be reused.
  void release(std::unique_ptr<UpstreamConnection> conn);
  void clear() { idle_.clear(); }
  std::size_t idle_count() const { return idle_.size(); }

  static constexpr auto kMaxIdleAge = std::chrono::seconds(30);

 private:
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

}  // namespace sluice::upstream
